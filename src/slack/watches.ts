import { createHash } from "node:crypto";
import { type Job, Queue, Worker } from "bullmq";
import { keys } from "../queue/keys.js";
import { botCheckJob } from "../queue/payload.js";
import { redisFor } from "../queue/redis.js";
import { hostPort } from "../render/slack.js";
import { authorizeSpec, type BotContext, type CheckSpec } from "./service.js";

export interface Watch {
  id: string;
  spec: CheckSpec;
  /** Who started it: every tick is re-authorised for this user and channel (issue 10 item 2). */
  user?: string;
  channel: string;
  threadTs: string;
  lastCode: string;
  since: number;
  until: number;
  /** Ticks done so far; the next tick's job id is derived from it. */
  tick: number;
}

export interface WatchOptions extends BotContext {
  redisUrl: string;
  /** Re-check interval and total duration. @defaultValue 180000 / 3600000 */
  intervalMs: number;
  durationMs: number;
}

/**
 * Watches live in Redis and BullMQ, not in a bot's timers: each tick is a delayed job whose id
 * is derived from the watch and the tick number, so every bot replica can run it, a restart
 * continues it, and adding the same tick twice (a resumed replica, a retried job) is a no-op.
 * A tick that a crash interrupts is re-run by BullMQ's stalled-job recovery; its post is guarded
 * by a marker so it appears once.
 */
export class WatchRunner {
  private readonly queue: Queue;
  private readonly worker: Worker;
  private readonly conns;

  constructor(private readonly o: WatchOptions) {
    this.conns = [redisFor("worker", o.redisUrl), redisFor("worker", o.redisUrl)] as const;
    for (const c of this.conns) c.on("error", () => undefined);
    this.queue = new Queue(keys.watchQueue, { connection: this.conns[0], prefix: o.prefix });
    this.queue.on("error", () => undefined);
    this.worker = new Worker(keys.watchQueue, (job: Job<{ id: string; tick: number }>) => this.tick(job.data.id, job.data.tick), {
      connection: this.conns[1],
      prefix: o.prefix,
      concurrency: 8,
    });
    this.worker.on("error", (err) => o.logger.warn({ err: err.message }, "watch worker error"));
    this.worker.on("failed", (job, err) => o.logger.warn({ watch: job?.data.id, err: err.message }, "watch tick failed"));
  }

  /** Start watching; false when this one is already watched. */
  async add(w: Omit<Watch, "tick">): Promise<boolean> {
    const watch: Watch = { ...w, tick: 0 };
    if ((await this.o.redis.hsetnx(keys.slack.watches(this.o.prefix), watch.id, JSON.stringify(watch))) === 0) return false;
    // Bounded by slack.limits.watches; the TTL outlives any watch (refreshed at every tick).
    await this.o.redis.expire(keys.slack.watches(this.o.prefix), 30 * 86_400);
    await this.schedule(watch, this.o.intervalMs);
    return true;
  }

  /** At start-up of any replica: make sure every stored watch has its next tick queued. */
  async resume(): Promise<number> {
    const all = await this.o.redis.hgetall(keys.slack.watches(this.o.prefix));
    for (const raw of Object.values(all)) await this.schedule(JSON.parse(raw) as Watch, this.o.intervalMs);
    return Object.keys(all).length;
  }

  private jobId(w: Pick<Watch, "id" | "tick">): string {
    return `w-${createHash("sha256").update(w.id).digest("hex").slice(0, 24)}-${w.tick}`;
  }

  private async schedule(w: Watch, delayMs: number): Promise<void> {
    await this.queue.add(
      "tick",
      { id: w.id, tick: w.tick },
      { jobId: this.jobId(w), delay: delayMs, attempts: 2, removeOnComplete: { age: 86_400 }, removeOnFail: { age: 86_400 } },
    );
  }

  private async tick(id: string, tick: number): Promise<void> {
    const { redis, prefix, poster, logger, queue } = this.o;
    const raw = await redis.hget(keys.slack.watches(prefix), id);
    if (!raw) return; // stopped
    const w = JSON.parse(raw) as Watch;
    if (w.tick !== tick) return; // an older tick, already done
    const where = hostPort(w.spec.host, w.spec.port);
    const minutes = (ms: number) => `${Math.max(1, Math.round(ms / 60_000))} min`;
    const once = async (what: string, text: string) => {
      if ((await redis.set(keys.slack.done(prefix, `${this.jobId(w)}:${what}`), "1", "EX", 86_400, "NX")) === "OK")
        await poster.post({ channel: w.channel, thread_ts: w.threadTs, text });
    };
    // The configuration in force decides at every tick, resumed watches included.
    const auth = w.user ? authorizeSpec(this.o.config, w.spec, w.user, w.channel) : { ok: false as const, message: "it has no owner" };
    if (!auth.ok) {
      logger.warn({ watch: w.id, target: w.spec.target }, "watch stopped: no longer permitted");
      await once("denied", `Stopped watching ${where}: no longer permitted (${auth.message})`).catch(() => undefined);
      await redis.hdel(keys.slack.watches(prefix), w.id);
      return;
    }
    try {
      const job = await queue.enqueue(botCheckJob(w.spec, w.user ?? "watch"));
      const report = await queue.result(w.spec.zone, job.jobId, this.o.resultWaitMs);
      const code = report.verdict.code;
      if (code !== w.lastCode) {
        const elapsed = Date.now() - w.since;
        await once(
          "change",
          code === "HEALTHY"
            ? `:large_green_circle: ${where} recovered after ${minutes(elapsed)} (was ${w.lastCode}).`
            : `${w.lastCode === "HEALTHY" ? ":red_circle:" : ":large_orange_circle:"} ${where} ` +
                `changed after ${minutes(elapsed)}: ${w.lastCode} → *${code}* — ${report.verdict.title}`,
        );
        w.lastCode = code;
        w.since = Date.now();
      }
    } catch (err) {
      logger.warn({ watch: w.id, err: (err as Error).message }, "watch check failed");
    }
    if (Date.now() >= w.until) {
      await once("stop", `Stopped watching ${where}: last state ${w.lastCode}.`).catch(() => undefined);
      await redis.hdel(keys.slack.watches(prefix), w.id);
      return;
    }
    w.tick = tick + 1;
    await redis
      .multi()
      .hset(keys.slack.watches(prefix), w.id, JSON.stringify(w))
      .expire(keys.slack.watches(prefix), 30 * 86_400)
      .exec();
    await this.schedule(w, this.o.intervalMs);
  }

  async close(): Promise<void> {
    await this.worker.close();
    await this.queue.close();
    for (const c of this.conns) c.disconnect();
  }
}
