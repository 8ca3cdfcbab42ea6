/**
 * Every Redis key ftp-doctor itself writes, and every BullMQ queue name (BullMQ's own keys are
 * `<prefix>:<queue>:…`). No key string is built anywhere else.
 */
export const keys = {
  queueName: (zone: string) => `checks-${zone}`,
  /** BullMQ queue of the daily digests (job schedulers). */
  digestQueue: "digest",
  /** BullMQ queue of watch ticks (delayed jobs, one per watch and tick). */
  watchQueue: "watch",
  /** hash target|zone → code: the state the last digest #index showed. */
  digestLast: (prefix: string, index: number) => `${prefix}:digest:${index}:last`,
  /** Slack bot state, shared by every bot replica. */
  slack: {
    /** First-delivery markers of Slack request ids (retries, double subscriptions). */
    seen: (prefix: string, id: string) => `${prefix}:slack:seen:${id}`,
    /** hash deliveryId → Delivery: verdicts still to post (resumed by any replica). */
    pending: (prefix: string) => `${prefix}:slack:pending`,
    /** The replica currently delivering a pending verdict (a lease with a TTL). */
    lease: (prefix: string, deliveryId: string) => `${prefix}:slack:lease:${deliveryId}`,
    /** Posted-once markers. */
    done: (prefix: string, id: string) => `${prefix}:slack:done:${id}`,
    /** The check spec behind a job id (for Re-run and Watch). */
    spec: (prefix: string, jobId: string) => `${prefix}:slack:spec:${jobId}`,
    /** hash watchId → Watch: what every watch last saw. */
    watches: (prefix: string) => `${prefix}:slack:watches`,
    /** set of "channel|messageTs" where a job's verdict (and so its buttons) was shown (issue 10 item 2). */
    shown: (prefix: string, jobId: string) => `${prefix}:slack:shown:${jobId}`,
    /** Fixed-window counters for slack.limits.perUser ("u") and perChannel ("c"). */
    rate: (prefix: string, kind: "u" | "c", id: string, bucket: number) => `${prefix}:slack:rate:${kind}:${id}:${bucket}`,
    /** zset jobId → expiry (ms): one user's checks queued or running (slack.limits.concurrentPerUser). */
    running: (prefix: string, user: string) => `${prefix}:slack:running:${user}`,
  },
  report: (prefix: string, jobId: string) => `${prefix}:report:${jobId}`,
  zoneWorkers: (prefix: string, zone: string) => `${prefix}:zone:${zone}:workers`,
  zones: (prefix: string) => `${prefix}:zones`,
  /** History v2 (src/queue/history.ts). `t` is a targetKey, `z` a zone, `day` days since the epoch (UTC). */
  history: {
    /** hash zone → "code|sinceMs|lastMs": the current state per zone (small, read by the transition script). */
    state: (prefix: string, t: string) => `${prefix}:h:state:${t}`,
    /** hash zone → the latest full StoredResult (JSON). */
    latest: (prefix: string, t: string) => `${prefix}:h:latest:${t}`,
    /** hash hour-of-day → "checks|failures|worstRank|worstCode|histogram": per-hour aggregates of one UTC day. */
    day: (prefix: string, t: string, z: string, day: number) => `${prefix}:h:agg:${t}:${z}:${day}`,
    /** zset of "atMs|from|to|jobId|title" by time: verdict changes. */
    transitions: (prefix: string, t: string, z: string) => `${prefix}:h:tr:${t}:${z}`,
    /** zset of hour starts (ms) with at least one failure: kept longer, for recurring windows. */
    failingHours: (prefix: string, t: string, z: string) => `${prefix}:h:fail:${t}:${z}`,
  },
  /** Monitoring and incidents (src/monitor/). `u` is a unit id (target|zone), `t` a targetKey. */
  monitor: {
    tickQueue: "monitor-tick",
    evalQueue: "monitor-eval",
    /** hash unit id → MonitorUnit JSON */
    units: (prefix: string) => `${prefix}:mon:units`,
    /** zset unit id → next due time (ms) */
    due: (prefix: string) => `${prefix}:mon:due`,
    /** a check of this unit is queued or running (one at a time per unit) */
    inflight: (prefix: string, u: string) => `${prefix}:mon:inflight:${u}`,
    /** TargetState JSON (src/monitor/incident.ts) */
    state: (prefix: string, t: string) => `${prefix}:mon:state:${t}`,
    lock: (prefix: string, t: string) => `${prefix}:mon:lock:${t}`,
    /** set of targets with undelivered incident events */
    outbox: (prefix: string) => `${prefix}:mon:outbox`,
    /** marker: this incident event was handed to Slack (at most once) */
    posted: (prefix: string, eventId: string) => `${prefix}:mon:posted:${eventId}`,
    /** hash incident id → target (for buttons; the button's value is only looked up, never trusted) */
    incidents: (prefix: string) => `${prefix}:mon:incidents`,
  },
} as const;

/** History is kept per `host:port`, however the target was typed. */
export function targetKey(host: string, port: number): string {
  return `${host.toLowerCase()}:${port}`;
}
