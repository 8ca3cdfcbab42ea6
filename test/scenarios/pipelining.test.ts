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
import { check, expectVerdict, type ScenarioResult } from "./lib.js";

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

describe("pipelining: ProFTPD", requirementsOptions(["proftpd", "openssl", "root"]), () => {
  const certs = certFixtures();
  const tls = tlsOf(certs.valid);

  test("TLSRequired on (DelayEngine as shipped), plain check right after start, ×6 → FTPS_REQUIRED every time", async () => {
    // ProFTPD 1.3.8: mod_tls refuses USER in PRE_CMD and mod_delay then holds some of those
    // replies; a USER pipelined behind FEAT went unanswered in about one check in three.
    const s = await startProftpd({ tls, extra: { TLSRequired: "on" } });
    running.push(s);
    const results = await repeat(6, () => check(target(s), { tls: "off", user: PROFTPD_USER.user, timeout: 15000 }, PROFTPD_USER.password));
    for (const [i, r] of results.entries()) {
      expectVerdict(`FTPS required, pipelined USER (check ${i + 1})`, "proftpd", r, "FTPS_REQUIRED");
      assert.equal(r.observations.replyTimeout, undefined, "no reply timeout blamed on the server");
    }
    console.log(results.map((r) => JSON.stringify(r.observations.pipelining)).join("\n"));
  });
});
