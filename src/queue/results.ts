import type { Redis } from "ioredis";
import type { CheckReport } from "../check/run.js";
import { keys, targetKey } from "./keys.js";

export interface StoredResult {
  jobId: string;
  zone: string;
  finishedAt: string;
  report: CheckReport;
}

/**
 * Store a result under its job id. Idempotent: a job that a crash made run twice overwrites
 * the same entry, so history holds each job exactly once.
 */
export async function storeResult(redis: Redis, prefix: string, ttlDays: number, r: StoredResult): Promise<void> {
  const ttl = ttlDays * 86_400;
  const hk = keys.history(prefix, targetKey(r.report.target.host, r.report.target.port));
  const now = Date.now();
  await redis
    .multi()
    .set(keys.report(prefix, r.jobId), JSON.stringify(r), "EX", ttl)
    .zadd(hk, now, r.jobId)
    .zremrangebyscore(hk, 0, now - ttl * 1000)
    .expire(hk, ttl)
    .exec();
}

/** The last results for a target, newest first. */
export async function history(redis: Redis, prefix: string, host: string, port: number, limit = 20): Promise<StoredResult[]> {
  const ids = await redis.zrevrange(keys.history(prefix, targetKey(host, port)), 0, limit - 1);
  if (ids.length === 0) return [];
  const raw = await redis.mget(ids.map((id) => keys.report(prefix, id)));
  return raw.filter((x): x is string => x !== null).map((x) => JSON.parse(x) as StoredResult);
}

export async function storedResult(redis: Redis, prefix: string, jobId: string): Promise<StoredResult | undefined> {
  const raw = await redis.get(keys.report(prefix, jobId));
  return raw ? (JSON.parse(raw) as StoredResult) : undefined;
}

/**
 * Every stored result for a target finished at or after `sinceMs`, oldest first (at most
 * `max`, the newest kept). Read in chunks: a week at a 5-minute interval is about 2,000 per zone.
 */
export async function resultsSince(
  redis: Redis,
  prefix: string,
  host: string,
  port: number,
  sinceMs: number,
  max = 6_000,
): Promise<StoredResult[]> {
  const ids = (await redis.zrevrangebyscore(keys.history(prefix, targetKey(host, port)), "+inf", sinceMs, "LIMIT", 0, max)).reverse();
  const out: StoredResult[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const raw = await redis.mget(ids.slice(i, i + 500).map((id) => keys.report(prefix, id)));
    for (const x of raw) if (x !== null) out.push(JSON.parse(x) as StoredResult);
  }
  return out;
}
