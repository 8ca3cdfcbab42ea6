/** Pure-FTPd 1.0.50 (Debian) configured into each fault it can produce. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { startPureFtpd, PUREFTPD_USER, type PureFtpdOptions, type RunningServer } from "../harness/daemons.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { RawFtpClient } from "../harness/ftpclient.js";
import { requirementsOptions } from "../harness/env.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function pureftpd(opts: PureFtpdOptions): Promise<RunningServer> {
  const s = await startPureFtpd(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const bob = (extra: Record<string, unknown> = {}) => ({ user: PUREFTPD_USER.user, ...extra });

// Not produced: ACTIVE_MODE_BLOCKED. Pure-FTPd refuses PORT only to an address other than the
// client's ("500 I won't open a connection to 10.0.0.1 (only to 127.0.0.1)") or to ports below
// 1024, and has no switch to refuse active mode; the probe always sends its own address and a
// high port, so PORT is accepted ("200 PORT command successful").
describe("pure-ftpd", requirementsOptions(["pure-ftpd", "pure-pw", "openssl", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  const tls = tlsOf(certs.valid);

  test("healthy explicit FTPS, virtual user → HEALTHY", async () => {
    const s = await pureftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, ...bob() }, PUREFTPD_USER.password);
    expectVerdict("healthy FTPS (virtual user)", "pure-ftpd", r, "HEALTHY");
    assert.equal(r.report.server.software, "pure-ftpd");
    assert.equal(r.observations.data?.dataTls?.status, "ok");
    assert.deepEqual(r.report.findings, []);
  });

  test("--write: upload, read back and delete over FTPS → HEALTHY", async () => {
    const s = await pureftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...bob() }, PUREFTPD_USER.password);
    expectVerdict("write test (FTPS)", "pure-ftpd", r, "HEALTHY");
    assert.equal(r.observations.write?.verified, true);
    assert.equal(r.observations.write?.deleReply?.code, 250);
  });

  test("--tls=2 with a plain check → FTPS_REQUIRED", async () => {
    const s = await pureftpd({ tls, tlsLevel: 2 });
    const r = await check(target(s), { tls: "off", ...bob() }, PUREFTPD_USER.password);
    expectVerdict("FTPS required (--tls=2)", "pure-ftpd", r, "FTPS_REQUIRED");
    // "421-Sorry, cleartext sessions and weak ciphers are not accepted on this server." at USER.
    assert.match(r.observations.login?.userReply?.text ?? "", /^421-Sorry, cleartext sessions/);
    assert.match(r.report.verdict.remediation.join(" "), /--tls=2/);
  });

  test("-C 1 while another connection is open → SERVER_BUSY", async () => {
    const s = await pureftpd({ tls, extra: { "-C": 1 } });
    const { client: hog } = await RawFtpClient.connect("127.0.0.1", s.port);
    try {
      const r = await check(target(s), { tls: "explicit", ca, ...bob() }, PUREFTPD_USER.password);
      expectVerdict("too many connections from this IP (-C 1)", "pure-ftpd", r, "SERVER_BUSY");
      assert.equal(r.observations.greeting?.reply?.text, "421 Too many connections (1) from this IP");
      assert.equal(r.report.server.software, "pure-ftpd", "identified by its refusal text alone");
      assert.match(r.report.verdict.remediation[0]!, /-C/);
    } finally {
      hog.close();
    }
  });

  test("-n 1000:0 (0 KB quota) with --write → STORAGE_FULL", async () => {
    // Pure-FTPd accepts the upload, then: "552-Transfer aborted (quota) … 552 Quota exceeded:
    // [<file>] won't be saved" (the file is removed).
    const s = await pureftpd({ tls, extra: { "-n": "1000:0" } });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...bob() }, PUREFTPD_USER.password);
    expectVerdict("quota exceeded (-n)", "pure-ftpd", r, "STORAGE_FULL");
    assert.equal(r.observations.write?.storFinalReply?.code, 552);
    assert.match(r.observations.write?.storFinalReply?.text ?? "", /Quota exceeded/);
  });

  test("-k 1 (max disk usage 1%) with --write → STORAGE_FULL", async () => {
    // Refused at STOR, before any data: "552 Disk full - please upload later" (any disk more
    // than 1% used, as every test machine's is).
    const s = await pureftpd({ tls, extra: { "-k": 1 } });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...bob() }, PUREFTPD_USER.password);
    expectVerdict("disk usage limit (-k)", "pure-ftpd", r, "STORAGE_FULL");
    assert.equal(r.observations.write?.storReply?.text, "552 Disk full - please upload later");
  });

  test("wrong password → AUTH_FAILED (after Pure-FTPd's ~5 s penalty)", async () => {
    const s = await pureftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, timeout: 15000, ...bob() }, "not-the-password");
    expectVerdict("wrong password", "pure-ftpd", r, "AUTH_FAILED");
    assert.equal(r.observations.login?.passReply?.text, "530 Login authentication failed");
  });

  test("anonymous logins allowed → HEALTHY with ANON_ENABLED", async () => {
    const s = await pureftpd({ tls, anonymous: true });
    const r = await check(target(s), { tls: "explicit", ca, anonymous: true });
    expectVerdict("anonymous login open", "pure-ftpd", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
  });

  test("--active with a working PORT → HEALTHY", async () => {
    const s = await pureftpd({ tls });
    const r = await check(target(s), { tls: "explicit", ca, active: true, ...bob() }, PUREFTPD_USER.password);
    expectVerdict("active mode works", "pure-ftpd", r, "HEALTHY");
    assert.equal(r.observations.active?.status, "ok");
  });

  test("-N (NAT mode: active only) → PASV_DISABLED, active mode shown to work", async () => {
    // EPSV and PASV both get "500 Unknown command".
    const s = await pureftpd({ tls, extra: { "-N": true } });
    const r = await check(target(s), { tls: "explicit", ca, active: true, ...bob() }, PUREFTPD_USER.password);
    expectVerdict("passive disabled (-N)", "pure-ftpd", r, "PASV_DISABLED");
    assert.match(r.report.verdict.explanation, /Active mode works/);
  });
});
