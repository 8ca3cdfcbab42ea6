/**
 * Servers that mishandle pipelined commands (issue 14): the engine must recognise it, fall back
 * to lock-step for that server, say so in obs.pipelining, and name the server's real state — never
 * REPLY_TIMEOUT for our pipelining. The healthy vsftpd / ProFTPD / Pure-FTPd paths stay pipelined
 * (their scenario files assert that, and the bench counts the round trips).
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { PROFTPD_USER, type RunningServer, startProftpd } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { startTwistedFtpd } from "../harness/twisted.js";
import { FTPSRV_USER, startFtpSrv } from "../harness/ftpsrv.js";
import { check, expectVerdict, pemFile, type ScenarioResult } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;

/** Run a check `times` times; return every result (a fault that shows one time in three needs several). */
async function repeat(times: number, run: () => Promise<ScenarioResult>): Promise<ScenarioResult[]> {
  const all: ScenarioResult[] = [];
  for (let i = 0; i < times; i++) all.push(await run());
  return all;
}

describe("pipelining: ftp-srv", requirementsOptions(["root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);

  test("FEAT + USER/AUTH TLS answered interleaved → lock-step on the same connection, HEALTHY every time (×12)", async () => {
    // ftp-srv 4.6 runs commands from separate segments concurrently and writes 331/234 into
    // its multi-line 211 FEAT reply (one check in three to ten here).
    const s = await startFtpSrv({ tls: tlsOf(certs.valid) });
    running.push(s);
    const plain = await repeat(6, () => check(target(s), { tls: "off", user: FTPSRV_USER.user }, FTPSRV_USER.password));
    const ftps = await repeat(6, () => check(target(s), { tls: "explicit", ca, user: FTPSRV_USER.user }, FTPSRV_USER.password));
    for (const [i, r] of [...plain, ...ftps].entries()) {
      expectVerdict(`ftp-srv interleaved FEAT (check ${i + 1})`, "ftp-srv", r, "HEALTHY", {
        findings: i < 6 ? ["CLEARTEXT_AUTH_ALLOWED"] : [],
      });
      const p = r.observations.pipelining;
      assert.ok(p?.mode === "pipelined" || p?.fallback?.reason === "interleaved", JSON.stringify(p));
      assert.equal(p?.retry, undefined, "no fresh connection for an interleave");
    }
  });
});

describe("pipelining: Twisted", requirementsOptions(["python3", "root"]), () => {
  test("no reply after an unused PASV → lock-step on a fresh connection, HEALTHY (+ANON_ENABLED)", async () => {
    // Twisted 22.4 (ftp_PASV returns the data-connection deferred): no further command is read
    // until that data connection arrives, so the pipelined EPSV behind PASV goes unanswered.
    // A banner that does not name Twisted: the engine has to find out by itself.
    const s = await startTwistedFtpd({ anonymous: true, welcomeMessage: "FTP service ready" });
    running.push(s);
    const r = await check(target(s), { tls: "off", anonymous: true });
    expectVerdict("Twisted: unanswered EPSV after pipelined PASV", "twisted", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.equal(r.observations.pipelining?.mode, "lockstep");
    assert.equal(r.observations.pipelining?.fallback?.reason, "missing-reply");
    assert.equal(r.observations.pipelining?.retry, "run");
    assert.equal(r.observations.replyTimeout, undefined);
    assert.equal(r.observations.controlConnections, 2);
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
    assert.ok(
      r.report.steps.some((x) => x.id === "session" && x.status === "warn" && /lock-step/.test(x.detail)),
      "the steps say so",
    );
  });
});

describe("pipelining: Twisted, named by its banner", requirementsOptions(["python3", "root"]), () => {
  test("Twisted's default banner → lock-step from the greeting: no timeout, no second connection, HEALTHY", async () => {
    const s = await startTwistedFtpd({ anonymous: true });
    running.push(s);
    const r = await check(target(s), { tls: "off", anonymous: true });
    expectVerdict("Twisted named by its banner", "twisted", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.equal(r.observations.pipelining?.mode, "lockstep");
    assert.equal(r.observations.pipelining?.fallback?.reason, "banner");
    assert.equal(r.observations.pipelining?.retry, undefined);
    assert.equal(r.observations.controlConnections, 1);
    assert.ok((r.observations.data?.listEntries ?? 0) > 0, "listing parsed");
    assert.ok(
      r.observations.transcript.some((l) => /lock-step from now on/.test(l.text)),
      "the transcript says so",
    );
  });
});

describe("pipelining: ProFTPD", requirementsOptions(["proftpd", "openssl", "root"]), () => {
  const certs = certFixtures();
  const tls = tlsOf(certs.valid);

  test("TLSRequired on (DelayEngine as shipped), plain check right after start, ×6 → FTPS_REQUIRED, still pipelined", async () => {
    // ProFTPD 1.3.8: the "USER pipelined behind FEAT unanswered" was mod_delay holding the USER
    // reply ~5.4 s in the first sessions after start, in lock-step too (measured): not pipelining.
    // The engine now waits for deliberately delayed login replies (login.ts).
    const s = await startProftpd({ tls, extra: { TLSRequired: "on" } });
    running.push(s);
    const results = await repeat(6, () => check(target(s), { tls: "off", user: PROFTPD_USER.user, timeout: 15000 }, PROFTPD_USER.password));
    for (const [i, r] of results.entries()) {
      expectVerdict(`FTPS required, pipelined USER (check ${i + 1})`, "proftpd", r, "FTPS_REQUIRED");
      assert.equal(r.observations.replyTimeout, undefined, "no reply timeout blamed on the server");
      assert.equal(r.observations.pipelining?.mode, "pipelined");
    }
  });
});
