/**
 * Issue 10 items 3–6, attacked through the real worker process: jobs written straight into
 * Redis (as anyone with queue access, or a stale button, would), names on the allow-list that
 * resolve inside (our own DNS server on loopback), a hostile FTP server that bounces PASV into
 * its /24, refuses TLS to harvest a password, and echoes the password back in clear and encoded.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { CheckQueue } from "../../src/queue/producer.js";
import { startDnsServer, type DnsServer } from "../harness/dns.js";
import { makeTempDir } from "../harness/env.js";
import { type FakeFtpServer, startFakeFtp } from "../harness/scripted.js";
import { LOGIN, passive } from "../hostile/servers.js";
import { deletePrefix, dumpPrefix, REDIS_URL, spawnWorker, stopWorker, uniquePrefix, type WorkerProc } from "../queue/lib.js";

const PASSWORD = "Tr0ub4dor&3 horse";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let worker: WorkerProc;
let queue: CheckQueue;
let dns: DnsServer;
/** Counts connections to an address nothing should ever reach. */
const canaries: { server: net.Server; hits: number; port: number }[] = [];

async function canary(host: string): Promise<{ hits: number; port: number }> {
  const c = { server: net.createServer(), hits: 0, port: 0 };
  c.server.on("connection", (s) => {
    c.hits++;
    s.destroy();
  });
  await new Promise<void>((r) => c.server.listen(0, host, () => r()));
  c.port = (c.server.address() as net.AddressInfo).port;
  canaries.push(c);
  return c;
}

const job = (target: string, extra: { profile?: string; resolver?: string } = {}) =>
  queue.enqueue({
    v: 1,
    target,
    zone: "dmz",
    ...(extra.profile ? { profile: extra.profile } : {}),
    options: {
      tls: "auto",
      timeout: 8_000,
      anonymous: false,
      write: false,
      active: false,
      allowDataHost: ["0.0.0.0/0"], // a job trying to widen the data-host rule: ignored
      ...(extra.resolver ? { resolver: extra.resolver } : {}),
    },
    requestedBy: "U0ATTACKER",
  });

describe("the worker enforces the target policy itself (issue 10 items 3-6)", () => {
  before(async () => {
    dns = await startDnsServer({});
    const config = path.join(dir.path, "worker.yaml");
    writeFileSync(
      config,
      [
        "targets:",
        // 127.0.0.1 explicitly (the hostile servers live there); names by pattern only.
        "  allow: ['127.0.0.1/32', '*.allowed.test']",
        "zones:",
        "  - name: dmz",
        "profiles:",
        "  ops:",
        "    user: alice",
        "    passwordEnv: OPS_PASSWORD",
        "  plain:",
        "    user: alice",
        "    passwordEnv: OPS_PASSWORD",
        "    tls: 'off'",
        "  fenced:",
        "    user: alice",
        "    passwordEnv: OPS_PASSWORD",
        "    targets: ['ftp.allowed.test']",
      ].join("\n"),
    );
    worker = spawnWorker({ zone: "dmz", prefix, env: { FTP_DOCTOR_CONFIG: config, OPS_PASSWORD: PASSWORD } });
    await worker.waitFor(/worker started/);
    queue = new CheckQueue(REDIS_URL, prefix);
    await queue.connect();
  });
  after(async () => {
    await queue?.close();
    await stopWorker(worker);
    for (const c of canaries) c.server.close();
    await dns?.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  test("a job for a target outside the allow-list fails at once, unrecoverably, with a readable reason", async () => {
    const inside = await canary("127.0.0.9");
    const j = await job(`127.0.0.9:${inside.port}`);
    await assert.rejects(queue.result("dmz", j.jobId, 15_000), /TARGET_NOT_PERMITTED: 127\.0\.0\.9 is not on this bot's allow-list/);
    const stored = await redis.hgetall(`${prefix}:checks-dmz:${j.jobId}`);
    assert.equal(stored.atm ?? stored.attemptsMade, "1", `an unrecoverable failure is not retried: ${JSON.stringify(stored)}`);
    assert.equal(inside.hits, 0);
    // A profile limited to other targets: refused the same way.
    const k = await job("127.0.0.1:1", { profile: "fenced" });
    await assert.rejects(queue.result("dmz", k.jobId, 15_000), /TARGET_NOT_PERMITTED: profile "fenced" may not be used/);
  });

  test("names allowed by pattern that resolve to loopback or cloud metadata are refused, never connected to", async () => {
    const inside = await canary("127.0.0.5");
    dns.set("rebind.allowed.test", { A: ["127.0.0.5"] });
    dns.set("meta.allowed.test", { A: ["169.254.169.254"] });
    const a = await job(`rebind.allowed.test:${inside.port}`, { resolver: `127.0.0.1:${dns.port}` });
    const ra = await queue.result("dmz", a.jobId, 20_000);
    assert.equal(ra.verdict.code, "TARGET_NOT_PERMITTED");
    assert.match(JSON.stringify(ra.verdict), /127\.0\.0\.5/);
    assert.match(JSON.stringify(ra.verdict), /loopback/);
    const b = await job("meta.allowed.test:21", { resolver: `127.0.0.1:${dns.port}` });
    const rb = await queue.result("dmz", b.jobId, 20_000);
    assert.equal(rb.verdict.code, "TARGET_NOT_PERMITTED");
    assert.match(JSON.stringify(rb.verdict), /169\.254\.169\.254/);
    assert.equal(inside.hits, 0, "the worker connected to a refused address");
  });

  test("a PASV bounce into the control peer's /24 is reported, never connected to", async () => {
    const neighbour = await canary("127.0.0.2");
    const ftp: FakeFtpServer = await startFakeFtp({
      host: "127.0.0.1",
      greeting: "220 hostile",
      replies: { ...LOGIN, ...passive("ok", { pasvHost: "127.0.0.2", pasvPort: neighbour.port }), EPSV: "500 no EPSV" },
    });
    try {
      const j = await job(`127.0.0.1:${ftp.port}`);
      const r = await queue.result("dmz", j.jobId, 20_000);
      assert.equal(neighbour.hits, 0, "the worker connected to the advertised neighbour");
      assert.notEqual(r.verdict.code, "HEALTHY");
      assert.match(JSON.stringify(r), /127\.0\.0\.2/);
    } finally {
      await ftp.stop();
    }
  });

  test("a profile's password is never sent on a session without TLS unless the profile says tls: off", async () => {
    const ftp = await startFakeFtp({
      host: "127.0.0.1",
      greeting: "220 no TLS here",
      replies: { ...LOGIN, AUTH: "502 AUTH not supported" },
    });
    try {
      const j = await job(`127.0.0.1:${ftp.port}`, { profile: "ops" });
      const r = await queue.result("dmz", j.jobId, 20_000);
      assert.equal(r.verdict.code, "CLEARTEXT_PASSWORD_BLOCKED");
      // The profile's password never left (the engine's anonymous side check may still log in anonymously).
      assert.ok(!ftp.received.some((l) => l.includes(PASSWORD)), `the password was sent: ${ftp.received.join(" | ")}`);
      const k = await job(`127.0.0.1:${ftp.port}`, { profile: "plain" });
      await queue.result("dmz", k.jobId, 20_000);
      assert.ok(ftp.received.includes(`PASS ${PASSWORD}`), "tls: off is the operator's explicit choice");
    } finally {
      await ftp.stop();
    }
  });

  test("a password the server echoes back, in clear or encoded, is in nothing the worker stores or returns", async () => {
    const b = Buffer.from(PASSWORD);
    const echo = [
      PASSWORD,
      encodeURIComponent(PASSWORD),
      b.toString("base64"),
      b.toString("hex"),
      Buffer.from(`\0alice\0${PASSWORD}`).toString("base64"),
    ];
    const ftp = await startFakeFtp({
      host: "127.0.0.1",
      greeting: `220 hello`,
      replies: {
        ...LOGIN,
        AUTH: "502 no TLS",
        PASS: (arg) => `530-Login incorrect: password '${arg}'\n${echo.map((e) => `530-was ${e}`).join("\n")}\n530 Login incorrect: ${arg}`,
      },
    });
    try {
      const j = await job(`127.0.0.1:${ftp.port}`, { profile: "plain" });
      const r = await queue.result("dmz", j.jobId, 20_000);
      assert.ok(ftp.received.includes(`PASS ${PASSWORD}`), "the server got the password (tls: off)");
      assert.equal(r.verdict.code, "AUTH_FAILED");
      const returned = JSON.stringify(r);
      const stored = (await dumpPrefix(redis, prefix)).text;
      for (const [where, text] of [
        ["job return value", returned],
        ["Redis (reports, job data, events)", stored],
      ] as const)
        for (const e of echo) assert.ok(!text.includes(e) && !text.includes(JSON.stringify(e).slice(1, -1)), `${where} holds ${e}`);
      assert.match(returned, /\*\*\*\*/);
    } finally {
      await ftp.stop();
    }
  });
});
