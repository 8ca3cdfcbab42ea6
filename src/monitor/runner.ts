/**
 * Monitoring on BullMQ. A job scheduler ticks `monitor-tick` (once per tick across every bot
 * replica); the tick atomically claims the units (target × zone) that are due from a sorted
 * set and adds, per unit, a flow: the check job in the zone's queue (run by that zone's
 * workers like any check) as the child of an evaluation job in `monitor-eval`. The evaluation
 * runs when the check has finished, on one bot replica, under a per-target lock: the incident
 * state machine (incident.ts) decides, and its events are posted to Slack at most once.
 * Due times live in Redis, so restarts keep the schedule; first due times are spread over the
 * interval by a hash of the unit (no thundering herd).
 */
import { mentionUser } from "../render/slackText.js";
import { createHash, randomUUID } from "node:crypto";
import { FlowProducer, type Job, Queue, Worker } from "bullmq";
import type { Redis } from "ioredis";
import type { CheckReport } from "../check/run.js";
import { type MonitorConfig, type MonitorLine, parseDuration, parseMonitorLine } from "../config/monitorSchema.js";
import { crossZoneVerdict, type ZoneOutcome } from "../diagnosis/crossZone.js";
import type { Logger } from "../log.js";
import { TargetPolicy } from "../policy/targetPolicy.js";
import { keys, targetKey } from "../queue/keys.js";
import { botCheckJob, CheckJobPayload } from "../queue/payload.js";
import type { CheckQueue } from "../queue/producer.js";
import { redisFor } from "../queue/redis.js";
import { incidentParent, incidentReply } from "../render/incident.js";
import type { Poster } from "../slack/poster.js";
import type { ConfigFile } from "../config/file.js";
import {
  applyResult,
  emptyState,
  type IncidentEvent,
  nextEventId,
  openIncident,
  flapCount,
  type Rules,
  type TargetState,
  type ZoneResult,
} from "./incident.js";
import { certDaysOf, severityOf } from "./severity.js";

export interface MonitorUnit {
  id: string;
  /** targetKey (host:port) */
  key: string;
  target: string;
  host: string;
  port: number;
  zone: string;
  profile?: string;
  intervalMs: number;
}

export interface MonitorDeps {
  prefix: string;
  redisUrl: string;
  config: ConfigFile;
  monitor: MonitorConfig;
  queue: CheckQueue;
  redis: Redis;
  poster: Poster;
  logger: Logger;
  /** How often the scheduler ticks. @defaultValue 1000 */
  tickMs?: number;
  /** How long the immediate checks of the other zones may take when an incident opens. @defaultValue 45000 */
  pictureWaitMs?: number;
  /** Evaluations running at once in this process. @defaultValue 16 */
  concurrency?: number;
  /** The ts of an incident's parent message in the channel (posted by a process that died before recording it). */
  findParent?: (channel: string, target: string, openedAt: number) => Promise<string | undefined>;
  /** Whether the thread already holds a reply with this text (posted by a process that died before recording it). */
  findReply?: (channel: string, threadTs: string, text: string) => Promise<boolean>;
  /** Called after each evaluation (metrics, the bench's drift figures). */
  onEvaluated?: (e: { unit: string; zone: string; due: number; startedAt: number; code: string }) => void;
}

interface EvalData {
  unit: string;
  key: string;
  target: string;
  zone: string;
  due: number;
}

const shortId = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 16);

/** The units a monitor configuration asks for, each checked against the target policy. */
export function monitorUnits(
  config: ConfigFile,
  monitor: MonitorConfig,
): { units: MonitorUnit[]; refused: { line: string; message: string }[] } {
  const policy = new TargetPolicy(config);
  const interval = parseDuration(monitor.interval)!;
  const units = new Map<string, MonitorUnit>();
  const refused: { line: string; message: string }[] = [];
  for (const raw of monitor.targets) {
    const line = parseMonitorLine(raw) as MonitorLine;
    const zones = line.zones === "all" ? (config.zones.length ? config.zones.map((z) => z.name) : ["default"]) : line.zones;
    for (const zone of zones.length ? zones : [undefined]) {
      const d = policy.request({
        who: { front: "monitor" },
        host: line.host,
        ...(zone ? { zone } : {}),
        ...(line.profile ? { profile: line.profile } : {}),
      });
      if (!d.permitted) {
        refused.push({ line: raw, message: d.message });
        continue;
      }
      const key = targetKey(line.host, line.port);
      const id = `${key}|${d.zone}`;
      units.set(id, {
        id,
        key,
        target: line.target,
        host: line.host,
        port: line.port,
        zone: d.zone,
        ...(line.profile ? { profile: line.profile } : {}),
        intervalMs: line.intervalMs ?? interval,
      });
    }
  }
  return { units: [...units.values()], refused };
}

// KEYS: due, units; ARGV: now, limit. Claims due units and moves each to its next slot
// (due + interval; when far behind, now + interval: missed runs are skipped, not bunched).
const CLAIM = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
local now = tonumber(ARGV[1])
for i = 1, #due, 2 do
  local id, at = due[i], tonumber(due[i + 1])
  local unit = redis.call('HGET', KEYS[2], id)
  if unit then
    local interval = tonumber(string.match(unit, '"intervalMs":(%d+)'))
    local nextAt = at + interval
    if nextAt <= now then nextAt = now + interval end
    redis.call('ZADD', KEYS[1], nextAt, id)
    out[#out + 1] = unit
    out[#out + 1] = tostring(at)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`;

/** Write the configured units to Redis: new ones get a due time spread over their interval. */
export async function syncUnits(redis: Redis, prefix: string, units: MonitorUnit[], now = Date.now()): Promise<void> {
  const existing = await redis.hkeys(keys.monitor.units(prefix));
  const wanted = new Set(units.map((u) => u.id));
  const stale = existing.filter((id) => !wanted.has(id));
  const m = redis.multi();
  if (stale.length) {
    m.hdel(keys.monitor.units(prefix), ...stale);
    m.zrem(keys.monitor.due(prefix), ...stale);
  }
  for (const u of units) {
    m.hset(keys.monitor.units(prefix), u.id, JSON.stringify(u));
    const offset = Number.parseInt(shortId(u.id).slice(0, 8), 16) % u.intervalMs;
    m.zadd(keys.monitor.due(prefix), "NX", now + offset, u.id);
  }
  await m.exec();
}

export interface RunningMonitor {
  /** Claim due units and enqueue their checks (the scheduler calls this every tick). */
  tick(now?: number): Promise<number>;
  /** Buttons: the incident's target and zones, when it is still open. */
  incident(
    id: string,
  ): Promise<{ key: string; target: string; host: string; port: number; zones: string[]; channel: string; ts?: string } | undefined>;
  acknowledge(id: string, user: string): Promise<{ ok: boolean; message?: string }>;
  mute(id: string, user: string, untilResolved: boolean): Promise<{ ok: boolean; message?: string }>;
  /** Open incidents by severity, as Redis holds them now (metrics). */
  openIncidents(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function startMonitor(deps: MonitorDeps): Promise<RunningMonitor> {
  const { prefix, redis, logger, monitor } = deps;
  const rules: Rules = {
    failAfter: monitor.failAfter,
    recoverAfter: monitor.recoverAfter,
    flapChanges: monitor.flapping.changes,
    flapWindowMs: parseDuration(monitor.flapping.window)!,
  };
  const { units, refused } = monitorUnits(deps.config, monitor);
  for (const r of refused) logger.error({ line: r.line, problem: r.message }, "monitor target refused by the target policy");
  await syncUnits(redis, prefix, units);
  const unitsByKey = new Map<string, MonitorUnit[]>();
  for (const u of units) unitsByKey.set(u.key, [...(unitsByKey.get(u.key) ?? []), u]);

  const conns: Redis[] = [];
  const conn = () => {
    const c = redisFor("worker", deps.redisUrl);
    c.on("error", () => undefined);
    conns.push(c);
    return c;
  };
  const flow = new FlowProducer({ connection: conn(), prefix });
  const tickQueue = new Queue(keys.monitor.tickQueue, { connection: conn(), prefix });
  await tickQueue.upsertJobScheduler(
    "monitor-tick",
    { every: deps.tickMs ?? 1_000 },
    { name: "tick", opts: { removeOnComplete: true, removeOnFail: { count: 100 } } },
  );

  // ------------------------------------------------------------------ scheduling
  const tick = async (now = Date.now()): Promise<number> => {
    const claimed = (await redis.eval(CLAIM, 2, keys.monitor.due(prefix), keys.monitor.units(prefix), now, 2_000)) as string[];
    const live = new Map<string, boolean>();
    const flows: Parameters<FlowProducer["addBulk"]>[0] = [];
    for (let i = 0; i < claimed.length; i += 2) {
      const u = JSON.parse(claimed[i]!) as MonitorUnit;
      const due = Number(claimed[i + 1]);
      if (!live.has(u.zone)) live.set(u.zone, (await deps.queue.liveWorkers(u.zone)) > 0);
      if (!live.get(u.zone)) continue; // logged once per tick below; the next slot tries again
      // One check per unit at a time: a zone that is slower than the interval is not buried.
      const mark = await redis.set(keys.monitor.inflight(prefix, u.id), String(due), "PX", u.intervalMs * 2 + 60_000, "NX");
      if (mark !== "OK") {
        logger.warn({ unit: u.id }, "monitor check still running at its next slot; skipped");
        continue;
      }
      const id = `${shortId(u.id)}-${due}`;
      const payload = CheckJobPayload.parse(
        botCheckJob({ target: u.target, zone: u.zone, ...(u.profile ? { profile: u.profile } : {}), write: false }, "monitor"),
      );
      const data: EvalData = { unit: u.id, key: u.key, target: u.target, zone: u.zone, due };
      flows.push({
        name: "evaluate",
        queueName: keys.monitor.evalQueue,
        data,
        opts: {
          jobId: `eval-${id}`,
          removeOnComplete: true,
          removeOnFail: { count: 1_000 },
          attempts: 3,
          backoff: { type: "exponential", delay: 1_000 },
        },
        children: [
          {
            name: "check",
            queueName: keys.queueName(u.zone),
            data: payload,
            opts: {
              jobId: `mon-${id}`,
              attempts: 2,
              backoff: { type: "exponential", delay: 1_000 },
              removeOnComplete: true,
              removeOnFail: { age: 3_600 },
              // A failed check (infrastructure) still lets the evaluation run, which then counts nothing.
              ignoreDependencyOnFailure: true,
            },
          },
        ],
      });
    }
    for (const [zone, ok] of live) if (!ok) logger.warn({ zone }, "monitor: no live worker in zone; its checks wait for the next slot");
    if (flows.length) await flow.addBulk(flows);
    return flows.length;
  };
  const tickWorker = new Worker(keys.monitor.tickQueue, async () => void (await tick()), { connection: conn(), prefix, concurrency: 1 });
  tickWorker.on("error", (err) => logger.error({ err: err.message }, "monitor tick worker error"));
  tickWorker.on("failed", (_job, err) => logger.warn({ err: err.message }, "monitor tick failed"));

  // ------------------------------------------------------------------ per-target lock
  let closed = false;
  // Short lease, renewed every LOCK_MS / 3 while held: a bot killed with -9 holds a target for at
  // most LOCK_MS (an Acknowledge or the next evaluation waits that long at worst). 6 s leaves the
  // renewal two chances before the lease lapses; the event loop never stalls near that long.
  const LOCK_MS = 6_000;
  const withLock = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const lock = keys.monitor.lock(prefix, key);
    const token = randomUUID();
    const t0 = Date.now();
    while ((await redis.set(lock, token, "PX", LOCK_MS, "NX")) !== "OK") {
      if (closed) throw new Error("monitor: closing");
      if (Date.now() - t0 > 4 * LOCK_MS) throw new Error(`monitor: lock of ${key} not released`);
      await new Promise((r) => setTimeout(r, 25));
    }
    const renew = setInterval(() => {
      void redis
        .eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0",
          1,
          lock,
          token,
          LOCK_MS,
        )
        .catch(() => undefined);
    }, LOCK_MS / 3);
    try {
      return await fn();
    } finally {
      clearInterval(renew);
      await redis.eval("if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0", 1, lock, token);
    }
  };
  const load = async (key: string): Promise<TargetState> => {
    const raw = await redis.get(keys.monitor.state(prefix, key));
    return raw ? (JSON.parse(raw) as TargetState) : emptyState(key);
  };
  const save = async (s: TargetState): Promise<void> => {
    const m = redis.multi().set(keys.monitor.state(prefix, s.target), JSON.stringify(s), "EX", 90 * 86_400);
    if (s.outbox.length) m.sadd(keys.monitor.outbox(prefix), s.target);
    else m.srem(keys.monitor.outbox(prefix), s.target);
    await m.exec();
  };

  // ------------------------------------------------------------------ delivery (once per event)
  // The marker is taken before posting. Found taken while the event is still in the outbox (the
  // target's lock is held, so no one else is delivering it), it means a process died mid-delivery:
  // the parent or reply is looked up in Slack and posted only if it is not there.
  const remember = (s: TargetState & { threads?: Record<string, string> }, id: string, ts: string) => {
    s.threads = Object.fromEntries([...Object.entries(s.threads ?? {}).slice(-4), [id, ts]]);
    if (s.incident?.id === id) s.incident.ts = ts;
  };
  const threadOf = (s: TargetState & { threads?: Record<string, string> }, incidentId: string) => s.threads?.[incidentId];
  const deliver = async (s: TargetState & { threads?: Record<string, string> }): Promise<void> => {
    while (s.outbox.length) {
      const e = s.outbox[0]!;
      const marker = keys.monitor.posted(prefix, e.id);
      if ((await redis.set(marker, "1", "EX", 30 * 86_400, "NX")) === "OK") {
        try {
          await post(s, e);
        } catch (err) {
          await redis.del(marker);
          logger.error({ event: e.id, kind: e.kind, err: (err as Error).message }, "incident event not posted; kept for retry");
          return;
        }
      } else if (e.kind === "open" && !threadOf(s, e.incident.id) && deps.findParent) {
        // Posted by a process that died before it could record where: find the parent in the channel.
        const ts = await deps.findParent(e.incident.channel, e.incident.target, e.incident.openedAt).catch(() => undefined);
        if (ts) remember(s, e.incident.id, ts);
        logger.warn({ incident: e.incident.id, found: !!ts }, "incident parent posted by a process that died; looked it up");
      } else if (e.kind !== "open") {
        try {
          await post(s, e, { unlessPosted: true });
        } catch (err) {
          logger.error(
            { event: e.id, kind: e.kind, err: (err as Error).message },
            "interrupted incident event not finished; kept for retry",
          );
          return;
        }
      }
      s.outbox.shift();
      await save(s);
    }
  };
  const post = async (
    s: TargetState & { threads?: Record<string, string> },
    e: IncidentEvent,
    opts: { unlessPosted?: boolean } = {},
  ): Promise<void> => {
    const inc = e.incident;
    if (e.kind === "open") {
      const msg = incidentParent(inc);
      // Registered before the post: buttons work even if this process dies right after posting.
      await redis.hset(keys.monitor.incidents(prefix), inc.id, s.target);
      const ts = await deps.poster.post({ channel: inc.channel, text: msg.text, blocks: msg.blocks });
      if (!ts) return;
      remember(s, inc.id, ts);
      logger.info({ incident: inc.id, severity: inc.severity, cause: inc.cause, channel: inc.channel }, "incident opened");
      return;
    }
    const ts = threadOf(s, inc.id);
    if (!ts) {
      logger.warn({ incident: inc.id, kind: e.kind }, "incident event without a posted parent; skipped");
      return;
    }
    const reply = incidentReply(e);
    // After an interrupted delivery: a reply Slack already holds is not posted twice (without a way to look, it is).
    const posted = opts.unlessPosted && reply && deps.findReply ? await deps.findReply(inc.channel, ts, reply) : false;
    if (opts.unlessPosted)
      logger.warn({ incident: inc.id, kind: e.kind, found: posted }, "incident event interrupted by a process that died; finished");
    if (reply && !posted) await deps.poster.post({ channel: inc.channel, thread_ts: ts, text: reply });
    const parent = incidentParent({ ...inc, ts });
    await deps.poster.update({ channel: inc.channel, ts, text: parent.text, blocks: parent.blocks });
    if (e.kind === "recovered") {
      await redis.hdel(keys.monitor.incidents(prefix), inc.id);
      logger.info({ incident: inc.id, durationMs: e.durationMs }, "incident resolved");
    } else logger.info({ incident: inc.id, kind: e.kind }, "incident updated");
  };

  // ------------------------------------------------------------------ evaluation
  const toResult = (report: CheckReport, zone: string, jobId: string, now: number): ZoneResult => {
    const certDays = certDaysOf(report, now);
    return {
      zone,
      jobId,
      code: report.verdict.code,
      layer: report.verdict.layer,
      title: report.verdict.title,
      problem: report.verdict.code !== "HEALTHY" || (certDays !== undefined && certDays <= monitor.certDays),
      at: Date.parse(report.startedAt) + report.durationMs,
      ...(certDays !== undefined ? { certDays } : {}),
    };
  };

  /** When one zone opens an incident, the target's other zones are checked at once. */
  const picture = async (s: TargetState, first: { zone: string; report: CheckReport }, data: EvalData): Promise<ZoneOutcome[]> => {
    const others = (unitsByKey.get(data.key) ?? []).filter((u) => u.zone !== first.zone);
    const outcomes: ZoneOutcome[] = [{ zone: first.zone, report: first.report }];
    await Promise.all(
      others.map(async (u) => {
        try {
          const job = await deps.queue.enqueue(
            botCheckJob({ target: u.target, zone: u.zone, ...(u.profile ? { profile: u.profile } : {}), write: false }, "monitor"),
          );
          const report = await deps.queue.result(u.zone, job.jobId, deps.pictureWaitMs ?? 45_000);
          outcomes.push({ zone: u.zone, report });
          applyResult(s, toResult(report, u.zone, job.jobId, Date.now()), rules);
        } catch (err) {
          outcomes.push({ zone: u.zone, error: (err as Error).message });
        }
      }),
    );
    return outcomes.sort((a, b) => a.zone.localeCompare(b.zone));
  };

  const evaluate = async (job: Job<EvalData>): Promise<void> => {
    const data = job.data;
    const values = await job.getChildrenValues<CheckReport>();
    await redis.del(keys.monitor.inflight(prefix, data.unit));
    const [childKey, report] = Object.entries(values)[0] ?? [];
    if (!report || !childKey) {
      logger.warn({ unit: data.unit, due: data.due }, "monitor check failed (infrastructure); not counted");
      return;
    }
    deps.onEvaluated?.({
      unit: data.unit,
      zone: data.zone,
      due: data.due,
      startedAt: Date.parse(report.startedAt),
      code: report.verdict.code,
    });
    const childId = childKey.split(":").at(-1)!;
    await withLock(data.key, async () => {
      const s = await load(data.key);
      const now = Date.now();
      const action = applyResult(s, toResult(report, data.zone, childId, now), rules);
      if (action === "open") {
        const outcomes = await picture(s, { zone: data.zone, report }, data);
        const cross = crossZoneVerdict(data.target, outcomes);
        const zones = Object.entries(s.zones).map(([zone, z]) => ({
          zone,
          code: z.code,
          layer: z.layer,
          ...(z.certDays !== undefined ? { certDays: z.certDays } : {}),
        }));
        const flapping = flapCount(s) >= rules.flapChanges;
        const sev = severityOf({ zones, flapping, certDays: monitor.certDays }, monitor.severity);
        const opener = outcomes.find((o) => o.report && o.report.verdict.code !== "HEALTHY")?.report ?? report;
        const single = outcomes.length === 1;
        if (sev)
          openIncident(
            s,
            {
              openedAt: now,
              severity: sev.severity,
              condition: sev.condition,
              picture: {
                code: cross.code,
                title: flapping
                  ? `${data.target} is flapping: ${flapCount(s)} state changes within ${monitor.flapping.window}`
                  : single
                    ? `${data.target}: ${opener.verdict.code} (monitored from ${data.zone} only)`
                    : cross.title,
                explanation: single ? opener.verdict.explanation : cross.explanation,
                zones: cross.zones.map((z) => ({ zone: z.zone, code: z.code, ...(z.error ? { error: z.error } : {}) })),
              },
              verdict: {
                code: opener.verdict.code,
                title: opener.verdict.title,
                explanation: opener.verdict.explanation,
                remediation: opener.verdict.remediation.slice(0, 3),
                zone: opener.zone ?? data.zone,
              },
              ...(monitor.oncall ? { oncall: monitor.oncall } : {}),
              channel: monitor.channel,
            },
            rules,
          );
      }
      await save(s);
      await deliver(s);
    });
  };
  const evalWorker = new Worker<EvalData>(keys.monitor.evalQueue, evaluate, {
    connection: conn(),
    prefix,
    concurrency: deps.concurrency ?? 16,
  });
  evalWorker.on("error", (err) => logger.error({ err: err.message }, "monitor evaluation worker error"));
  evalWorker.on("failed", (job, err) => logger.warn({ unit: job?.data.unit, err: err.message }, "monitor evaluation failed"));

  // Events a previous process decided but could not post (Slack down, killed mid-delivery).
  // In the background: a lock left by a killed process must not delay the start-up.
  const resumed = (async () => {
    for (const key of await redis.smembers(keys.monitor.outbox(prefix))) await withLock(key, async () => deliver(await load(key)));
  })().catch((err) => logger.warn({ err: (err as Error).message }, "monitor: undelivered incident events not resumed"));

  const change = async (id: string, fn: (s: TargetState) => string | undefined): Promise<{ ok: boolean; message?: string }> => {
    const key = await redis.hget(keys.monitor.incidents(prefix), id);
    if (!key) return { ok: false, message: "that incident is resolved or unknown." };
    return withLock(key, async () => {
      const s = await load(key);
      if (s.incident?.id !== id) return { ok: false, message: "that incident is resolved." };
      const refusal = fn(s);
      if (refusal) return { ok: false, message: refusal };
      s.outbox.push({ id: nextEventId(s), kind: "update", incident: { ...s.incident } });
      await save(s);
      await deliver(s);
      return { ok: true };
    });
  };

  return {
    tick,
    async openIncidents() {
      const counts: Record<string, number> = {};
      const targets = [...new Set(Object.values(await redis.hgetall(keys.monitor.incidents(prefix))))];
      const states = targets.length ? await redis.mget(targets.map((t) => keys.monitor.state(prefix, t))) : [];
      for (const raw of states) {
        const severity = raw ? (JSON.parse(raw) as TargetState).incident?.severity : undefined;
        if (severity) counts[severity] = (counts[severity] ?? 0) + 1;
      }
      return counts;
    },
    async incident(id) {
      const key = await redis.hget(keys.monitor.incidents(prefix), id);
      if (!key) return undefined;
      const s = await load(key);
      if (s.incident?.id !== id) return undefined;
      const us = unitsByKey.get(key) ?? [];
      const u = us[0];
      if (!u) return undefined;
      return {
        key,
        target: u.target,
        host: u.host,
        port: u.port,
        zones: us.map((x) => x.zone),
        channel: s.incident.channel,
        ...(s.incident.ts ? { ts: s.incident.ts } : {}),
      };
    },
    acknowledge: (id, user) =>
      change(id, (s) => {
        if (s.incident!.ack) return `already acknowledged by ${mentionUser(s.incident!.ack.user)}.`;
        s.incident!.ack = { user, at: Date.now() };
        return undefined;
      }),
    mute: (id, user, untilResolved) =>
      change(id, (s) => {
        s.incident!.mute = { by: user, until: untilResolved ? null : Date.now() + 3_600_000 };
        return undefined;
      }),
    async close() {
      closed = true;
      await resumed;
      await tickWorker.close();
      await evalWorker.close();
      await tickQueue.close();
      await flow.close();
      for (const c of conns) c.disconnect();
    },
  };
}
