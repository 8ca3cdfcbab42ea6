/**
 * The queue layer against the real Redis and real worker processes: same verdict inline and
 * queued, cross-zone verdict with a namespace, dedupe, kill -9 recovery, SIGTERM drain,
 * fail-fast for empty zones, and no secret anywhere in Redis or the logs.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { runCheck } from "../../src/check/run.js";
import { CheckOptionsInput, toCheckOptions } from "../../src/check/options.js";
import { CheckQueue, NoWorkerError } from "../../src/queue/producer.js";
import { loadHistory } from "../../src/queue/historyModel.js";
import { storedResult } from "../../src/queue/results.js";
import { parseTarget } from "../../src/target/parse.js";
import { startVsftpd, VSFTPD_USER, type RunningServer } from "../harness/daemons.js";
import { createNetns, type Netns } from "../harness/netns.js";
import { makeTempDir, repoRoot, requirementsOptions } from "../harness/env.js";
import { startScriptedServer, startFakeFtp, silentHandler, type ScriptedServer } from "../harness/scripted.js";
import { deletePrefix, dumpPrefix, REDIS_URL, redisRelay, spawnWorker, stopWorker, uniquePrefix, type WorkerProc } from "./lib.js";

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const prefixes: string[] = [];
const workers: WorkerProc[] = [];
const cleanups: (() => Promise<void>)[] = [];

function prefix(): string {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
}
function worker(opts: Parameters<typeof spawnWorker>[0]): WorkerProc {
  const w = spawnWorker(opts);
  workers.push(w);
  return w;
}

after(async () => {
  await Promise.all(workers.map(stopWorker));
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
});

/** A slow but working FTP server: greets after `delayMs`, then a minimal anonymous session. */
async function slowServer(delayMs: number): Promise<ScriptedServer> {
  const s = await startScriptedServer((sock) => {
    sock.setEncoding("latin1");
    sock.on("data", (d: string) => {
      for (const line of d.split("\n").filter((l) => l.trim()))
        if (!sock.destroyed) sock.write(/^QUIT/i.test(line) ? "221 Bye.\r\n" : "530 Not logged in.\r\n");
    });
    setTimeout(() => !sock.destroyed && sock.write("220 slow\r\n"), delayMs);
  });
  cleanups.push(() => s.stop());
  return s;
}

const opts = (o: Record<string, unknown> = {}) => CheckOptionsInput.parse(o);
const jobOptions = (o: Record<string, unknown> = {}) => {
  const { passwordEnv: _p, ca: _c, user: _u, ...rest } = opts(o);
  void _p;
  void _c;
  void _u;
  return rest;
};

describe("queue and workers (real Redis)", () => {
  let vs: RunningServer;
  before(async () => {
    vs = await startVsftpd({});
    cleanups.push(() => vs.stop());
  });

  test("inline and queued checks give the same verdict and the same report shape", requirementsOptions(["vsftpd", "root"]), async () => {
    const p = prefix();
    const w = worker({ zone: "dmz", prefix: p });
    await w.waitFor(/worker started/);
    const silent = await startScriptedServer(silentHandler());
    cleanups.push(() => silent.stop());
    const fake = await startFakeFtp({ greeting: "421 There are too many connected users, please try later." });
    cleanups.push(() => fake.stop());
    const cases: [string, Record<string, unknown>, string][] = [
      [`127.0.0.1:${vs.port}`, { tls: "off" }, "HEALTHY"],
      [`127.0.0.1:${vs.port}`, { tls: "explicit" }, "FTPS_UNSUPPORTED"],
      [`127.0.0.1:${vs.port}`, { tls: "off", write: true }, "PERMISSION_DENIED"],
      ["127.0.0.1:1", {}, "TCP_REFUSED"],
      [`127.0.0.1:${silent.port}`, {}, "BANNER_TIMEOUT"],
      [`127.0.0.1:${fake.port}`, {}, "SERVER_BUSY"],
    ];
    const q = new CheckQueue(REDIS_URL, p);
    await q.connect();
    try {
      for (const [target, o, expected] of cases) {
        const inline = (await runCheck(parseTarget(target), toCheckOptions(opts(o)))).report;
        const job = await q.enqueue({ v: 1, target, zone: "dmz", options: jobOptions(o) });
        const queued = await q.result("dmz", job.jobId, 30_000);
        assert.equal(inline.verdict.code, expected, `inline ${target} ${JSON.stringify(o)}`);
        assert.equal(queued.verdict.code, expected, `queued ${target} ${JSON.stringify(o)}`);
        assert.equal(queued.zone, "dmz");
        assert.deepEqual(
          Object.keys(queued)
            .filter((k) => k !== "zone")
            .sort(),
          Object.keys(inline).sort(),
        );
      }
      const h = await loadHistory(redis, p, "127.0.0.1", vs.port);
      assert.equal(h.zones.length, 1);
      assert.equal(h.zones[0]!.zone, "dmz");
      assert.equal(h.zones[0]!.checks, 3, "each queued check counted once in history");
    } finally {
      await q.close();
    }
  });

  test(
    "two zones, one cut off by its network namespace → PATH_BLOCKED cross-zone verdict",
    requirementsOptions(["vsftpd", "root", "ip"]),
    async () => {
      const p = prefix();
      // The server lives in its own namespace; "office" runs in another one with no route to it.
      const serverNs: Netns = await createNetns();
      cleanups.push(() => serverNs.destroy());
      const officeNs: Netns = await createNetns();
      cleanups.push(() => officeNs.destroy());
      const server = await startVsftpd({ netns: serverNs.name, listenAddress: serverNs.nsAddress });
      cleanups.push(() => server.stop());
      const relay = await redisRelay(officeNs.hostAddress);
      cleanups.push(() => relay.close());
      const dmz = worker({ zone: "dmz", prefix: p });
      const office = worker({ zone: "office", prefix: p, netns: officeNs.name, redisUrl: relay.url });
      await Promise.all([dmz.waitFor(/worker started/), office.waitFor(/worker started/, 15_000)]);
      const out = await runCli(
        ["check", `${serverNs.nsAddress}:${server.port}`, "--tls", "off", "--zone", "dmz", "--zone", "office", "--json"],
        { FTP_DOCTOR_REDIS_PREFIX: p },
      );
      assert.equal(out.code, 1, out.stderr);
      const j = JSON.parse(out.stdout) as {
        crossZone: { code: string; title: string };
        results: { zone: string; verdict: { code: string } }[];
      };
      const byZone = Object.fromEntries(j.results.map((r) => [r.zone, r.verdict.code]));
      assert.equal(byZone.dmz, "HEALTHY");
      assert.match(byZone.office!, /^TCP_(UNREACHABLE|TIMEOUT|REFUSED)$/);
      assert.equal(j.crossZone.code, "PATH_BLOCKED");
      assert.match(j.crossZone.title, /works from dmz but not from office/);
    },
  );

  test("a burst of 20 identical requests runs one probe", async () => {
    const p = prefix();
    const w = worker({ zone: "dmz", prefix: p });
    await w.waitFor(/worker started/);
    const slow = await slowServer(1500);
    const q = new CheckQueue(REDIS_URL, p);
    await q.connect();
    try {
      const input = { v: 1 as const, target: `127.0.0.1:${slow.port}`, zone: "dmz", options: jobOptions({ tls: "off" }) };
      const jobs = await Promise.all(Array.from({ length: 20 }, () => q.enqueue(input)));
      const ids = new Set(jobs.map((j) => j.jobId));
      assert.equal(ids.size, 1, `20 requests → ${ids.size} jobs`);
      assert.equal(jobs.filter((j) => j.deduplicated).length, 19);
      const reports = await Promise.all(jobs.map((j) => q.result("dmz", j.jobId, 30_000)));
      assert.equal(new Set(reports.map((r) => r.startedAt)).size, 1, "everyone got the same result");
      assert.equal((w.output().match(/"check started"/g) ?? []).length, 1, "one probe ran");
      // Once finished, the same check can run again (dedupe lasts while queued or running).
      const again = await q.enqueue(input);
      assert.ok(!ids.has(again.jobId));
      await q.result("dmz", again.jobId, 30_000);
    } finally {
      await q.close();
    }
  });

  test("kill -9 in the middle of a probe: picked up again, result delivered exactly once", async () => {
    const p = prefix();
    const a = worker({ zone: "dmz", prefix: p });
    await a.waitFor(/worker started/);
    const slow = await slowServer(2500);
    const q = new CheckQueue(REDIS_URL, p);
    await q.connect();
    try {
      const job = await q.enqueue({ v: 1, target: `127.0.0.1:${slow.port}`, zone: "dmz", options: jobOptions({ tls: "off" }) });
      await a.waitFor(/"check started"/);
      a.kill("SIGKILL");
      await a.exited;
      const b = worker({ zone: "dmz", prefix: p });
      const report = await q.result("dmz", job.jobId, 30_000);
      assert.ok(report.verdict.code.length > 0);
      await b.waitFor(/"check finished"/);
      assert.match(b.output(), /stalled|check started/);
      const h = await loadHistory(redis, p, "127.0.0.1", slow.port);
      assert.equal(h.zones[0]?.checks, 1, "counted exactly once");
      assert.equal((await storedResult(redis, p, job.jobId))?.jobId, job.jobId);
      assert.equal((b.output().match(/"check finished"/g) ?? []).length, 1);
    } finally {
      await q.close();
    }
  });

  test("SIGTERM drains: the running check finishes, the waiting one does not start", async () => {
    const p = prefix();
    const w = worker({ zone: "dmz", prefix: p, concurrency: 1 });
    await w.waitFor(/worker started/);
    const slow1 = await slowServer(1500);
    const slow2 = await slowServer(1500);
    const q = new CheckQueue(REDIS_URL, p);
    await q.connect();
    try {
      const j1 = await q.enqueue({ v: 1, target: `127.0.0.1:${slow1.port}`, zone: "dmz", options: jobOptions({ tls: "off" }) });
      const j2 = await q.enqueue({ v: 1, target: `127.0.0.1:${slow2.port}`, zone: "dmz", options: jobOptions({ tls: "off" }) });
      await w.waitFor(/"check started"/);
      w.kill("SIGTERM");
      const r1 = await q.result("dmz", j1.jobId, 30_000);
      assert.ok(r1.verdict.code);
      assert.equal(await w.exited, 0);
      assert.equal((w.output().match(/"check started"/g) ?? []).length, 1, "no new check after SIGTERM");
      const { Queue } = await import("bullmq");
      const queue = new Queue("checks-dmz", { connection: { url: REDIS_URL }, prefix: p });
      assert.equal(await queue.getJobState(j2.jobId), "waiting");
      await queue.close();
    } finally {
      await q.close();
    }
  });

  test("a zone with no live worker fails fast with a clear message", async () => {
    const p = prefix();
    const q = new CheckQueue(REDIS_URL, p);
    await q.connect();
    const t0 = performance.now();
    await assert.rejects(
      q.enqueue({ v: 1, target: "127.0.0.1:21", zone: "nowhere", options: jobOptions() }),
      (e: unknown) => e instanceof NoWorkerError && /ftp-doctor worker --zone nowhere/.test((e as Error).message),
    );
    assert.ok(performance.now() - t0 < 1000);
    await q.close();
    const out = await runCli(["check", "127.0.0.1:21", "--zone", "nowhere"], { FTP_DOCTOR_REDIS_PREFIX: p });
    assert.equal(out.code, 3);
    assert.match(out.stderr, /^ftp-doctor: no live worker in zone "nowhere"/);
  });

  test("job payloads are validated on enqueue: no passwords, no unknown fields", async () => {
    const q = new CheckQueue(REDIS_URL, prefix());
    await q.connect();
    try {
      await assert.rejects(
        q.enqueue({ v: 1, target: "ftp://u:secret@h", zone: "dmz", options: jobOptions() }),
        /must not contain a password/,
      );
      await assert.rejects(
        q.enqueue({ v: 1, target: "h", zone: "dmz", options: { ...jobOptions(), passwordEnv: "X" } as never }),
        /Unrecognized key/,
      );
      await assert.rejects(q.enqueue({ v: 1, target: "h", zone: "bad zone!", options: jobOptions() }), /zone/);
    } finally {
      await q.close();
    }
  });

  test("a canary password appears in no Redis key and no log line", requirementsOptions(["vsftpd", "root"]), async () => {
    const p = prefix();
    const canary = `canary-${Math.random().toString(36).slice(2)}-pw`;
    const dir = makeTempDir();
    cleanups.push(async () => dir.remove());
    const local = await startVsftpd({ localUsers: true });
    cleanups.push(() => local.stop());
    const config = path.join(dir.path, "ftp-doctor.yaml");
    // tls: off explicitly, so the canary is sent (and must still be seen nowhere).
    writeFileSync(
      config,
      `targets:\n  allow: ['127.0.0.1/32']\nprofiles:\n  ops:\n    user: ${VSFTPD_USER.user}\n    passwordEnv: CANARY_PW\n    tls: 'off'\n`,
    );
    const w = worker({ zone: "dmz", prefix: p, env: { CANARY_PW: canary, FTP_DOCTOR_CONFIG: config, LOG_LEVEL: "trace" } });
    await w.waitFor(/worker started/);
    const out = await runCli(["check", `127.0.0.1:${local.port}`, "--tls", "off", "--zone", "dmz", "--profile", "ops", "--json"], {
      FTP_DOCTOR_REDIS_PREFIX: p,
      FTP_DOCTOR_CONFIG: config,
    });
    const report = JSON.parse(out.stdout) as { verdict: { code: string } };
    // The canary is the wrong password: the server says so, and nobody ever sees the canary.
    assert.equal(report.verdict.code, "AUTH_FAILED");
    const dump = await dumpPrefix(redis, p);
    assert.ok(dump.keys.length > 3, "the scan saw the queue's keys");
    assert.ok(!dump.text.includes(canary), "canary found in Redis");
    assert.ok(!w.output().includes(canary), "canary found in worker logs");
    assert.ok(!(out.stdout + out.stderr).includes(canary), "canary found in CLI output");
    assert.match(dump.text, /PASS \*\*\*\*/, "the redacted transcript is what was stored");
  });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(repoRoot, "bin", "ftp-doctor.js"), ...args], {
      env: { PATH: process.env.PATH ?? "", REDIS_URL, ...env },
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
