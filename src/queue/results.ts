/**
 * History v2: every result counts, storage stays small at fleet scale.
 *
 * Per target and zone we keep
 *  - the current state ("code|since|last") and the latest full report,
 *  - per-hour aggregates (checks, failures, worst code, a duration histogram) in one small hash
 *    per UTC day, kept HISTORY_LIMITS.aggregateDays,
 *  - the transitions (from, to, when, verdict title, job id) for `ttlDays`, and the full report
 *    of the newest HISTORY_LIMITS.transitionReports transitions,
 *  - the hours with failures for HISTORY_LIMITS.failingHoursDays (recurring windows need weeks).
 * A healthy target costs about 1 KB a day; the full report of every check is not kept.
 */
import type { Redis } from "ioredis";
import type { CheckReport } from "../check/run.js";
import type { Layer } from "../diagnosis/codes.js";
import { keys, targetKey } from "./keys.js";

export interface StoredResult {
  jobId: string;
  zone: string;
  finishedAt: string;
  report: CheckReport;
}

export const HISTORY_LIMITS = {
  /** Days of per-hour aggregates (the 7-day view plus the partial first day). */
  aggregateDays: 8,
  /** Days of "hours with failures" kept for recurring windows (same weekday over 5 weeks). */
  failingHoursDays: 35,
  /** Transitions kept per target and zone (a flapping target cannot grow without bound). */
  transitions: 500,
  /** Full reports kept for the newest transitions per target and zone. */
  transitionReports: 10,
  /** Per-job reports of scheduled (monitor) checks: only long enough to be picked up. */
  transientReportSec: 900,
} as const;

/** Upper bounds (ms) of the duration histogram buckets; the last bucket is everything above. */
export const DURATION_BUCKETS_MS = [25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 20_000, 60_000] as const;

/** How bad a verdict is, for "worst code of the hour": unreachable beats broken TLS beats a data-channel fault. */
const LAYER_RANK: Record<Layer, number> = { none: 0, data: 1, server: 2, auth: 3, tls: 3, greeting: 4, tcp: 4, dns: 4, policy: 4 };

export function bucketOf(ms: number): number {
  const i = DURATION_BUCKETS_MS.findIndex((b) => ms <= b);
  return i === -1 ? DURATION_BUCKETS_MS.length : i;
}

// KEYS: report, state, latest, day, transitions, failingHours
// ARGV: storedJson, reportTtl, zone, code, failing, nowMs, hourOfDay, bucket, rank, jobId, title,
//       ttlSec, dayTtlSec, hourStartMs, failTtlMs, keepTransitions, keepReports, prefix, latestTtl
const RECORD = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  return 0
end
local reportTtl = tonumber(ARGV[2])
redis.call('SET', KEYS[1], ARGV[1], 'EX', reportTtl)
local zone, code, failing, now = ARGV[3], ARGV[4], ARGV[5] == '1', tonumber(ARGV[6])
local bucket, rank = tonumber(ARGV[8]), tonumber(ARGV[9])
-- per-hour aggregate: "checks|failures|worstRank|worstCode|b:n,b:n"
local cur = redis.call('HGET', KEYS[4], ARGV[7])
local checks, failures, wrank, wcode, hist = 0, 0, 0, '', {}
if cur then
  local c, f, r, w, h = string.match(cur, '^(%d+)|(%d+)|(%d+)|([^|]*)|(.*)$')
  checks, failures, wrank, wcode = tonumber(c), tonumber(f), tonumber(r), w
  for b, n in string.gmatch(h, '(%d+):(%d+)') do hist[tonumber(b)] = tonumber(n) end
end
checks = checks + 1
if failing then failures = failures + 1 end
if failing and (wcode == '' or rank > wrank) then wrank, wcode = rank, code end
hist[bucket] = (hist[bucket] or 0) + 1
local parts = {}
for b = 0, 11 do if hist[b] then parts[#parts + 1] = b .. ':' .. hist[b] end end
redis.call('HSET', KEYS[4], ARGV[7], checks .. '|' .. failures .. '|' .. wrank .. '|' .. wcode .. '|' .. table.concat(parts, ','))
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[13]))
if failing then
  redis.call('ZADD', KEYS[6], ARGV[14], ARGV[14])
  redis.call('ZREMRANGEBYSCORE', KEYS[6], 0, now - tonumber(ARGV[15]))
  redis.call('PEXPIRE', KEYS[6], tonumber(ARGV[15]))
end
-- state and transitions
local ttl = tonumber(ARGV[12])
local prev = redis.call('HGET', KEYS[2], zone)
local since = now
local changed = 0
if not prev then changed = 2 end
if prev then
  local pcode, psince = string.match(prev, '^([^|]*)|(%d+)|')
  if pcode == code then
    since = tonumber(psince)
  else
    changed = 1
    redis.call('ZADD', KEYS[5], now, now .. '|' .. pcode .. '|' .. code .. '|' .. ARGV[10] .. '|' .. ARGV[11])
    redis.call('EXPIRE', KEYS[1], ttl)
    redis.call('ZREMRANGEBYSCORE', KEYS[5], 0, now - ttl * 1000)
    redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -tonumber(ARGV[16]) - 1)
    -- the transition that just fell out of the newest N keeps no full report
    local old = redis.call('ZRANGE', KEYS[5], -tonumber(ARGV[17]) - 1, -tonumber(ARGV[17]) - 1)
    if old[1] then
      local oid = string.match(old[1], '^%d+|[^|]*|[^|]*|([^|]*)|')
      if oid and oid ~= ARGV[10] then redis.call('EXPIRE', ARGV[18] .. ':report:' .. oid, 60) end
    end
    redis.call('EXPIRE', KEYS[5], ttl)
  end
end
redis.call('HSET', KEYS[2], zone, code .. '|' .. since .. '|' .. now)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('HSET', KEYS[3], zone, ARGV[1])
redis.call('EXPIRE', KEYS[3], ttl)
return 1 + changed
`;

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * Record a result. Idempotent per job id: a job that a crash made run twice overwrites its
 * report but counts once (the per-job report key is the marker). `transient`: a scheduled check
 * (monitor), whose per-job report is only kept until the bot has read it.
 * Returns "first", "same" (state unchanged), "changed" (a transition) or "duplicate".
 */
export async function storeResult(
  redis: Redis,
  prefix: string,
  ttlDays: number,
  r: StoredResult,
  opts: { transient?: boolean; now?: number } = {},
): Promise<"first" | "same" | "changed" | "duplicate"> {
  const now = opts.now ?? Date.now();
  const t = targetKey(r.report.target.host, r.report.target.port);
  const v = r.report.verdict;
  const ttl = ttlDays * 86_400;
  const day = Math.floor(now / DAY);
  const hourStart = now - (now % HOUR);
  const res = (await redis.eval(
    RECORD,
    6,
    keys.report(prefix, r.jobId),
    keys.history.state(prefix, t),
    keys.history.latest(prefix, t),
    keys.history.day(prefix, t, r.zone, day),
    keys.history.transitions(prefix, t, r.zone),
    keys.history.failingHours(prefix, t, r.zone),
    JSON.stringify(r),
    opts.transient ? HISTORY_LIMITS.transientReportSec : ttl,
    r.zone,
    v.code,
    v.code === "HEALTHY" ? "0" : "1",
    now,
    Math.floor((now % DAY) / HOUR),
    bucketOf(r.report.durationMs),
    LAYER_RANK[v.layer] ?? 1,
    r.jobId,
    v.title.replace(/\|/g, "/").slice(0, 200),
    ttl,
    HISTORY_LIMITS.aggregateDays * 86_400 + 3_600,
    hourStart,
    HISTORY_LIMITS.failingHoursDays * DAY,
    HISTORY_LIMITS.transitions,
    HISTORY_LIMITS.transitionReports,
    prefix,
  )) as number;
  return res === 0 ? "duplicate" : res === 2 ? "changed" : res === 3 ? "first" : "same";
}

export async function storedResult(redis: Redis, prefix: string, jobId: string): Promise<StoredResult | undefined> {
  const raw = await redis.get(keys.report(prefix, jobId));
  return raw ? (JSON.parse(raw) as StoredResult) : undefined;
}
