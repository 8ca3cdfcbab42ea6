/** vsftpd 3.0.3 (Debian) configured into each fault it can produce. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { mkdirSync, chmodSync, chownSync, writeFileSync } from "node:fs";
import path from "node:path";
import { startVsftpd, ensureVsftpdUser, VSFTPD_USER, type RunningServer, type VsftpdOptions } from "../harness/daemons.js";
import { certFixtures, tlsOf, withoutChain } from "../harness/certs.js";
import { requirementsOptions, makeTempDir } from "../harness/env.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function vsftpd(opts: VsftpdOptions): Promise<RunningServer> {
  const s = await startVsftpd(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const local = (extra: Record<string, unknown> = {}) => ({ user: VSFTPD_USER.user, ...extra });

describe("vsftpd", requirementsOptions(["vsftpd", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);

  test("healthy plain FTP, anonymous → HEALTHY (+ANON_ENABLED)", async () => {
    const s = await vsftpd({});
    const r = await check(target(s), { tls: "off" });
    expectVerdict("healthy plain FTP (anonymous)", "vsftpd", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.equal(r.report.server.software, "vsftpd");
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
  });

  test("healthy explicit FTPS with a local user, CA-issued certificate → HEALTHY", async () => {
    const s = await vsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
    const r = await check(target(s), { tls: "explicit", ca, ...local() }, VSFTPD_USER.password);
    expectVerdict("healthy FTPS (local user)", "vsftpd", r, "HEALTHY");
    assert.equal(r.observations.data?.dataTls?.status, "ok");
    assert.equal(r.observations.data?.dataTls?.reused, true, "data TLS resumed the control session");
    assert.equal(r.observations.tls?.legacyAccepted, false);
    // vsftpd's default require_ssl_reuse=YES: clients that do not resume fail (tlsReuse.test.ts).
    assert.deepEqual(
      r.report.findings.map((f) => f.code),
      ["TLS_REUSE_REQUIRED"],
    );
  });

  test("--write: upload, read back and delete → HEALTHY", async () => {
    const s = await vsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...local() }, VSFTPD_USER.password);
    expectVerdict("write test (FTPS)", "vsftpd", r, "HEALTHY");
    assert.equal(r.observations.write?.verified, true);
    assert.equal(r.observations.write?.deleReply?.code, 250);
  });

  test("--active with port_enable=YES → HEALTHY", async () => {
    const s = await vsftpd({});
    expectVerdict("active mode works", "vsftpd", await check(target(s), { tls: "off", active: true }), "HEALTHY");
  });

  test("plain login refused: force_local_logins_ssl → FTPS_REQUIRED", async () => {
    const s = await vsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
    expectVerdict(
      "FTPS required for login",
      "vsftpd",
      await check(target(s), { tls: "off", ...local() }, VSFTPD_USER.password),
      "FTPS_REQUIRED",
    );
  });

  test("no TLS configured, explicit TLS asked → FTPS_UNSUPPORTED", async () => {
    const s = await vsftpd({});
    expectVerdict("AUTH TLS refused (no ssl_enable)", "vsftpd", await check(target(s), { tls: "explicit" }), "FTPS_UNSUPPORTED");
  });

  test("no TLS configured, auto → HEALTHY with TLS_FALLBACK_PLAIN", async () => {
    const s = await vsftpd({});
    expectVerdict("auto falls back to plain", "vsftpd", await check(target(s)), "HEALTHY", { findings: ["TLS_FALLBACK_PLAIN"] });
  });

  test("expired certificate → TLS_CERT_EXPIRED", async () => {
    const s = await vsftpd({ tls: tlsOf(certs.expired) });
    expectVerdict("expired certificate", "vsftpd", await check(target(s), { tls: "explicit", ca }), "TLS_CERT_EXPIRED");
  });

  test("self-signed certificate → TLS_CERT_SELF_SIGNED", async () => {
    const s = await vsftpd({ tls: tlsOf(certs.selfSigned) });
    expectVerdict("self-signed certificate", "vsftpd", await check(target(s), { tls: "explicit", ca }), "TLS_CERT_SELF_SIGNED");
  });

  test("intermediate not sent → TLS_CERT_UNTRUSTED", async () => {
    const s = await vsftpd({ tls: withoutChain(certs.missingIntermediate) });
    const r = await check(target(s), { tls: "explicit", ca });
    expectVerdict("missing intermediate", "vsftpd", r, "TLS_CERT_UNTRUSTED");
    assert.equal(r.observations.tls?.chain.length, 1);
  });

  test("certificate for another name → TLS_HOSTNAME_MISMATCH", async () => {
    const s = await vsftpd({ tls: tlsOf(certs.wrongSan) });
    const r = await check(target(s), { tls: "explicit", ca });
    expectVerdict("wrong SAN", "vsftpd", r, "TLS_HOSTNAME_MISMATCH");
    assert.match(r.report.verdict.explanation, /provider\.example/);
  });

  test("certificate expiring in 5 days → HEALTHY with TLS_CERT_EXPIRING", async () => {
    const s = await vsftpd({ tls: tlsOf(certs.expiringSoon) });
    expectVerdict("certificate expiring soon", "vsftpd", await check(target(s), { tls: "explicit", ca }), "HEALTHY", {
      findings: ["TLS_CERT_EXPIRING"],
    });
  });

  test("wrong password → AUTH_FAILED", async () => {
    const s = await vsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
    expectVerdict(
      "wrong password",
      "vsftpd",
      await check(target(s), { tls: "explicit", ca, ...local() }, "not-the-password"),
      "AUTH_FAILED",
    );
  });

  test("user on the deny list → LOGIN_POLICY_DENIED", async () => {
    const dir = makeTempDir();
    const list = path.join(dir.path, "user_list");
    writeFileSync(list, `${VSFTPD_USER.user}\n`);
    try {
      const s = await vsftpd({
        localUsers: true,
        tls: tlsOf(certs.valid),
        extra: { userlist_enable: true, userlist_deny: true, userlist_file: list },
      });
      expectVerdict(
        "user in userlist (deny)",
        "vsftpd",
        await check(target(s), { tls: "explicit", ca, ...local() }, VSFTPD_USER.password),
        "LOGIN_POLICY_DENIED",
      );
    } finally {
      dir.remove();
    }
  });

  test("chroot into a writable home → CHROOT_WRITABLE_ROOT", async () => {
    const account = await ensureVsftpdUser();
    const dir = makeTempDir();
    const home = path.join(dir.path, "home");
    mkdirSync(home);
    chownSync(home, account.uid, account.gid);
    chmodSync(home, 0o755);
    try {
      const s = await vsftpd({ localUsers: true, localRoot: home, tls: tlsOf(certs.valid), extra: { chroot_local_user: true } });
      expectVerdict(
        "writable chroot",
        "vsftpd",
        await check(target(s), { tls: "explicit", ca, ...local() }, VSFTPD_USER.password),
        "CHROOT_WRITABLE_ROOT",
      );
    } finally {
      dir.remove();
    }
  });

  test("home directory missing → HOME_DIR_MISSING", async () => {
    // vsftpd ignores a missing local_root but dies on a missing anon_root after login.
    const s = await vsftpd({ anonRoot: "/nonexistent/ftp-doctor-anon", tls: tlsOf(certs.valid) });
    expectVerdict("missing home", "vsftpd", await check(target(s), { tls: "explicit", ca, anonymous: true }), "HOME_DIR_MISSING");
  });

  test("broken secure_chroot_dir → SERVER_CONFIG_ERROR quoting the server", async () => {
    const s = await vsftpd({ extra: { secure_chroot_dir: "/nonexistent/ftp-doctor-empty" } });
    const r = await check(target(s), { tls: "off" });
    expectVerdict("500 OOPS at greeting", "vsftpd", r, "SERVER_CONFIG_ERROR");
    assert.match(r.report.verdict.explanation, /secure_chroot_dir/);
  });

  test("anonymous upload refused → PERMISSION_DENIED (--write)", async () => {
    const s = await vsftpd({});
    expectVerdict("upload not permitted", "vsftpd", await check(target(s), { tls: "off", write: true }), "PERMISSION_DENIED");
  });

  test("pasv_enable=NO → PASV_DISABLED", async () => {
    const s = await vsftpd({ extra: { pasv_enable: false } });
    expectVerdict("passive disabled", "vsftpd", await check(target(s), { tls: "off" }), "PASV_DISABLED");
  });

  test("port_enable=NO with --active → ACTIVE_MODE_BLOCKED", async () => {
    const s = await vsftpd({ extra: { port_enable: false } });
    expectVerdict("active mode refused", "vsftpd", await check(target(s), { tls: "off", active: true }), "ACTIVE_MODE_BLOCKED");
  });

  test("idle_session_timeout=1 with --idle 3 → IDLE_TIMEOUT", async () => {
    const s = await vsftpd({ extra: { idle_session_timeout: 1 } });
    expectVerdict("idle session dropped", "vsftpd", await check(target(s), { tls: "off", idle: 3 }), "IDLE_TIMEOUT");
  });

  test("max_per_ip=1 while another session is open → SERVER_BUSY", async () => {
    const s = await vsftpd({ extra: { max_per_ip: 1 } });
    const hog = net.connect(s.port, "127.0.0.1");
    await new Promise<void>((r) => hog.once("data", () => r()));
    try {
      const r = await check(target(s), { tls: "off" });
      expectVerdict("too many connections from this IP", "vsftpd", r, "SERVER_BUSY");
      assert.match(r.report.verdict.remediation[0]!, /max_clients|max_per_ip/);
    } finally {
      hog.destroy();
    }
  });

  test("force_anon_data_ssl with a plain check → DATA_TLS_REQUIRED", async () => {
    const s = await vsftpd({ tls: tlsOf(certs.valid), extra: { force_anon_data_ssl: true } });
    expectVerdict("data must be encrypted", "vsftpd", await check(target(s), { tls: "off" }), "DATA_TLS_REQUIRED");
  });

  test("implicit_ssl=YES probed as plain FTP → IMPLICIT_TLS_PORT", async () => {
    const s = await vsftpd({ tls: tlsOf(certs.valid), extra: { implicit_ssl: true } });
    const r = await check(target(s), { tls: "auto" });
    expectVerdict("implicit FTPS port (vsftpd)", "vsftpd", r, "IMPLICIT_TLS_PORT");
    const h = await check(`ftps://127.0.0.1:${s.port}`, { ca });
    expectVerdict("implicit FTPS via ftps:// → healthy", "vsftpd", h, "HEALTHY", { findings: ["ANON_ENABLED"] });
  });

  test("pasv_address in the same /24 where nothing listens → PASV_ADDRESS_WRONG (EPSV works)", async () => {
    const s = await vsftpd({ extra: { pasv_address: "127.0.0.9" } });
    const r = await check(target(s), { tls: "off" });
    expectVerdict("PASV advertises a dead address", "vsftpd", r, "PASV_ADDRESS_WRONG");
    // EPSV carries no address, so the data channel itself worked: PASV clients are the ones that fail.
    assert.equal(r.observations.data?.status, "ok");
  });

  test("pasv_address of a third host → PASV_ADDRESS_WRONG, never connected to", async () => {
    const s = await vsftpd({ extra: { pasv_address: "192.0.2.77" } });
    const r = await check(target(s), { tls: "off" });
    expectVerdict("PASV advertises a third host", "vsftpd", r, "PASV_ADDRESS_WRONG");
    assert.ok(!r.observations.data?.passive.some((p) => p.connectedHost === "192.0.2.77"), "no connection to the advertised third address");
    assert.ok(!r.report.transcript.some((l) => /connection to 192\.0\.2\.77/.test(l.text)));
  });
});
