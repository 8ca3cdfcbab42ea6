/** GNU inetutils ftpd 2.4 (Debian inetutils-ftpd, unpacked), inetd-style under our listener, configured into each fault it can produce. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type RunningServer, VSFTPD_USER } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { RawFtpClient } from "../harness/ftpclient.js";
import { type InetdFtpdOptions, startInetutilsFtpd } from "../harness/inetdFtpd.js";
import { check, expectVerdict } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function inetutils(opts: InetdFtpdOptions): Promise<RunningServer> {
  const s = await startInetutilsFtpd(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const local = (extra: Record<string, unknown> = {}) => ({ user: VSFTPD_USER.user, ...extra });

// Not produced: anything TLS (no TLS at all: FTPS_UNSUPPORTED is its only TLS verdict), SERVER_BUSY
// (no limits of its own; under a super-server the limit is xinetd's, which closes silently:
// CONNECTION_CLOSED below), PASV_DISABLED (no switch; passive ports are the kernel's ephemeral ones).
describe("inetutils ftpd", requirementsOptions(["inetutils-ftpd", "unshare", "root"]), () => {
  test("healthy plain FTP, anonymous → HEALTHY (+ANON_ENABLED)", async () => {
    const s = await inetutils({ anonymous: true });
    const r = await check(target(s), { tls: "off", anonymous: true });
    expectVerdict("healthy plain FTP (anonymous)", "inetutils", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
    assert.equal(r.report.server.software, "inetutils");
  });

  test("--active: PORT/EPRT to the probe → HEALTHY, active mode shown to work", async () => {
    const s = await inetutils({ anonymous: true });
    const r = await check(target(s), { tls: "off", anonymous: true, active: true });
    expectVerdict("active mode works", "inetutils", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.equal(r.observations.active?.status, "ok");
  });

  test("--write with a local user → HEALTHY (+CLEARTEXT_AUTH_ALLOWED)", async () => {
    const s = await inetutils({});
    const r = await check(target(s), { tls: "off", write: true, ...local() }, VSFTPD_USER.password);
    expectVerdict("write test (local user)", "inetutils", r, "HEALTHY", { findings: ["CLEARTEXT_AUTH_ALLOWED"] });
    assert.equal(r.observations.write?.verified, true);
  });

  test("wrong password → AUTH_FAILED", async () => {
    const s = await inetutils({});
    const r = await check(target(s), { tls: "off", ...local() }, "not-the-password");
    expectVerdict("wrong password", "inetutils", r, "AUTH_FAILED");
    assert.equal(r.observations.login?.passReply?.text, "530 Login incorrect.");
  });

  test("user listed in /etc/ftpusers → AUTH_FAILED (same words as a wrong password)", async () => {
    // RFC 2577: "331 Password required for ftpdoctor." then "530 Login incorrect." - nothing on the
    // wire tells the deny list from a wrong password, so the verdict cannot be LOGIN_POLICY_DENIED.
    const s = await inetutils({ denyUser: true });
    const r = await check(target(s), { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("user in /etc/ftpusers", "inetutils", r, "AUTH_FAILED");
  });

  test("home missing → HOME_DIR_MISSING", async () => {
    // inetutils logs the user in anyway, in "/", and says so in the 230 text.
    const s = await inetutils({ home: "missing" });
    const r = await check(target(s), { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("home missing (logged in at /)", "inetutils", r, "HOME_DIR_MISSING");
  });

  test("--write into a home the user cannot write → PERMISSION_DENIED", async () => {
    const s = await inetutils({ home: "readonly" });
    const r = await check(target(s), { tls: "off", write: true, ...local() }, VSFTPD_USER.password);
    expectVerdict("upload refused (read-only home)", "inetutils", r, "PERMISSION_DENIED");
    assert.match(r.observations.write?.storReply?.text ?? "", /^553 .*: Permission denied\.$/);
  });

  test("explicit TLS asked → FTPS_UNSUPPORTED", async () => {
    const s = await inetutils({});
    const r = await check(target(s), { tls: "explicit", ...local() }, VSFTPD_USER.password);
    expectVerdict("AUTH TLS refused (no TLS in inetutils)", "inetutils", r, "FTPS_UNSUPPORTED");
    assert.equal(r.observations.tls?.authReply?.text, "502 AUTH command not implemented.");
  });

  test("super-server session limit reached → CONNECTION_CLOSED", async () => {
    // Like xinetd `instances = 1`: the extra connection is closed at accept, without a word.
    const s = await inetutils({ maxSessions: 1 });
    const { client: hog } = await RawFtpClient.connect("127.0.0.1", s.port);
    try {
      const r = await check(target(s), { tls: "off", ...local() }, VSFTPD_USER.password);
      expectVerdict("closed at accept (super-server limit)", "inetutils", r, "CONNECTION_CLOSED");
    } finally {
      hog.close();
    }
  });

  test("missing directory in the URL (ftp://host/no-such-dir/) → PATH_NOT_FOUND", async () => {
    // Expected words: CWD → "550 no-such-dir: No such file or directory."
    const s = await inetutils({});
    const r = await check(`ftp://127.0.0.1:${s.port}/no-such-dir/`, { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("missing URL directory", "inetutils", r, "PATH_NOT_FOUND");
  });

  test("forbidden directory in the URL (ftp://host/secret/) → PATH_DENIED", async () => {
    // <home>/secret is root-owned 0700. The URL path is relative to the login directory (RFC 1738:
    // CWD secret, as curl sends it), and the server answers "550 secret: Permission denied."
    const s = await inetutils({ forbiddenDir: "secret" });
    const r = await check(`ftp://127.0.0.1:${s.port}/secret/`, { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("forbidden URL directory", "inetutils", r, "PATH_DENIED");
  });
});
