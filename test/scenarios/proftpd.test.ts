/** ProFTPD 1.3.8 (Debian) configured into each fault it can produce. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, existsSync, rmSync } from "node:fs";
import path from "node:path";
import { startProftpd, PROFTPD_USER, type ProftpdOptions, type RunningServer } from "../harness/daemons.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { RawFtpClient } from "../harness/ftpclient.js";
import { depsDir, makeTempDir, requirementsOptions, runCommand } from "../harness/env.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function proftpd(opts: ProftpdOptions): Promise<RunningServer> {
  const s = await startProftpd(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const alice = (extra: Record<string, unknown> = {}) => ({ user: PROFTPD_USER.user, ...extra });

describe("proftpd", requirementsOptions(["proftpd", "openssl", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  const tls = tlsOf(certs.valid);

  test("healthy explicit FTPS, virtual user → HEALTHY", async () => {
    const s = await proftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("healthy FTPS (virtual user)", "proftpd", r, "HEALTHY");
    assert.equal(r.report.server.software, "proftpd");
    assert.equal(r.observations.data?.dataTls?.status, "ok");
    assert.equal(r.observations.tls?.legacyAccepted, false);
    // mod_tls requires session reuse on data connections unless TLSOptions NoSessionReuseRequired.
    assert.deepEqual(
      r.report.findings.map((f) => f.code),
      ["TLS_REUSE_REQUIRED"],
    );
  });

  test("wrong password → AUTH_FAILED", async () => {
    const s = await proftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, "not-the-password");
    expectVerdict("wrong password", "proftpd", r, "AUTH_FAILED");
    assert.equal(r.observations.login?.passReply?.text, "530 Login incorrect.");
  });

  test("MaxClientsPerHost 1 while another session is logged in → SERVER_BUSY", async () => {
    const s = await proftpd({ tls, extra: { MaxClientsPerHost: 1 } });
    const { client: hog } = await RawFtpClient.connect("127.0.0.1", s.port);
    try {
      assert.equal((await hog.send(`USER ${PROFTPD_USER.user}`)).code, 331);
      assert.equal((await hog.send(`PASS ${PROFTPD_USER.password}`)).code, 230);
      const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
      expectVerdict("MaxClientsPerHost reached", "proftpd", r, "SERVER_BUSY");
      assert.match(r.report.verdict.remediation.join(" "), /MaxClientsPerHost/);
    } finally {
      hog.close();
    }
  });

  test("TLSProtocol TLSv1 only → TLS_PROTOCOL_OUTDATED", async () => {
    // Real ProFTPD, no Node fallback needed: at OpenSSL 3 it serves TLS 1.0 once the cipher string
    // drops the security level. The probe's modern handshake fails ("unsupported protocol"), its
    // legacy retry (minVersion TLSv1, @SECLEVEL=0) succeeds: that proves the cause.
    const s = await proftpd({ tls, extra: { TLSProtocol: "TLSv1", TLSCipherSuite: "DEFAULT:@SECLEVEL=0" } });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("TLS 1.0 only", "proftpd", r, "TLS_PROTOCOL_OUTDATED");
    assert.equal(r.observations.tls?.legacyRetry?.status, "ok");
  });

  test("TLSProtocol TLSv1.1 TLSv1.2 → HEALTHY with TLS_LEGACY_ACCEPTED", async () => {
    // Not "TLSv1 TLSv1.2": OpenSSL disables every version below a hole in the enabled range, so
    // that server does not accept TLS 1.0 at all (and the side check rightly says so).
    const s = await proftpd({ tls, extra: { TLSProtocol: "TLSv1.1 TLSv1.2", TLSCipherSuite: "DEFAULT:@SECLEVEL=0" } });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("TLS 1.1 still accepted", "proftpd", r, "HEALTHY", { findings: ["TLS_LEGACY_ACCEPTED"] });
    assert.equal(r.observations.tls?.protocol, "TLSv1.2");
    // TLS 1.2 sessions arrive during the handshake: the data connection must still resume it.
    assert.equal(r.observations.data?.dataTls?.reused, true);
  });

  test("<Anonymous> block → HEALTHY with ANON_ENABLED", async () => {
    const s = await proftpd({ tls, anonymous: true });
    const r = await check(target(s), { tls: "explicit", ca, anonymous: true });
    expectVerdict("anonymous login open", "proftpd", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
  });

  test("TLSRequired on, plain check → FTPS_REQUIRED", async () => {
    // DelayEngine off: mod_delay records a bogus duration for a USER that mod_tls refuses in
    // PRE_CMD, and a later session may then sleep for minutes after its refused USER.
    const s = await proftpd({ tls, extra: { TLSRequired: "on", DelayEngine: "off" } });
    const r = await check(target(s), { tls: "off", ...alice() }, PROFTPD_USER.password);
    expectVerdict("FTPS required (TLSRequired on)", "proftpd", r, "FTPS_REQUIRED");
  });

  test('home directory missing → AUTH_FAILED (ProFTPD says "530 Login incorrect.")', async () => {
    // ProFTPD accepts the password, fails to enter the home (no DefaultRoot: "alice chdir(...)
    // failed"; DefaultRoot ~: "unable to set DefaultRoot directory"), and answers exactly as to a
    // wrong password, then closes. On the wire that is FAULTS.md's AUTH_FAILED signature (331 then
    // 530), not HOME_DIR_MISSING ("login accepted, then ..."); the remediation names the cause.
    const variants: Record<string, string>[] = [{}, { DefaultRoot: "~" }];
    for (const extra of variants) {
      const s = await proftpd({ tls, extra });
      rmSync(path.join(s.dir, "home", PROFTPD_USER.user), { recursive: true, force: true });
      const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
      expectVerdict(`missing home${"DefaultRoot" in extra ? " (DefaultRoot ~)" : ""}`, "proftpd", r, "AUTH_FAILED");
      assert.equal(r.observations.login?.passReply?.text, "530 Login incorrect.");
      assert.match(r.report.verdict.remediation.join(" "), /DefaultRoot/);
      assert.match(s.log(), /chdir\(.*\) failed|unable to set DefaultRoot directory/);
    }
  });

  test("implicit TLS against the explicit port → TLS_HANDSHAKE_FAILED", async () => {
    const s = await proftpd({ tls });
    const r = await check(`ftps://127.0.0.1:${s.port}`, { ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("implicit TLS on an explicit port", "proftpd", r, "TLS_HANDSHAKE_FAILED");
    assert.match(r.report.verdict.title, /not an implicit-FTPS port/);
  });

  test("<Limit LOGIN> DenyAll → CONNECTION_CLOSED (closed before the greeting)", async () => {
    // At server level ProFTPD applies <Limit LOGIN> to the connection itself: it logs
    // "Connection from 127.0.0.1 [127.0.0.1] denied" and closes without a word.
    const s = await proftpd({ tls, rawConfig: "<Limit LOGIN>\n  DenyAll\n</Limit>" });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("<Limit LOGIN> DenyAll", "proftpd", r, "CONNECTION_CLOSED");
    assert.match(s.log(), /Connection from 127\.0\.0\.1 \[127\.0\.0\.1\] denied/);
  });

  test('<Limit LOGIN> DenyUser alice → AUTH_FAILED (331 then "530 Login incorrect.")', async () => {
    // The user is denied by policy, but ProFTPD asks for the password first and answers like a
    // wrong one ("USER alice (Login failed): Limit access denies login" only in its log), so the
    // wire shows FAULTS.md's AUTH_FAILED signature, not a 530 straight after USER.
    const s = await proftpd({ tls, rawConfig: "<Limit LOGIN>\n  DenyUser alice\n</Limit>" });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("<Limit LOGIN> DenyUser", "proftpd", r, "AUTH_FAILED");
    assert.match(r.report.verdict.remediation.join(" "), /Limit LOGIN/);
  });

  test("--write: upload, read back and delete over FTPS → HEALTHY", async () => {
    const s = await proftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...alice() }, PROFTPD_USER.password);
    expectVerdict("write test (FTPS)", "proftpd", r, "HEALTHY");
    assert.equal(r.observations.write?.verified, true);
  });

  test("--active over FTPS → HEALTHY", async () => {
    const s = await proftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, active: true, ...alice() }, PROFTPD_USER.password);
    expectVerdict("active mode works (FTPS)", "proftpd", r, "HEALTHY");
    assert.equal(r.observations.active?.status, "ok");
  });

  test("mod_quotatab hard upload limit of 10 KB with --write → STORAGE_FULL", async (t) => {
    const ftpquota = path.join(depsDir(), "usr", "sbin", "ftpquota");
    if (!existsSync(ftpquota)) return t.skip(`no ${ftpquota}`);
    const q = makeTempDir(undefined, "ftpquota-");
    try {
      const limits = path.join(q.path, "ftpquota.limittab");
      const tally = path.join(q.path, "ftpquota.tallytab");
      for (const args of [
        ["--create-table", "--type=limit", `--table-path=${limits}`],
        ["--create-table", "--type=tally", `--table-path=${tally}`],
        [
          "--add-record",
          "--type=limit",
          `--table-path=${limits}`,
          `--name=${PROFTPD_USER.user}`,
          "--quota-type=user",
          "--bytes-upload=10",
          "--units=Kb",
          "--limit-type=hard",
        ],
      ]) {
        const r = await runCommand(ftpquota, args, { timeoutMs: 15_000 });
        assert.equal(r.code, 0, `ftpquota ${args.join(" ")}: ${r.stderr}`);
      }
      // The session (user nobody) updates the tally table.
      chmodSync(q.path, 0o755);
      chmodSync(tally, 0o666);
      const s = await proftpd({
        tls,
        rawConfig: [
          "LoadModule mod_quotatab.c",
          "LoadModule mod_quotatab_file.c",
          "QuotaEngine on",
          `QuotaLimitTable file:${limits}`,
          `QuotaTallyTable file:${tally}`,
        ].join("\n"),
      });
      const r = await check(target(s), { tls: "explicit", ca, write: true, ...alice() }, PROFTPD_USER.password);
      // "150 …" then "552-Transfer aborted. Disk quota exceeded | … | 552 STOR: notice: quota reached: '<file>' removed"
      expectVerdict("upload quota exceeded (mod_quotatab)", "proftpd", r, "STORAGE_FULL");
      assert.match(r.observations.write?.storFinalReply?.text ?? "", /^552-Transfer aborted\. Disk quota exceeded/);
      assert.match(r.report.verdict.remediation.join(" "), /QuotaLimits|ftpquota/);
    } finally {
      q.remove();
    }
  });

  test("<Limit WRITE> DenyAll with --write → PERMISSION_DENIED", async () => {
    const s = await proftpd({ tls, rawConfig: "<Limit WRITE>\n  DenyAll\n</Limit>" });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...alice() }, PROFTPD_USER.password);
    expectVerdict("uploads denied (<Limit WRITE>)", "proftpd", r, "PERMISSION_DENIED");
    assert.match(r.observations.write?.storReply?.text ?? "", /^550 .*Operation not permitted/);
  });

  test("<Limit EPSV PASV> DenyAll → PASV_DISABLED", async () => {
    // "501 EPSV: Operation not permitted", "501 PASV: Operation not permitted".
    const s = await proftpd({ tls, rawConfig: "<Limit EPSV PASV>\n  DenyAll\n</Limit>" });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("passive denied (<Limit EPSV PASV>)", "proftpd", r, "PASV_DISABLED");
  });

  test("TLSRequired data with a plain check → DATA_TLS_REQUIRED", async () => {
    // Login works in clear text; LIST gets "522 SSL/TLS required on the data channel".
    const s = await proftpd({ tls, extra: { TLSRequired: "data" } });
    const r = await check(target(s), { tls: "off", ...alice() }, PROFTPD_USER.password);
    expectVerdict("data TLS required (TLSRequired data)", "proftpd", r, "DATA_TLS_REQUIRED", { findings: ["CLEARTEXT_AUTH_ALLOWED"] });
  });

  test("MasqueradeAddress of a third host → PASV_ADDRESS_WRONG, never connected to", async () => {
    const s = await proftpd({ tls, extra: { MasqueradeAddress: "192.0.2.77" } });
    const r = await check(target(s), { tls: "explicit", ca, ...alice() }, PROFTPD_USER.password);
    expectVerdict("PASV advertises a third host (MasqueradeAddress)", "proftpd", r, "PASV_ADDRESS_WRONG");
    assert.ok(!r.observations.data?.passive.some((p) => p.connectedHost === "192.0.2.77"), "no connection to the advertised third address");
    assert.match(r.report.verdict.remediation.join(" "), /MasqueradeAddress/);
  });

  test("TimeoutIdle 1 with --idle 3 → IDLE_TIMEOUT", async () => {
    const s = await proftpd({ tls, extra: { TimeoutIdle: 1 } });
    const r = await check(target(s), { tls: "explicit", ca, idle: 3, ...alice() }, PROFTPD_USER.password);
    expectVerdict("idle session dropped (TimeoutIdle)", "proftpd", r, "IDLE_TIMEOUT");
  });
});
