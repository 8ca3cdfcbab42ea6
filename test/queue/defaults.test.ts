/**
 * Queued checks with the shipped defaults (no lock/stalled overrides): a worker killed with -9
 * mid-check still yields the verdict to `check --queue --json`; failures print a JSON error
 * object and exit 3, distinct from 1 (a fault was found).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { repoRoot } from "../harness/env.js";
import { startFakeFtp } from "../harness/scripted.js";
import { deletePrefix, REDIS_URL, spawnWorker, stopWorker, uniquePrefix } from "./lib.js";

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const prefixes: string[] = [];
const DEFAULTS = { FTP_DOCTOR_STALLED_INTERVAL_MS: "", FTP_DOCTOR_LOCK_MS: "" };

function cli(args: string[], env: Record<string, string>) {
  const p = spawn(process.execPath, [path.join(repoRoot, "bin", "ftp-doctor.js"), ...args], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL, ...env },
  });
  let stdout = "";
  let stderr = "";
  p.stdout.on("data", (d) => (stdout += d));
  p.stderr.on("data", (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    p.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  return { done, stderr: () => stderr };
}

describe("queued checks with default settings", () => {
  after(async () => {
    for (const p of prefixes) await deletePrefix(redis, p);
    redis.disconnect();
  });

  test("kill -9 of the worker mid-check: check --queue --json still prints the verdict, and says the worker was lost", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const silent = await startFakeFtp({ greeting: null });
    const first = spawnWorker({ zone: "dmz", prefix, concurrency: 2, env: DEFAULTS });
    let second: ReturnType<typeof spawnWorker> | undefined;
    try {
      await first.waitFor(/worker started/);
      const run = cli(["check", `127.0.0.1:${silent.port}`, "--zone", "dmz", "--json"], { FTP_DOCTOR_REDIS_PREFIX: prefix });
      const q = new Queue("checks-dmz", { connection: redis, prefix });
      for (let i = 0; i < 1000 && (await q.getActiveCount()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await q.getActiveCount(), 1, "the check is running when the worker is killed");
      await q.close();
      first.kill("SIGKILL");
      const killedAt = Date.now();
      await first.exited;
      // The restarted worker (compose: restart: unless-stopped) finds the job stalled.
      second = spawnWorker({ zone: "dmz", prefix, concurrency: 2, env: DEFAULTS });
      const out = await run.done;
      const recoveredS = (Date.now() - killedAt) / 1000;
      assert.equal(out.code, 1, `a fault was found (exit 1); stderr: ${out.stderr}`);
      const report = JSON.parse(out.stdout) as { verdict: { code: string }; zone: string };
      assert.equal(report.verdict.code, "BANNER_TIMEOUT");
      assert.match(out.stderr, /worker running the check in zone "dmz" was lost; retrying/);
      console.log(`# kill -9 mid-check, default settings: CLI verdict ${recoveredS.toFixed(1)} s after the kill`);
    } finally {
      first.kill("SIGKILL");
      if (second) await stopWorker(second);
      await silent.stop();
    }
  });

  test("--json failures: a JSON error object on stdout and exit 3 (no live worker, Redis down)", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const noWorker = await cli(["check", "127.0.0.1:21", "--zone", "dmz", "--json"], { FTP_DOCTOR_REDIS_PREFIX: prefix }).done;
    assert.equal(noWorker.code, 3);
    const e1 = JSON.parse(noWorker.stdout) as { error: { code: string; message: string } };
    assert.equal(e1.error.code, "NO_WORKER");
    assert.match(e1.error.message, /no live worker in zone "dmz"/);
    const redisDown = await cli(["check", "127.0.0.1:21", "--zone", "dmz", "--json"], {
      FTP_DOCTOR_REDIS_PREFIX: prefix,
      REDIS_URL: "redis://127.0.0.1:1",
    }).done;
    assert.equal(redisDown.code, 3, redisDown.stderr);
    assert.equal((JSON.parse(redisDown.stdout) as { error: { code: string } }).error.code, "REDIS_UNAVAILABLE");
    const usage = await cli(["check", "host:99999", "--json"], {}).done;
    assert.equal(usage.code, 2);
    assert.equal((JSON.parse(usage.stdout) as { error: { code: string } }).error.code, "USAGE");
  });

  test("no result in time from a dead zone: JSON error NO_RESULT, exit 3", async () => {
    const prefix = uniquePrefix();
    prefixes.push(prefix);
    const silent = await startFakeFtp({ greeting: null });
    const w = spawnWorker({ zone: "dmz", prefix, concurrency: 1, env: DEFAULTS });
    try {
      await w.waitFor(/worker started/);
      const run = cli(["check", `127.0.0.1:${silent.port}`, "--zone", "dmz", "--json", "--wait", "1000"], {
        FTP_DOCTOR_REDIS_PREFIX: prefix,
      });
      const q = new Queue("checks-dmz", { connection: redis, prefix });
      for (let i = 0; i < 1000 && (await q.getActiveCount()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      await q.close();
      // The zone's only worker dies and nothing restarts it: the job cannot finish.
      w.kill("SIGKILL");
      const out = await run.done;
      assert.equal(out.code, 3, out.stderr);
      const e = JSON.parse(out.stdout) as { error: { code: string; message: string }; zone: string };
      assert.equal(e.error.code, "NO_RESULT");
      assert.equal(e.zone, "dmz");
    } finally {
      w.kill("SIGKILL");
      await silent.stop();
    }
  });
});
