/** netkit ftpd-ssl 0.17 (Debian `ftpd` → ftpd-ssl, unpacked; `in.ftpd`), inetd-style under our listener, configured into each fault it can produce. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { type RunningServer, VSFTPD_USER } from "../harness/daemons.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { requirementsOptions } from "../harness/env.js";
import { type NetkitFtpdOptions, startNetkitFtpd } from "../harness/inetdFtpd.js";
import { check, expectVerdict } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function netkit(opts: NetkitFtpdOptions): Promise<RunningServer> {
  const s = await startNetkitFtpd(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const local = (extra: Record<string, unknown> = {}) => ({ user: VSFTPD_USER.user, ...extra });

// Not produced: a working FTPS session. This in.ftpd never opens the certificate it is given
// (`-z cert=…`, `-z key=…`, or the default /etc/ftpd-ssl/ftpd.pem, checked with strace) when
// started per connection: AUTH TLS is accepted and every handshake fails ("SSL_accept error …
// no shared cipher"), so its TLS paths stop at TLS_HANDSHAKE_FAILED below. SERVER_BUSY: no limit
// of its own (the super-server's closes silently: see inetutils.test.ts).
describe("netkit ftpd", requirementsOptions(["in.ftpd", "unshare", "root"]), () => {
  test("healthy plain FTP, anonymous → HEALTHY (+ANON_ENABLED)", async () => {
    // LIST runs /bin/ls inside the anonymous chroot: with no ~ftp/bin/ls the listing is empty.
    const s = await netkit({ anonymous: true });
    const r = await check(target(s), { tls: "off", anonymous: true });
    expectVerdict("healthy plain FTP (anonymous)", "netkit", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.equal(r.report.server.software, "netkit");
  });

  test("--active: PORT/EPRT to the probe → HEALTHY, active mode shown to work", async () => {
    const s = await netkit({ anonymous: true });
    const r = await check(target(s), { tls: "off", anonymous: true, active: true });
    expectVerdict("active mode works", "netkit", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.equal(r.observations.active?.status, "ok");
  });

  test("--write with a local user → HEALTHY (+CLEARTEXT_AUTH_ALLOWED)", async () => {
    const s = await netkit({});
    const r = await check(target(s), { tls: "off", write: true, ...local() }, VSFTPD_USER.password);
    expectVerdict("write test (local user)", "netkit", r, "HEALTHY", { findings: ["CLEARTEXT_AUTH_ALLOWED"] });
    assert.equal(r.observations.write?.verified, true);
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
  });

  test("wrong password → AUTH_FAILED (after PAM's ~2 s failure delay)", async () => {
    const s = await netkit({});
    const r = await check(target(s), { tls: "off", timeout: 15000, ...local() }, "not-the-password");
    expectVerdict("wrong password", "netkit", r, "AUTH_FAILED");
    assert.equal(r.observations.login?.passReply?.text, "530 Login incorrect.");
  });

  test("user listed in /etc/ftpusers → AUTH_FAILED (same words as a wrong password)", async () => {
    // pam_listfile refuses after the password: "331 Password required for …" then "530 Login incorrect.".
    const s = await netkit({ denyUser: true });
    const r = await check(target(s), { tls: "off", timeout: 15000, ...local() }, VSFTPD_USER.password);
    expectVerdict("user in /etc/ftpusers", "netkit", r, "AUTH_FAILED");
  });

  test("home missing → HOME_DIR_MISSING", async () => {
    // Logged in anyway: "230- No directory! Logging in with home=/" (then /etc/motd as 230- lines).
    const s = await netkit({ home: "missing" });
    const r = await check(target(s), { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("home missing (logged in at /)", "netkit", r, "HOME_DIR_MISSING");
  });

  test("--write into a home the user cannot write → PERMISSION_DENIED", async () => {
    const s = await netkit({ home: "readonly" });
    const r = await check(target(s), { tls: "off", write: true, ...local() }, VSFTPD_USER.password);
    expectVerdict("upload refused (read-only home)", "netkit", r, "PERMISSION_DENIED");
    assert.match(r.observations.write?.storReply?.text ?? "", /^553 .*: Permission denied\.$/);
  });

  test("-z secure with a plain check → FTPS_REQUIRED", async () => {
    const s = await netkit({ tls: tlsOf(certFixtures().valid), tlsRequired: true });
    const r = await check(target(s), { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("FTPS required (-z secure)", "netkit", r, "FTPS_REQUIRED");
    assert.equal(r.observations.login?.userReply?.text, "504 SSL is mandatory.");
  });

  test("AUTH TLS accepted without a usable certificate → TLS_HANDSHAKE_FAILED", async () => {
    // "234 AUTH TLS OK." then the server aborts the handshake (handshake_failure alert; its own
    // log: "SSL_accept error … no shared cipher"), with or without a cert given: see the header.
    const s = await netkit({});
    const r = await check(target(s), { tls: "explicit", ...local() }, VSFTPD_USER.password);
    expectVerdict("TLS offered without a certificate", "netkit", r, "TLS_HANDSHAKE_FAILED");
    assert.equal(r.observations.tls?.authReply?.text, "234 AUTH TLS OK.");
  });

  test("missing directory in the URL (ftp://host/no-such-dir/) → PATH_NOT_FOUND", async () => {
    // Expected words: CWD → "550 no-such-dir: No such file or directory."
    const s = await netkit({});
    const r = await check(`ftp://127.0.0.1:${s.port}/no-such-dir/`, { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("missing URL directory", "netkit", r, "PATH_NOT_FOUND");
  });

  test("forbidden directory in the URL (ftp://host/secret/) → PATH_DENIED", async () => {
    // <home>/secret is root-owned 0700. The URL path is relative to the login directory (RFC 1738:
    // CWD secret, as curl sends it), and the server answers "550 secret: Permission denied."
    const s = await netkit({ forbiddenDir: "secret" });
    const r = await check(`ftp://127.0.0.1:${s.port}/secret/`, { tls: "off", ...local() }, VSFTPD_USER.password);
    expectVerdict("forbidden URL directory", "netkit", r, "PATH_DENIED");
  });
});
