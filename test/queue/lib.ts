/** Real Redis, real worker processes: helpers for the queue tests. */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Redis } from "ioredis";
import { repoRoot } from "../harness/env.js";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const BIN = path.join(repoRoot, "bin", "ftp-doctor.js");

export function uniquePrefix(): string {
  return `fdt-${randomBytes(5).toString("hex")}`;
}

export interface WorkerProc {
  pid: number;
  child: ChildProcess;
  output(): string;
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

export function spawnWorker(opts: {
  zone: string;
  prefix: string;
  concurrency?: number;
  env?: Record<string, string>;
  netns?: string;
  redisUrl?: string;
}): WorkerProc {
  const args = [BIN, "worker", "--zone", opts.zone, "--concurrency", String(opts.concurrency ?? 4)];
  // Workers enforce the target policy (issue 10): without a configuration of its own, a test
  // worker gets one that permits every address explicitly (CIDRs), as a lab's would.
  const config = opts.env?.FTP_DOCTOR_CONFIG ?? labConfig();
  const env = {
    PATH: process.env.PATH ?? "",
    REDIS_URL: opts.redisUrl ?? REDIS_URL,
    FTP_DOCTOR_REDIS_PREFIX: opts.prefix,
    FTP_DOCTOR_STALLED_INTERVAL_MS: "1000",
    FTP_DOCTOR_LOCK_MS: "2000",
    LOG_LEVEL: "info",
    FTP_DOCTOR_CONFIG: config,
    ...opts.env,
  };
  // An empty value in opts.env means "unset": the worker's own default applies.
  for (const [k, v] of Object.entries(env)) if (v === "") delete (env as Record<string, string>)[k];
  const child = opts.netns
    ? spawn("ip", ["netns", "exec", opts.netns, process.execPath, ...args], { env })
    : spawn(process.execPath, args, { env });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  return {
    pid: child.pid!,
    child,
    output: () => out,
    exited,
    kill: (signal) => {
      try {
        process.kill(child.pid!, signal);
      } catch {
        // already gone
      }
    },
    waitFor: (re, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          const m = re.exec(out);
          if (m) return resolve(m[0]);
          if (child.exitCode !== null) return reject(new Error(`worker exited (${child.exitCode}) before ${re}: ${out}`));
          if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${re}; worker output:\n${out}`));
          setTimeout(tick, 25);
        };
        tick();
      }),
  };
}

/** A worker, spawned and started (it said so); stopped again if it did not start. */
export async function startWorker(opts: Parameters<typeof spawnWorker>[0]): Promise<WorkerProc> {
  const w = spawnWorker(opts);
  try {
    await w.waitFor(/worker started/);
  } catch (e) {
    await stopWorker(w);
    throw e;
  }
  return w;
}

/**
 * A bot configuration written to `file` (returned): loopback permitted, one zone `dmz` for it,
 * then `more` lines (further zones, a `slack:` section).
 */
export function writeDmzConfig(file: string, more: string[] = []): string {
  writeFileSync(
    file,
    ["targets:", "  allow: ['127.0.0.0/8']", "zones:", "  - name: dmz", "    targets: ['127.0.0.0/8']", ...more].join("\n"),
  );
  return file;
}

let lab: string | undefined;
/** A worker configuration for tests: every IPv4 and IPv6 address, and `localhost`, permitted. */
export function labConfig(): string {
  if (!lab) {
    const dir = mkdtempSync(path.join(tmpdir(), "fd-lab-"));
    lab = path.join(dir, "lab.yaml");
    writeFileSync(lab, "targets:\n  allow: ['0.0.0.0/0', '::/0', 'localhost']\n");
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return lab;
}

export async function stopWorker(w: WorkerProc): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  w.kill("SIGTERM");
  const t = setTimeout(() => w.kill("SIGKILL"), 15_000);
  await w.exited;
  clearTimeout(t);
}

/** Every key under the prefix, with its whole content, as text (for secret scans). */
export async function dumpPrefix(redis: Redis, prefix: string): Promise<{ keys: string[]; text: string }> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  let text = "";
  for (const k of keys) {
    const type = await redis.type(k);
    let v: unknown;
    if (type === "string") v = await redis.get(k);
    else if (type === "hash") v = await redis.hgetall(k);
    else if (type === "list") v = await redis.lrange(k, 0, -1);
    else if (type === "set") v = await redis.smembers(k);
    else if (type === "zset") v = await redis.zrange(k, 0, -1, "WITHSCORES");
    else if (type === "stream") v = await redis.xrange(k, "-", "+");
    text += `${k} ${JSON.stringify(v)}\n`;
  }
  return { keys, text };
}

export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  const { keys } = await dumpPrefix(redis, prefix);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}

/** A TCP relay from `listenHost:port` to Redis, so a worker inside a namespace reaches it. */
export async function redisRelay(listenHost: string): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((a) => {
    const b = net.connect(Number(target.port || 6379), target.hostname);
    sockets.add(a).add(b);
    a.pipe(b).pipe(a);
    const end = () => {
      a.destroy();
      b.destroy();
    };
    a.on("error", end).on("close", end);
    b.on("error", end).on("close", end);
  });
  await new Promise<void>((r) => server.listen(0, listenHost, () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `redis://${listenHost}:${port}`,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
