/**
 * ftp-srv 4.6 (npm) configured into each fault it can produce.
 *
 * ftp-srv handles the commands of one TCP segment in order, but commands arriving in separate
 * segments run concurrently, and a multi-line reply is written line by line: a pipelined USER or
 * AUTH TLS gets its `230`/`331`/`234` written into the middle of the `211-` FEAT reply (about one
 * check in three here). The engine takes such a reply out, in command order, and goes on in
 * lock-step (obs.pipelining; test/scenarios/pipelining.test.ts asserts it).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { certFixtures, tlsOf } from "../harness/certs.js";
import type { RunningServer } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { RawFtpClient } from "../harness/ftpclient.js";
import { FTPSRV_USER, type FtpSrvOptions, startFtpSrv } from "../harness/ftpsrv.js";
import { check, checkRepeatedly, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function ftpsrv(opts: FtpSrvOptions): Promise<RunningServer> {
  const s = await startFtpSrv(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const carol = (extra: Record<string, unknown> = {}) => ({ user: FTPSRV_USER.user, ...extra });

/** The FEAT interleave (see the header); every check that pipelines FEAT can hit it. */

// Not produced: FTPS_REQUIRED and DATA_TLS_REQUIRED (ftp-srv has no switch to require TLS),
// SERVER_BUSY (no connection limit of its own: an application sets the Node server's
// maxConnections, which closes extra connections without a word, see CONNECTION_CLOSED below),
// PASV_PORTS_BLOCKED/PASV_ADDRESS_* (network.test.ts covers them with namespaces).
describe("ftp-srv", requirementsOptions(["root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  const tls = tlsOf(certs.valid);

  test("healthy plain FTP, anonymous, 5 checks in a row → HEALTHY (+ANON_ENABLED)", async () => {
    const s = await ftpsrv({ anonymous: true });
    const r = await checkRepeatedly(5, "HEALTHY", () => check(target(s), { tls: "off", anonymous: true }));
    expectVerdict("healthy plain FTP, anonymous (×5)", "ftp-srv", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
  });

  test("healthy explicit FTPS, user, 5 checks in a row → HEALTHY", async () => {
    const s = await ftpsrv({ tls });
    const r = await checkRepeatedly(5, "HEALTHY", () => check(target(s), { tls: "explicit", ca, ...carol() }, FTPSRV_USER.password));
    expectVerdict("healthy FTPS, user (×5)", "ftp-srv", r, "HEALTHY");
    assert.equal(r.observations.data?.dataTls?.status, "ok");
    assert.deepEqual(r.report.findings, []);
  });

  test("--active over FTPS: PORT/EPRT to the probe → HEALTHY, active mode shown to work", async () => {
    const s = await ftpsrv({ tls });
    const r = await check(target(s), { tls: "explicit", ca, active: true, user: FTPSRV_USER.user }, FTPSRV_USER.password);
    expectVerdict("active mode works (FTPS)", "ftp-srv", r, "HEALTHY");
    assert.equal(r.observations.active?.status, "ok");
  });

  test("--write over FTPS: upload, read back, delete → HEALTHY", async () => {
    const s = await ftpsrv({ tls });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...carol() }, FTPSRV_USER.password);
    expectVerdict("write test (FTPS)", "ftp-srv", r, "HEALTHY");
    assert.equal(r.observations.write?.verified, true);
  });

  test("no pasv_url: PASV refused, EPSV works → HEALTHY", async () => {
    // ftp-srv answers PASV "502 Command not supported" without pasv_url, but EPSV needs no address.
    const s = await ftpsrv({ tls, pasvUrl: null });
    const r = await check(target(s), { tls: "explicit", ca, ...carol() }, FTPSRV_USER.password);
    expectVerdict("PASV refused without pasv_url, EPSV works", "ftp-srv", r, "HEALTHY");
  });

  test("wrong password → AUTH_FAILED", async () => {
    const s = await ftpsrv({ tls });
    const r = await check(target(s), { tls: "explicit", ca, ...carol() }, "not-the-password");
    expectVerdict("wrong password", "ftp-srv", r, "AUTH_FAILED");
    // The login listener's rejection message, after "530 ".
    assert.equal(r.observations.login?.passReply?.text, "530 Invalid username or password");
  });

  test("blacklist PASV and EPSV → PASV_DISABLED", async () => {
    const s = await ftpsrv({ tls, blacklist: ["PASV", "EPSV"] });
    const r = await check(target(s), { tls: "explicit", ca, ...carol() }, FTPSRV_USER.password);
    expectVerdict("PASV and EPSV blacklisted", "ftp-srv", r, "PASV_DISABLED");
  });

  test("no tls option, explicit TLS asked → FTPS_UNSUPPORTED", async () => {
    const s = await ftpsrv({});
    const r = await check(target(s), { tls: "explicit", ...carol() }, FTPSRV_USER.password);
    expectVerdict("AUTH TLS refused (no tls option)", "ftp-srv", r, "FTPS_UNSUPPORTED");
    assert.equal(r.observations.tls?.authReply?.text, "502 Command not supported");
  });

  test("ftps:// URL (implicit), explicit check → IMPLICIT_TLS_PORT", async () => {
    // Silence to plain FTP: the TLS server waits for a ClientHello. No FEAT is ever sent.
    const s = await ftpsrv({ tls, implicit: true });
    const r = await check(target(s), { tls: "explicit", ca, ...carol() }, FTPSRV_USER.password);
    expectVerdict("implicit FTPS port", "ftp-srv", r, "IMPLICIT_TLS_PORT");
  });

  test("user root missing → HOME_DIR_MISSING", async () => {
    // ftp-srv accepts the login without looking at the root; the first LIST says
    // "451 ENOENT: no such file or directory, stat '/…/missing'" (PROTOCOL_VIOLATION before issue 14).
    const s = await ftpsrv({ tls, userRoot: "/nonexistent/ftp-doctor/carol" });
    const r = await check(target(s), { tls: "explicit", ca, ...carol() }, FTPSRV_USER.password);
    expectVerdict("user root missing", "ftp-srv", r, "HOME_DIR_MISSING");
  });

  test("--write into a root the server user cannot write → PERMISSION_DENIED", async () => {
    // Running as nobody in a root-owned 0755 directory: "550 EACCES: permission denied, open '…'".
    const s = await ftpsrv({ tls, userRoot: "/usr/share" });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...carol() }, FTPSRV_USER.password);
    expectVerdict("upload refused (EACCES)", "ftp-srv", r, "PERMISSION_DENIED");
    assert.match(r.observations.write?.storFinalReply?.text ?? r.observations.write?.storReply?.text ?? "", /^550 EACCES/);
  });

  test("expired certificate → TLS_CERT_EXPIRED", async () => {
    const s = await ftpsrv({ tls: tlsOf(certs.expired) });
    expectVerdict("expired certificate", "ftp-srv", await check(target(s), { tls: "explicit", ca }), "TLS_CERT_EXPIRED");
  });

  test("self-signed certificate → TLS_CERT_SELF_SIGNED", async () => {
    const s = await ftpsrv({ tls: tlsOf(certs.selfSigned) });
    expectVerdict("self-signed certificate", "ftp-srv", await check(target(s), { tls: "explicit", ca }), "TLS_CERT_SELF_SIGNED");
  });

  test("server maxConnections 1 while another connection is open → CONNECTION_CLOSED", async () => {
    // Node closes the extra connection at accept: no greeting, no reason. Nothing is pipelined.
    const s = await ftpsrv({ maxConnections: 1 });
    const { client: hog } = await RawFtpClient.connect("127.0.0.1", s.port);
    try {
      const r = await check(target(s), { tls: "off", ...carol() }, FTPSRV_USER.password);
      expectVerdict("closed at accept (maxConnections)", "ftp-srv", r, "CONNECTION_CLOSED");
    } finally {
      hog.close();
    }
  });

  test("missing directory in the URL (ftp://host/no-such-dir/) → PATH_NOT_FOUND", async () => {
    // Expected words: CWD → "550 ENOENT: no such file or directory, stat '…/no-such-dir'"
    const s = await ftpsrv({ tls });
    const r = await check(`ftp://127.0.0.1:${s.port}/no-such-dir/`, { tls: "explicit", ca, ...carol() }, FTPSRV_USER.password);
    expectVerdict("missing URL directory", "ftp-srv", r, "PATH_NOT_FOUND");
  });
});
