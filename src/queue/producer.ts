import { randomUUID } from "node:crypto";
import { Job, Queue, QueueEvents } from "bullmq";
import type { Redis } from "ioredis";
import type { CheckReport } from "../check/run.js";
import { CheckJobPayload, checkKey, type CheckJobInput } from "./payload.js";
import { keys } from "./keys.js";
import { redisFor, ready } from "./redis.js";
import { storedResult } from "./results.js";
import { CheckFailedError, NoWorkerError } from "./errors.js";

export { CheckFailedError, NoWorkerError };

/** How long a worker heartbeat counts as "alive". Workers beat every HEARTBEAT_MS. */
export const HEARTBEAT_MS = 2_000;
export const HEARTBEAT_STALE_MS = 10_000;

export interface EnqueueResult {
  jobId: string;
  /** True when an identical check was already queued or running and this request joined it. */
  deduplicated: boolean;
  payload: CheckJobPayload;
}

/**
 * The producer side: validate, refuse zones with no live worker, enqueue (identical checks
 * share one job), and wait for results.
 */
export class CheckQueue {
  private readonly queues = new Map<string, Queue>();
  private readonly events = new Map<string, QueueEvents>();
  private readonly redis: Redis;
  /** BullMQ does not close connections it was handed: we do. */
  private readonly owned: Redis[] = [];

  constructor(
    private readonly redisUrl: string,
    readonly prefix: string,
  ) {
    this.redis = redisFor("producer", redisUrl);
    this.redis.on("error", () => undefined); // surfaced as command errors, with context
  }

  async connect(): Promise<void> {
    await ready(this.redis, `Redis at ${new URL(this.redisUrl).host}`);
  }

  private queue(zone: string): Queue {
    let q = this.queues.get(zone);
    if (!q) {
      q = new Queue(keys.queueName(zone), { connection: this.own(redisFor("producer", this.redisUrl)), prefix: this.prefix });
      q.on("error", () => undefined);
      q.setMaxListeners(0);
      this.queues.set(zone, q);
    }
    return q;
  }

  private async queueEvents(zone: string): Promise<QueueEvents> {
    let e = this.events.get(zone);
    if (!e) {
      // QueueEvents blocks on XREAD: it needs a connection that retries (BullMQ requirement).
      e = new QueueEvents(keys.queueName(zone), { connection: this.own(redisFor("worker", this.redisUrl)), prefix: this.prefix });
      e.on("error", () => undefined);
      // One listener pair per waiting request: a burst of identical checks waits on one job.
      e.setMaxListeners(0);
      this.events.set(zone, e);
      await e.waitUntilReady();
    }
    return e;
  }

  private own(r: Redis): Redis {
    r.on("error", () => undefined);
    this.owned.push(r);
    return r;
  }

  /** Fail fast, before anything is enqueued, when a zone has no live worker. */
  async requireWorkers(zones: string[]): Promise<void> {
    for (const zone of zones) if ((await this.liveWorkers(zone)) === 0) throw new NoWorkerError(zone);
  }

  /** Live workers in a zone (heartbeat within HEARTBEAT_STALE_MS). */
  async liveWorkers(zone: string): Promise<number> {
    return this.redis.zcount(keys.zoneWorkers(this.prefix, zone), Date.now() - HEARTBEAT_STALE_MS, "+inf");
  }

  async enqueue(input: CheckJobInput): Promise<EnqueueResult> {
    const payload = CheckJobPayload.parse(input);
    if ((await this.liveWorkers(payload.zone)) === 0) throw new NoWorkerError(payload.zone);
    await this.queueEvents(payload.zone); // listening before the job exists: no missed completion
    const ours = `chk-${randomUUID()}`;
    const job = await this.queue(payload.zone).add("check", payload, {
      jobId: ours,
      // Simple-mode deduplication: while a job with this key is waiting or running, identical
      // requests get its id back instead of a second probe.
      deduplication: { id: checkKey(payload) },
      // A target that is down is a result, not a failure: only infrastructure errors and
      // crashes reach these retries.
      attempts: 3,
      backoff: { type: "exponential", delay: 1_000 },
      removeOnComplete: { age: 3_600, count: 10_000 },
      removeOnFail: { age: 86_400, count: 10_000 },
    });
    return { jobId: job.id!, deduplicated: job.id !== ours, payload };
  }

  /**
   * Wait for a job's report. Works for jobs that finished before the call too. A job that is
   * still alive at the deadline (queued, running, or handed to another worker after a crash)
   * is waited for longer, up to 3 × `timeoutMs`, while its zone has a live worker: every check
   * is bounded, so a live job ends. `onEvent("worker-lost")` when the worker running it died
   * and BullMQ moved it back to the queue.
   */
  async result(zone: string, jobId: string, timeoutMs: number, onEvent?: (e: "worker-lost") => void): Promise<CheckReport> {
    const events = await this.queueEvents(zone);
    const job = await Job.fromId<CheckJobPayload, CheckReport>(this.queue(zone), jobId);
    if (!job) {
      const stored = await storedResult(this.redis, this.prefix, jobId);
      if (stored) return stored.report;
      throw new CheckFailedError(`job ${jobId} is gone from zone "${zone}" and left no result`);
    }
    const t0 = Date.now();
    const hardCapMs = timeoutMs * 3;
    let deadline = t0 + timeoutMs;
    const onStalled = ({ jobId: id }: { jobId: string }) => {
      if (id !== jobId) return;
      onEvent?.("worker-lost");
      deadline = Math.max(deadline, Date.now() + timeoutMs);
    };
    events.on("stalled", onStalled);
    // The worker stores every result under its job id. Poll that too: when Redis restarts
    // without its data, BullMQ cannot finish the job ("Missing key for job") and no completed
    // event ever comes, but the stored result does.
    const poll = new AbortController();
    const watchdog = (async (): Promise<CheckReport> => {
      while (!poll.signal.aborted) {
        await new Promise((r) => setTimeout(r, 1_000));
        if (poll.signal.aborted) break;
        const stored = await storedResult(this.redis, this.prefix, jobId).catch(() => undefined);
        if (stored) return stored.report;
        if (Date.now() < deadline) continue;
        const state = await this.queue(zone)
          .getJobState(jobId)
          .catch(() => "unknown");
        const alive = ["active", "waiting", "delayed", "prioritized", "waiting-children"].includes(state);
        if (alive && Date.now() - t0 < hardCapMs && (await this.liveWorkers(zone).catch(() => 0)) > 0) {
          deadline = Date.now() + 5_000;
          continue;
        }
        throw new CheckFailedError(
          `no result from zone "${zone}" within ${Math.round((Date.now() - t0) / 1000)} s ` +
            `(job ${jobId} is ${alive ? `still ${state}` : state}` +
            `${alive && (await this.liveWorkers(zone).catch(() => 0)) === 0 ? ", and the zone has no live worker" : ""}` +
            ")",
        );
      }
      return new Promise<never>(() => undefined);
    })();
    try {
      return await Promise.race([job.waitUntilFinished(events, hardCapMs + 5_000) as Promise<CheckReport>, watchdog]);
    } catch (err) {
      if (err instanceof CheckFailedError) throw err;
      const msg = (err as Error).message;
      if (/timed out/i.test(msg))
        throw new CheckFailedError(`no result from zone "${zone}" within ${Math.round(hardCapMs / 1000)} s (job ${jobId})`);
      throw new CheckFailedError(`the check in zone "${zone}" failed: ${msg}`);
    } finally {
      poll.abort();
      events.off("stalled", onStalled);
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.events.values()].map((e) => e.close()));
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    for (const r of this.owned) r.disconnect();
    this.redis.disconnect();
  }

  get connection(): Redis {
    return this.redis;
  }
}
