/** pyftpdlib 1.5.7 (Debian python3-pyftpdlib, TLS_FTPHandler with python3-openssl) configured into each fault it can produce. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { certFixtures, tlsOf } from "../harness/certs.js";
import type { RunningServer } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { RawFtpClient } from "../harness/ftpclient.js";
import { PYFTPDLIB_USER, type PyftpdlibOptions, startPyftpdlib } from "../harness/pyftpdlib.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
async function pyftpdlib(opts: PyftpdlibOptions): Promise<RunningServer> {
  const s = await startPyftpdlib(opts);
  running.push(s);
  return s;
}
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;
const dave = (extra: Record<string, unknown> = {}) => ({ user: PYFTPDLIB_USER.user, ...extra });

// Not produced: TLS_SESSION_REUSE_REQUIRED (pyftpdlib never requires it), ACTIVE_MODE_BLOCKED
// (PORT to the control peer is always accepted; only foreign addresses are refused, which the
// probe never sends), CHROOT_WRITABLE_ROOT/SERVER_CONFIG_ERROR (vsftpd-only texts).
describe("pyftpdlib", requirementsOptions(["python3", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  const tls = tlsOf(certs.valid);

  test("healthy plain FTP, anonymous → HEALTHY (+ANON_ENABLED)", async () => {
    const s = await pyftpdlib({ anonymous: true });
    const r = await check(target(s), { tls: "off", anonymous: true });
    expectVerdict("healthy plain FTP (anonymous)", "pyftpdlib", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
  });

  test("--active over FTPS: PORT/EPRT to the probe → HEALTHY, active mode shown to work", async () => {
    const s = await pyftpdlib({ tls });
    const r = await check(target(s), { tls: "explicit", ca, active: true, ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("active mode works (FTPS)", "pyftpdlib", r, "HEALTHY");
    assert.equal(r.observations.active?.status, "ok");
  });

  test("healthy explicit FTPS, user → HEALTHY (data TLS after the 150: pyftpdlib resets an early handshake)", async () => {
    // pyftpdlib resets a PROT P data connection whose ClientHello arrives before it took LIST,
    // and its control connection never answers again. Its default banner names it, so the engine
    // handshakes after the 150 from the start (as Python's ftplib does).
    const s = await pyftpdlib({ tls });
    const r = await check(target(s), { tls: "explicit", ca, ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("healthy FTPS (user)", "pyftpdlib", r, "HEALTHY");
    assert.equal(r.observations.data?.dataTls?.status, "ok");
    assert.equal(r.observations.dataTlsRetry, undefined, "no detour");
  });

  test("healthy explicit FTPS behind a banner that hides the software → HEALTHY (a fresh session, handshake after the 150)", async () => {
    // Whether the early handshake is reset depends on which socket pyftpdlib's event loop reads
    // first; every check here so far saw the reset. Both outcomes must be HEALTHY; the fallback
    // must have run at least once in eight checks and said so in the steps.
    const s = await pyftpdlib({ tls, handlerAttrs: { banner: "Secure file service ready." } });
    let retried = 0;
    for (let i = 0; i < 8 && (i < 3 || retried === 0); i++) {
      const r = await check(target(s), { tls: "explicit", ca, ...dave() }, PYFTPDLIB_USER.password);
      expectVerdict("healthy FTPS (hidden banner)", "pyftpdlib", r, "HEALTHY");
      assert.equal(r.observations.data?.dataTls?.status, "ok");
      if (!r.observations.dataTlsRetry) continue;
      retried++;
      assert.equal(r.observations.dataTlsRetry.status, "run");
      assert.equal(r.observations.dataTlsRetry.error.kind, "reset");
      assert.ok(
        r.observations.steps.some((st) => /data TLS handshake after the 1xx/.test(st.detail ?? "")),
        "the steps say so",
      );
    }
    assert.ok(retried > 0, "the early handshake was never reset: this test no longer exercises the fallback");
  });

  test("--write over FTPS → HEALTHY", async () => {
    const s = await pyftpdlib({ tls });
    const r = await check(target(s), { tls: "explicit", ca, write: true, ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("write test (FTPS)", "pyftpdlib", r, "HEALTHY");
    assert.equal(r.observations.write?.verified, true);
  });

  test("--write over plain FTP → HEALTHY (+CLEARTEXT_AUTH_ALLOWED)", async () => {
    const s = await pyftpdlib({});
    const r = await check(target(s), { tls: "off", write: true, ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("write test (plain)", "pyftpdlib", r, "HEALTHY", { findings: ["CLEARTEXT_AUTH_ALLOWED"] });
    assert.equal(r.observations.write?.verified, true);
  });

  test("wrong password → AUTH_FAILED (after pyftpdlib's 3 s auth_failed_timeout)", async () => {
    const s = await pyftpdlib({ tls });
    const r = await check(target(s), { tls: "explicit", ca, timeout: 15000, ...dave() }, "not-the-password");
    expectVerdict("wrong password", "pyftpdlib", r, "AUTH_FAILED");
    assert.equal(r.observations.login?.passReply?.text, "530 Authentication failed.");
  });

  test("max_cons reached → SERVER_BUSY", async () => {
    // max_cons counts the listening socket too: 2 lets exactly one client in.
    const s = await pyftpdlib({ maxCons: 2 });
    const { client: hog } = await RawFtpClient.connect("127.0.0.1", s.port);
    try {
      const r = await check(target(s), { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
      expectVerdict("too many connections (max_cons)", "pyftpdlib", r, "SERVER_BUSY");
      assert.equal(r.observations.greeting?.reply?.text, "421 Too many connections. Service temporarily unavailable.");
    } finally {
      hog.close();
    }
  });

  test("max_cons_per_ip 1 while another connection is open → SERVER_BUSY", async () => {
    const s = await pyftpdlib({ maxConsPerIp: 1 });
    const { client: hog } = await RawFtpClient.connect("127.0.0.1", s.port);
    try {
      const r = await check(target(s), { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
      expectVerdict("too many connections from this IP (max_cons_per_ip)", "pyftpdlib", r, "SERVER_BUSY");
      assert.equal(r.observations.greeting?.reply?.text, "421 Too many connections from the same IP address.");
    } finally {
      hog.close();
    }
  });

  test("read-only permissions (perm='elr') with --write → PERMISSION_DENIED", async () => {
    const s = await pyftpdlib({ perm: "elr" });
    const r = await check(target(s), { tls: "off", write: true, ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("upload refused (perm elr)", "pyftpdlib", r, "PERMISSION_DENIED");
    assert.equal(r.observations.write?.storReply?.text, "550 Not enough privileges.");
  });

  test("tls_control_required with a plain check → FTPS_REQUIRED", async () => {
    const s = await pyftpdlib({ tls, tlsControlRequired: true });
    const r = await check(target(s), { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("FTPS required for login (tls_control_required)", "pyftpdlib", r, "FTPS_REQUIRED");
    assert.equal(r.observations.login?.userReply?.text, "550 SSL/TLS required on the control channel.");
  });

  test("tls_data_required with a plain check → FTPS_REQUIRED", async () => {
    // Login works in clear text; PASV and EPSV both get "550 SSL/TLS required on the data channel."
    // (read as PASV_DISABLED before issue 14).
    const s = await pyftpdlib({ tls, tlsDataRequired: true });
    const r = await check(target(s), { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("FTPS required for data (tls_data_required)", "pyftpdlib", r, "FTPS_REQUIRED");
    for (const passive of r.observations.data?.passive ?? [])
      assert.equal(passive.reply?.text, "550 SSL/TLS required on the data channel.");
  });

  test("no TLS handler, explicit TLS asked → FTPS_UNSUPPORTED", async () => {
    const s = await pyftpdlib({});
    const r = await check(target(s), { tls: "explicit", ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("AUTH TLS refused (FTPHandler)", "pyftpdlib", r, "FTPS_UNSUPPORTED");
    assert.equal(r.observations.tls?.authReply?.text, '500 Command "AUTH" not understood.');
  });

  test("expired certificate → TLS_CERT_EXPIRED", async () => {
    const s = await pyftpdlib({ tls: tlsOf(certs.expired) });
    expectVerdict("expired certificate", "pyftpdlib", await check(target(s), { tls: "explicit", ca }), "TLS_CERT_EXPIRED");
  });

  test("PASV and EPSV removed from proto_cmds → PASV_DISABLED", async () => {
    const s = await pyftpdlib({ disabledCommands: ["PASV", "EPSV"] });
    const r = await check(target(s), { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("passive commands removed", "pyftpdlib", r, "PASV_DISABLED");
  });

  test("masquerade_address of a third host → PASV_ADDRESS_WRONG, never connected to", async () => {
    const s = await pyftpdlib({ masqueradeAddress: "192.0.2.77" });
    const r = await check(target(s), { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("PASV advertises a third host (masquerade_address)", "pyftpdlib", r, "PASV_ADDRESS_WRONG");
    assert.match(r.report.verdict.evidence.join("\n"), /advertised 192\.0\.2\.77/);
  });

  test("home deleted while the server runs → HOME_DIR_MISSING", async () => {
    const s = await pyftpdlib({ removeHomeAfterStart: true });
    const r = await check(target(s), { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("home missing", "pyftpdlib", r, "HOME_DIR_MISSING");
  });

  test("missing directory in the URL (ftp://host/no-such-dir/) → PATH_NOT_FOUND", async () => {
    // Expected words: CWD → "550 No such file or directory."
    const s = await pyftpdlib({});
    const r = await check(`ftp://127.0.0.1:${s.port}/no-such-dir/`, { tls: "off", ...dave() }, PYFTPDLIB_USER.password);
    expectVerdict("missing URL directory", "pyftpdlib", r, "PATH_NOT_FOUND");
  });
});
