/** Twisted 22.4 FTP server (twisted.protocols.ftp, Debian python3-twisted; plain FTP only) configured into each fault it can produce. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { RunningServer } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { RawFtpClient } from "../harness/ftpclient.js";
import { startTwistedFtpd, TWISTED_USER, type TwistedFtpdOptions } from "../harness/twisted.js";
import { check, expectVerdict } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function twisted(opts: TwistedFtpdOptions): Promise<RunningServer> {
  const s = await startTwistedFtpd(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const erin = (extra: Record<string, unknown> = {}) => ({ user: TWISTED_USER.user, ...extra });

/**
 * Twisted's ftp_PASV returns a Deferred that fires only when the data connection arrives, and the
 * protocol handles no further command until then: the EPSV pipelined behind PASV is never answered.
 * The engine starts again in lock-step on a fresh connection (test/scenarios/pipelining.test.ts).
 */

// Not produced: anything TLS but FTPS_UNSUPPORTED (no AUTH TLS in twisted.protocols.ftp),
// PASV_DISABLED / PASV_ADDRESS_* (PASV always on, always the control socket's address),
// SERVER_CONFIG_ERROR, STORAGE_FULL (no quota).
describe("twisted ftp", requirementsOptions(["python3", "root"]), () => {
  test("healthy plain FTP, anonymous → HEALTHY (+ANON_ENABLED, EPSV_UNSUPPORTED)", async () => {
    // Observed: REPLY_TIMEOUT "during session setup" (EPSV after PASV unanswered).
    const s = await twisted({ anonymous: true });
    const r = await check(target(s), { tls: "off", anonymous: true });
    expectVerdict("healthy plain FTP (anonymous)", "twisted", r, "HEALTHY", { findings: ["ANON_ENABLED", "EPSV_UNSUPPORTED"] });
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
  });

  test("--active: PORT to the probe → HEALTHY, active mode shown to work", async () => {
    const s = await twisted({ anonymous: true });
    const r = await check(target(s), { tls: "off", anonymous: true, active: true });
    expectVerdict("active mode works", "twisted", r, "HEALTHY", { findings: ["ANON_ENABLED", "EPSV_UNSUPPORTED"] });
    assert.equal(r.observations.active?.status, "ok");
  });

  test("--write with a user → HEALTHY (+CLEARTEXT_AUTH_ALLOWED)", async () => {
    const s = await twisted({});
    const r = await check(target(s), { tls: "off", write: true, ...erin() }, TWISTED_USER.password);
    expectVerdict("write test (user)", "twisted", r, "HEALTHY", { findings: ["CLEARTEXT_AUTH_ALLOWED"] });
    assert.equal(r.observations.write?.verified, true);
  });

  test("wrong password → AUTH_FAILED", async () => {
    const s = await twisted({});
    const r = await check(target(s), { tls: "off", ...erin() }, "not-the-password");
    expectVerdict("wrong password", "twisted", r, "AUTH_FAILED");
    assert.equal(r.observations.login?.passReply?.text, "530 Sorry, Authentication failed.");
    assert.equal(r.report.server.software, "twisted");
  });

  test("connectionLimit reached → SERVER_BUSY", async () => {
    const s = await twisted({ connectionLimit: 1 });
    const { client: hog } = await RawFtpClient.connect("127.0.0.1", s.port);
    try {
      const r = await check(target(s), { tls: "off", ...erin() }, TWISTED_USER.password);
      expectVerdict("too many users (connectionLimit)", "twisted", r, "SERVER_BUSY");
      assert.equal(r.observations.greeting?.reply?.text, "421 Too many users right now, try again in a few minutes.");
    } finally {
      hog.close();
    }
  });

  test("explicit TLS asked → FTPS_UNSUPPORTED", async () => {
    // Before login Twisted answers AUTH with "530 Please login with USER and PASS." (after login:
    // "502 Command 'AUTH' not implemented").
    const s = await twisted({});
    const r = await check(target(s), { tls: "explicit", ...erin() }, TWISTED_USER.password);
    expectVerdict("AUTH TLS refused (no TLS in Twisted)", "twisted", r, "FTPS_UNSUPPORTED");
  });

  test("home missing → HOME_DIR_MISSING", async () => {
    // Login works; LIST says "550 []: No such file or directory." (the path as a Python list).
    const s = await twisted({ home: "missing" });
    const r = await check(target(s), { tls: "off", ...erin() }, TWISTED_USER.password);
    expectVerdict("home missing", "twisted", r, "HOME_DIR_MISSING");
  });

  test("--write into a home the server user cannot write → PERMISSION_DENIED", async () => {
    // "550 <file>: Permission denied." (Twisted runs as nobody; the home is root-owned).
    const s = await twisted({ home: "readonly" });
    const r = await check(target(s), { tls: "off", write: true, ...erin() }, TWISTED_USER.password);
    expectVerdict("upload refused (read-only home)", "twisted", r, "PERMISSION_DENIED");
  });

  test("missing directory in the URL (ftp://host/no-such-dir/) → PATH_NOT_FOUND", async () => {
    // Expected words: CWD → "550 ['no-such-dir']: No such file or directory."
    const s = await twisted({});
    const r = await check(`ftp://127.0.0.1:${s.port}/no-such-dir/`, { tls: "off", ...erin() }, TWISTED_USER.password);
    expectVerdict("missing URL directory", "twisted", r, "PATH_NOT_FOUND");
  });

  test("forbidden directory in the URL (ftp://host/secret/) → PATH_DENIED", async () => {
    // <home>/secret is root-owned 0700. The URL path is relative to the login directory (RFC 1738:
    // CWD secret, as curl sends it), and the server answers "550 ['secret']: Permission denied."
    const s = await twisted({ forbiddenDir: "secret" });
    const r = await check(`ftp://127.0.0.1:${s.port}/secret/`, { tls: "off", ...erin() }, TWISTED_USER.password);
    expectVerdict("forbidden URL directory", "twisted", r, "PATH_DENIED");
  });
});
