import type { Redis } from "ioredis";
import type { CheckReport } from "../check/run.js";
import type { ConfigFile } from "../config/file.js";
import type { Logger } from "../log.js";
import { TargetPolicy } from "../policy/targetPolicy.js";
import { type CheckQueue, NoWorkerError } from "../queue/producer.js";
import { storedResult } from "../queue/results.js";
import { botCheckJob } from "../queue/payload.js";
import { loadHistory } from "../queue/historyModel.js";
import { keys as redisKeys } from "../queue/keys.js";
import { crossZoneVerdict, type ZoneOutcome } from "../diagnosis/crossZone.js";
import {
  acrossParentText,
  crossZoneBlocks,
  esc,
  historyBlocks,
  hostPort,
  parentText,
  transcriptBlocks,
  verdictBlocks,
} from "../render/slack.js";
import type { Target } from "../target/parse.js";
import { postTimeline, postWaterfall } from "./pictures.js";
import type { Poster } from "./poster.js";

/** What every bot component works with. */
export interface BotContext {
  prefix: string;
  config: ConfigFile;
  queue: CheckQueue;
  redis: Redis;
  poster: Poster;
  logger: Logger;
  /** How long to wait for a worker's result. @defaultValue 120000 */
  resultWaitMs: number;
}

export interface ServiceOptions extends BotContext {
  /** Watch: re-check interval and total duration. @defaultValue 180000 / 3600000 */
  watchIntervalMs: number;
  watchDurationMs: number;
  watches: WatchStarter;
  /** Optional LLM summary, added to the verdict message when it arrives (never delays it). */
  summarize?: (report: CheckReport) => Promise<CheckReport["summary"]>;
  /**
   * Finds a top-level message of ours in a channel by its exact text, posted since `sinceMs`
   * (conversations.history): a replica that died between posting "Checking…" and recording it
   * leaves only the intent, and its successor finds the message this way.
   */
  findMessage?: (channel: string, text: string, sinceMs: number) => Promise<string | undefined>;
}

/** What a check needs besides its target: kept with the job so buttons can re-run it. */
export interface CheckSpec {
  target: string;
  host: string;
  port: number;
  zone: string;
  profile?: string;
  write: boolean;
}

interface AcrossDelivery {
  id: string;
  spec: CheckSpec;
  zones: string[];
  /** zone → job id, for zones that had a live worker */
  jobs: Record<string, string>;
  /** zone → why it has no job */
  errors: Record<string, string>;
  channel: string;
  parentTs: string;
  threadTs: string;
}

interface Delivery {
  jobId: string;
  spec: CheckSpec;
  channel: string;
  /** The "Checking…" message to update with the final status (absent: answered via responseUrl). */
  parentTs?: string;
  /** Where the verdict goes (the parent's thread). */
  threadTs?: string;
  /** A channel the bot is not in: the verdict goes to the requester through the command's response_url. */
  responseUrl?: string;
  requestedAt?: number;
  /** Who asked: their concurrent-check slot is released when the verdict is delivered. */
  user?: string;
  /** Recorded before "Checking…" was posted: after a crash its ts is unknown (looked up, or posted anew). */
  prePost?: boolean;
}

/** Slack keys live at most this long; the pending and watch hashes are also bounded by slack.limits. */
const KEEP_SECONDS = 30 * 86_400;

/** What the service needs of the watch runner (src/slack/watches.ts). */
export interface WatchStarter {
  add(w: {
    id: string;
    spec: CheckSpec;
    user: string;
    channel: string;
    threadTs: string;
    lastCode: string;
    since: number;
    until: number;
  }): Promise<boolean>;
}

const k = (prefix: string) => ({
  seen: (id: string) => redisKeys.slack.seen(prefix, id),
  pending: redisKeys.slack.pending(prefix),
  lease: (id: string) => redisKeys.slack.lease(prefix, id),
  done: (id: string) => redisKeys.slack.done(prefix, id),
  spec: (jobId: string) => redisKeys.slack.spec(prefix, jobId),
  watches: redisKeys.slack.watches(prefix),
  shown: (jobId: string) => redisKeys.slack.shown(prefix, jobId),
  rate: (kind: "u" | "c", id: string, bucket: number) => redisKeys.slack.rate(prefix, kind, id, bucket),
  running: (user: string) => redisKeys.slack.running(prefix, user),
});

/**
 * A replica holds a delivery for this long and renews it every third of it while waiting; a
 * dead replica's leases lapse, and the next sweep of any replica (or of its restart) takes the
 * delivery over: at most LEASE_MS + SWEEP_MS after a crash.
 */
const LEASE_MS = 9_000;
/** Every replica looks for lapsed deliveries this often. */
const SWEEP_MS = 3_000;
const REPLICA = `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

export type Outcome = { ok: true } | { ok: false; message: string };

/**
 * The bot's business logic, behind thin Bolt listeners: authorise, enqueue, deliver results
 * into the right thread exactly once, even across a bot restart.
 */
export class SlackService {
  private readonly keys: ReturnType<typeof k>;
  private readonly inflight = new Set<Promise<unknown>>();
  /** Deliveries this replica holds the lease of. */
  private readonly mine = new Set<string>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly o: ServiceOptions) {
    this.keys = k(o.prefix);
  }

  /** First delivery of a Slack request id wins; retries and double subscriptions are dropped. */
  async firstTime(id: string): Promise<boolean> {
    return (await this.o.redis.set(this.keys.seen(id), "1", "EX", 86_400, "NX")) === "OK";
  }

  /** Validate a request against the configuration; the user gets the message on refusal. */
  authorize(req: { target: Target; zone?: string; profile?: string }, user: string, channel: string): Outcome & { zone?: string } {
    const d = new TargetPolicy(this.o.config).request({
      who: { front: "slack", user, channel },
      host: req.target.host,
      ...(req.zone ? { zone: req.zone } : {}),
      ...(req.profile ? { profile: req.profile } : {}),
    });
    return d.permitted ? { ok: true, zone: d.zone } : { ok: false, message: d.message };
  }

  /** History reveals no more than a check would: same user and target rules. */
  authorizeHistory(target: Target, user: string, channel: string): Outcome {
    const d = new TargetPolicy(this.o.config).request({ who: { front: "slack", user, channel }, host: target.host });
    return d.permitted ? { ok: true } : { ok: false, message: d.message };
  }

  /** `/ftp-check history host`: the 7-day model, as text, in the channel (or the thread). */
  async history(target: Target, where: { channel: string; user: string; threadTs?: string }): Promise<void> {
    try {
      const model = await loadHistory(this.o.redis, this.o.prefix, target.host, target.port);
      const msg = historyBlocks(model);
      await this.o.poster.post({
        channel: where.channel,
        text: msg.text,
        blocks: msg.blocks,
        ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
      });
      // The picture after the text, and only when there is something to draw.
      if (model.zones.length) this.track(postTimeline(this.o.poster, this.o.logger, model, where.channel, where.threadTs));
    } catch (err) {
      await this.o.poster.ephemeral({
        channel: where.channel,
        user: where.user,
        text: `:warning: could not read the history: ${(err as Error).message}`,
      });
    }
  }

  /** Keep a check's spec with its job, so the buttons under a verdict posted elsewhere (alert threads) work. */
  async rememberSpec(jobId: string, spec: CheckSpec): Promise<void> {
    await this.o.redis.set(this.keys.spec(jobId), JSON.stringify(spec), "EX", KEEP_SECONDS);
  }

  /** The verdict of `jobId` was posted as message `ts` in `channel`: its buttons may act from there (and only there). */
  async markShown(jobId: string, channel: string, ts: string): Promise<void> {
    await this.o.redis.multi().sadd(this.keys.shown(jobId), `${channel}|${ts}`).expire(this.keys.shown(jobId), KEEP_SECONDS).exec();
  }

  /** A stored check asked for again (a button, a watch tick): re-authorised as a new request would be. */
  authorizeSpec(spec: CheckSpec, user: string, channel: string): Outcome {
    return authorizeSpec(this.o.config, spec, user, channel);
  }

  /**
   * `slack.limits`: checks per user and per channel in a window, and checks of one user
   * queued or running at once. A refusal counts too: hammering keeps a user refused.
   */
  private async overLimit(user: string, channel: string): Promise<string | undefined> {
    const l = this.o.config.slack.limits;
    const now = Date.now();
    const bucket = Math.floor(now / 1000 / l.windowSeconds);
    const uk = this.keys.rate("u", user, bucket);
    const ck = this.keys.rate("c", channel, bucket);
    const rk = this.keys.running(user);
    const r = await this.o.redis
      .multi()
      .incr(uk)
      .expire(uk, l.windowSeconds * 2)
      .incr(ck)
      .expire(ck, l.windowSeconds * 2)
      .zremrangebyscore(rk, 0, now)
      .zcard(rk)
      .exec();
    const n = (i: number) => Number(r?.[i]?.[1] ?? 0);
    const retry = l.windowSeconds - (Math.floor(now / 1000) % l.windowSeconds);
    if (n(0) > l.perUser)
      return `you have started ${l.perUser} checks in the last ${l.windowSeconds} s (\`slack.limits.perUser\`). Try again in ${retry} s.`;
    if (n(2) > l.perChannel)
      return `this channel has started ${l.perChannel} checks in the last ${l.windowSeconds} s (\`slack.limits.perChannel\`). Try again in ${retry} s.`;
    if (n(5) >= l.concurrentPerUser)
      return `you already have ${n(5)} checks queued or running (\`slack.limits.concurrentPerUser\`). Wait for one to finish.`;
    return undefined;
  }

  authorizeUser(user: string, channel: string): Outcome {
    const refusal = new TargetPolicy(this.o.config).requester({ front: "slack", user, channel });
    return refusal ? { ok: false, message: refusal.message } : { ok: true };
  }

  /**
   * Post "Checking…", enqueue, and deliver the verdict into the thread when it arrives.
   * `threadTs` set: the request came from inside a thread (a mention): everything stays there.
   * `responseUrl` (slash commands): used when the bot is not a member of the channel.
   */
  async start(spec: CheckSpec, where: { channel: string; user: string; threadTs?: string; responseUrl?: string }): Promise<void> {
    const limited = await this.overLimit(where.user, where.channel);
    if (limited) {
      this.o.logger.warn({ user: where.user, channel: where.channel, target: spec.target }, "slack check refused by a rate limit");
      await this.o.poster.ephemeral({
        channel: where.channel,
        user: where.user,
        text: `:no_entry: ${limited}`,
        ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
      });
      return;
    }
    let job;
    try {
      job = await this.o.queue.enqueue(botCheckJob(spec, where.user));
    } catch (err) {
      const msg = err instanceof NoWorkerError ? err.message : `could not queue the check: ${(err as Error).message}`;
      await this.o.poster.ephemeral({
        channel: where.channel,
        user: where.user,
        text: `:warning: ${msg}`,
        ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
      });
      return;
    }
    const slot = this.keys.running(where.user);
    await this.o.redis
      .multi()
      .set(this.keys.spec(job.jobId), JSON.stringify(spec), "EX", KEEP_SECONDS)
      .zadd(slot, Date.now() + this.o.resultWaitMs + 60_000, job.jobId)
      .expire(slot, Math.ceil(this.o.resultWaitMs / 1000) + 120)
      .exec();
    // The intent is recorded (and leased by this replica) before "Checking…" is posted, so a crash
    // between the post and recording its ts loses nothing: the lease lapses and a sweep delivers it.
    const pre: Delivery = {
      jobId: job.jobId,
      spec,
      channel: where.channel,
      ...(where.threadTs ? { threadTs: where.threadTs } : {}),
      requestedAt: Date.now(),
      user: where.user,
      prePost: true,
    };
    const preId = this.deliveryId(pre);
    await this.o.redis.set(this.keys.lease(preId), REPLICA, "PX", LEASE_MS);
    await this.savePending(pre);
    // Held while the post waits (the poster paces per channel, so it can take longer than a lease).
    const renew = setInterval(() => void this.o.redis.pexpire(this.keys.lease(preId), LEASE_MS).catch(() => undefined), LEASE_MS / 3);
    const dropPre = () => {
      clearInterval(renew);
      return this.o.redis.multi().hdel(this.keys.pending, preId).del(this.keys.lease(preId)).exec();
    };
    let parentTs: string | undefined;
    try {
      parentTs = await this.o.poster.post({
        channel: where.channel,
        text: parentText(spec.host, spec.port, spec.zone, "running"),
        ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
      });
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      if ((code === "not_in_channel" || code === "channel_not_found") && where.responseUrl) {
        // Slash commands work in channels the bot has not joined, but it cannot post there.
        // The response_url can (ephemeral, to the requester, for 30 min): say so, then answer there.
        await this.o.poster.respond(where.responseUrl, {
          response_type: "ephemeral",
          text:
            ":wave: I'm not a member of this channel, so I can't post the check here. Invite me with " +
            "`/invite @ftp-doctor` and the next check will be in the channel. " +
            `Checking ${esc(hostPort(spec.host, spec.port))} from ${esc(spec.zone)} now; ` +
            "the verdict will come here, visible only to you.",
        });
        const d: Delivery = {
          jobId: job.jobId,
          spec,
          channel: where.channel,
          responseUrl: where.responseUrl,
          requestedAt: Date.now(),
          user: where.user,
        };
        await this.savePending(d);
        await dropPre();
        this.track(this.claimAndDeliver(d));
        return;
      }
      await dropPre();
      this.o.logger.warn({ channel: where.channel, err: code ?? (err as Error).message }, "could not post the check's status message");
      return;
    }
    if (!parentTs) {
      await dropPre();
      return;
    }
    const delivery: Delivery = {
      jobId: job.jobId,
      spec,
      channel: where.channel,
      parentTs,
      threadTs: where.threadTs ?? parentTs,
      user: where.user,
    };
    await this.savePending(delivery);
    await dropPre();
    this.track(this.claimAndDeliver(delivery));
  }

  /**
   * A delivery recorded before its "Checking…" message was known (its replica died in between):
   * find that message (top level only), or post it now, so the verdict still lands in a thread.
   */
  private async recoverParent(d: Delivery): Promise<void> {
    const text = parentText(d.spec.host, d.spec.port, d.spec.zone, "running");
    if (d.threadTs) return; // asked inside a thread: the verdict goes there; the status line stays as it was
    let ts = await this.o.findMessage?.(d.channel, text, d.requestedAt ?? 0).catch(() => undefined);
    if (!ts) ts = await this.o.poster.post({ channel: d.channel, text });
    if (!ts) throw new Error("could not post the check's status message");
    d.parentTs = ts;
    d.threadTs = ts;
  }

  private async savePending(d: Delivery): Promise<void> {
    await this.o.redis
      .multi()
      .hset(this.keys.pending, this.deliveryId(d), JSON.stringify(d))
      .expire(this.keys.pending, KEEP_SECONDS)
      .exec();
  }

  private deliveryId(d: Delivery): string {
    return `${d.jobId}|${d.channel}|${d.parentTs ?? `r${d.requestedAt ?? 0}`}`;
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /**
   * Several bot replicas share the pending deliveries: the one holding the lease delivers and
   * renews it while it waits; when a replica dies its leases lapse and another one's sweep
   * takes them over. The posted-once marker in deliver() is the last guard.
   */
  private claimAndDeliver(d: Delivery): Promise<void> {
    return this.claim(this.deliveryId(d), async () => {
      await this.deliver(d);
      // The user's concurrent-check slot (slack.limits.concurrentPerUser) is free again.
      if (d.user) await this.o.redis.zrem(this.keys.running(d.user), d.jobId).catch(() => undefined);
    });
  }

  private async claim(id: string, deliver: () => Promise<void>): Promise<void> {
    if (this.mine.has(id)) return;
    if ((await this.o.redis.set(this.keys.lease(id), REPLICA, "PX", LEASE_MS, "NX")) !== "OK") return;
    // A sweep reads the pending hash before it claims: by then the delivery may be done, or (a
    // "Checking…" intent) replaced by its posted form and its lease dropped. Only what is still pending is ours.
    if (!(await this.o.redis.hexists(this.keys.pending, id))) {
      await this.o.redis.del(this.keys.lease(id)).catch(() => undefined);
      return;
    }
    this.mine.add(id);
    const renew = setInterval(() => {
      void this.o.redis.pexpire(this.keys.lease(id), LEASE_MS).catch(() => undefined);
    }, LEASE_MS / 3);
    try {
      await deliver();
    } finally {
      clearInterval(renew);
      this.mine.delete(id);
      await this.o.redis.del(this.keys.lease(id)).catch(() => undefined);
    }
  }

  /** Wait for the job, then post the verdict once (a marker guards against double posts). */
  private async deliver(d: Delivery): Promise<void> {
    const id = this.deliveryId(d);
    if (d.prePost && !d.parentTs && !d.responseUrl) await this.recoverParent(d);
    let report: CheckReport;
    const where = hostPort(d.spec.host, d.spec.port);
    try {
      report = await this.o.queue.result(d.spec.zone, d.jobId, this.o.resultWaitMs, () => {
        if (d.parentTs)
          void this.o.poster
            .update({ channel: d.channel, ts: d.parentTs, text: parentText(d.spec.host, d.spec.port, d.spec.zone, "worker-lost") })
            .catch(() => undefined);
      });
    } catch (err) {
      if (this.closed) return; // resumed by another replica or the next start
      await this.o.redis.hdel(this.keys.pending, id);
      if ((await this.o.redis.set(this.keys.done(id), "1", "EX", 7 * 86_400, "NX")) !== "OK") return;
      const text = `:warning: No verdict for ${esc(where)} from ${esc(d.spec.zone)}: ${(err as Error).message}`;
      if (d.responseUrl) {
        await this.o.poster.respond(d.responseUrl, { response_type: "ephemeral", text }).catch(() => undefined);
        return;
      }
      await this.o.poster.post({ channel: d.channel, thread_ts: d.threadTs!, text }).catch(() => undefined);
      if (d.parentTs)
        await this.o.poster
          .update({
            channel: d.channel,
            ts: d.parentTs,
            text: `:warning: ${esc(where)} from ${esc(d.spec.zone)}: no result (${(err as Error).message})`,
          })
          .catch(() => undefined);
      return;
    }
    if ((await this.o.redis.set(this.keys.done(id), "1", "EX", 7 * 86_400, "NX")) !== "OK") {
      await this.o.redis.hdel(this.keys.pending, id);
      return;
    }
    try {
      const msg = verdictBlocks(report, { resultId: d.jobId, allZones: true });
      if (d.responseUrl) {
        await this.o.poster.respond(d.responseUrl, { response_type: "ephemeral", text: msg.text, blocks: msg.blocks });
        await this.o.redis.hdel(this.keys.pending, id);
        this.o.logger.info(
          { jobId: d.jobId, zone: d.spec.zone, code: report.verdict.code, channel: d.channel },
          "verdict sent via response_url",
        );
        return;
      }
      const ts = await this.o.poster.post({ channel: d.channel, thread_ts: d.threadTs!, text: msg.text, blocks: msg.blocks }, "verdict");
      // The buttons under this message may act on this job from this channel and message only.
      if (ts) await this.markShown(d.jobId, d.channel, ts);
      if (d.parentTs)
        await this.o.poster.update({ channel: d.channel, ts: d.parentTs, text: parentText(d.spec.host, d.spec.port, d.spec.zone, report) });
      await this.o.redis.hdel(this.keys.pending, id);
      this.o.logger.info(
        { jobId: d.jobId, zone: d.spec.zone, target: d.spec.target, code: report.verdict.code, channel: d.channel },
        "verdict posted",
      );
      if (ts && this.o.summarize) this.track(this.addSummary(report, d, ts));
      // Failures get their waterfall at once; healthy results behind the "Show waterfall" button.
      if (report.verdict.code !== "HEALTHY") this.track(postWaterfall(this.o.poster, this.o.logger, report, d.channel, d.threadTs!));
    } catch (err) {
      // Keep it pending: the next sweep retries. Clear the marker so that retry may post.
      await this.o.redis.del(this.keys.done(id));
      this.o.logger.error({ jobId: d.jobId, channel: d.channel, err: (err as Error).message }, "verdict not posted; kept for retry");
    }
  }

  private async addSummary(report: CheckReport, d: Delivery, ts: string): Promise<void> {
    const summary = await this.o.summarize!(report).catch(() => null);
    if (!summary) return;
    const msg = verdictBlocks({ ...report, summary }, { resultId: d.jobId });
    await this.o.poster.update({ channel: d.channel, ts, text: msg.text, blocks: msg.blocks }).catch(() => undefined);
  }

  /**
   * At start-up and every SWEEP_MS: deliveries nobody holds (a replica died, or a delivery
   * failed to post) are taken over. Returns how many were found pending.
   */
  async resumePending(): Promise<number> {
    const n = await this.sweep();
    if (!this.sweeper)
      this.sweeper = setInterval(() => {
        if (!this.closed) void this.sweep().catch((err) => this.o.logger.warn({ err: (err as Error).message }, "delivery sweep failed"));
      }, SWEEP_MS);
    return n;
  }

  private async sweep(): Promise<number> {
    const all = await this.o.redis.hgetall(this.keys.pending);
    for (const [id, raw] of Object.entries(all))
      this.track(
        id.startsWith("across|")
          ? this.claim(id, () => this.deliverAcross(JSON.parse(raw) as AcrossDelivery))
          : this.claimAndDeliver(JSON.parse(raw) as Delivery),
      );
    return Object.keys(all).length;
  }

  // ------------------------------------------------------------------ cross-zone checks
  /** `from all`: every configured zone (or, without zones in the configuration, every zone a worker announced). */
  allZones(): string[] {
    return this.o.config.zones.length ? this.o.config.zones.map((z) => z.name) : [...this.knownZones];
  }

  /** Zones workers announced in Redis (refreshed in the background; only used when the configuration names none). */
  private knownZones = new Set<string>(["default"]);
  async refreshZones(): Promise<void> {
    const zs = await this.o.redis.smembers(redisKeys.zones(this.o.prefix)).catch(() => [] as string[]);
    if (zs.length) this.knownZones = new Set(zs);
  }

  /**
   * One parent message; each zone's verdict joins the thread as it arrives; then the
   * cross-zone verdict, and the parent updated to it. A zone without a live worker is named
   * at once and not waited for.
   */
  async startAcross(spec: CheckSpec, zones: string[], where: { channel: string; user: string; threadTs?: string }): Promise<void> {
    const jobs: Record<string, string> = {};
    const errors: Record<string, string> = {};
    for (const zone of zones) {
      try {
        const job = await this.o.queue.enqueue(botCheckJob({ ...spec, zone }, where.user));
        jobs[zone] = job.jobId;
        await this.o.redis.set(this.keys.spec(job.jobId), JSON.stringify({ ...spec, zone }), "EX", 30 * 86_400);
      } catch (err) {
        errors[zone] = err instanceof NoWorkerError ? `no live worker in zone "${zone}"` : `could not queue: ${(err as Error).message}`;
      }
    }
    const parentTs = await this.o.poster.post({
      channel: where.channel,
      text: acrossParentText(spec.host, spec.port, zones, "running"),
      ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
    });
    if (!parentTs) return;
    const d: AcrossDelivery = {
      id: `across|${where.channel}|${parentTs}`,
      spec,
      zones,
      jobs,
      errors,
      channel: where.channel,
      parentTs,
      threadTs: where.threadTs ?? parentTs,
    };
    await this.o.redis.hset(this.keys.pending, d.id, JSON.stringify(d));
    if (Object.keys(errors).length)
      await this.o.poster
        .post({
          channel: d.channel,
          thread_ts: d.threadTs,
          text: Object.entries(errors)
            .map(([z, e]) => `:warning: \`${esc(z)}\`: ${esc(e)} — not waited for.`)
            .join("\n"),
        })
        .catch(() => undefined);
    this.track(this.claim(d.id, () => this.deliverAcross(d)));
  }

  private async deliverAcross(d: AcrossDelivery): Promise<void> {
    const outcomes: ZoneOutcome[] = Object.entries(d.errors).map(([zone, error]) => ({ zone, error }));
    await Promise.all(
      Object.entries(d.jobs).map(async ([zone, jobId]) => {
        let report: CheckReport;
        try {
          report = await this.o.queue.result(zone, jobId, this.o.resultWaitMs);
        } catch (err) {
          if (this.closed) throw err;
          outcomes.push({ zone, error: (err as Error).message });
          if ((await this.o.redis.set(this.keys.done(`${d.id}|${zone}`), "1", "EX", 7 * 86_400, "NX")) === "OK")
            await this.o.poster
              .post({ channel: d.channel, thread_ts: d.threadTs, text: `:warning: \`${esc(zone)}\`: ${esc((err as Error).message)}` })
              .catch(() => undefined);
          return;
        }
        outcomes.push({ zone, report });
        if ((await this.o.redis.set(this.keys.done(`${d.id}|${zone}`), "1", "EX", 7 * 86_400, "NX")) !== "OK") return;
        const msg = verdictBlocks(report, { resultId: jobId });
        await this.o.poster.post({ channel: d.channel, thread_ts: d.threadTs, text: msg.text, blocks: msg.blocks }).catch((err) => {
          this.o.logger.error({ jobId, zone, err: (err as Error).message }, "zone verdict not posted");
        });
      }),
    ).catch(() => undefined);
    if (this.closed) return; // resumed at the next start
    outcomes.sort((a, b) => d.zones.indexOf(a.zone) - d.zones.indexOf(b.zone));
    const v = crossZoneVerdict(`${d.spec.host}${d.spec.port === 21 ? "" : `:${d.spec.port}`}`, outcomes);
    if ((await this.o.redis.set(this.keys.done(`${d.id}|cross`), "1", "EX", 7 * 86_400, "NX")) === "OK") {
      try {
        const msg = crossZoneBlocks(v);
        await this.o.poster.post({ channel: d.channel, thread_ts: d.threadTs, text: msg.text, blocks: msg.blocks });
        await this.o.poster.update({ channel: d.channel, ts: d.parentTs, text: acrossParentText(d.spec.host, d.spec.port, d.zones, v) });
        this.o.logger.info({ target: d.spec.target, code: v.code, zones: d.zones, channel: d.channel }, "cross-zone verdict posted");
      } catch (err) {
        await this.o.redis.del(this.keys.done(`${d.id}|cross`));
        this.o.logger.error({ target: d.spec.target, err: (err as Error).message }, "cross-zone verdict not posted; kept for retry");
        return;
      }
    }
    await this.o.redis.hdel(this.keys.pending, d.id);
  }

  /** The "Check from all zones" button under a single-zone verdict. */
  async rerunAcross(jobId: string, where: ButtonWhere): Promise<Outcome> {
    // Bound to where the job was shown, like every button; checkAcrossFor re-authorises each zone.
    const b = await this.buttonSpec(jobId, where, "that check is too old; start a new one with `/ftp-check <host> from all`.");
    if ("refusal" in b) return b.refusal;
    return this.checkAcrossFor(b.spec, where);
  }

  /** A cross-zone check of `spec` from every zone, for this user, through the target policy. */
  async checkAcrossFor(
    spec: { target: string; host: string; port: number; profile?: string },
    where: { channel: string; user: string; threadTs: string },
  ): Promise<Outcome> {
    const zones = this.allZones();
    for (const zone of zones) {
      const d = new TargetPolicy(this.o.config).request({
        who: { front: "slack", user: where.user, channel: where.channel },
        host: spec.host,
        zone,
        ...(spec.profile ? { profile: spec.profile } : {}),
      });
      if (!d.permitted) return { ok: false, message: d.message };
    }
    const full: CheckSpec = {
      target: spec.target,
      host: spec.host,
      port: spec.port,
      zone: zones[0]!,
      write: false,
      ...(spec.profile ? { profile: spec.profile } : {}),
    };
    await this.startAcross(full, zones, where);
    return { ok: true };
  }

  // ------------------------------------------------------------------ buttons
  private async specOf(jobId: string): Promise<CheckSpec | undefined> {
    const raw = await this.o.redis.get(this.keys.spec(jobId));
    return raw ? (JSON.parse(raw) as CheckSpec) : undefined;
  }

  /**
   * A button's value (a job id) is trusted only from the channel and message where that job's
   * verdict was shown, and the check it names must still be allowed for this user, here, under
   * the configuration in force — as a new request would be.
   */
  private async buttonSpec(jobId: string, where: ButtonWhere, tooOld: string): Promise<{ spec: CheckSpec } | { refusal: Outcome }> {
    // The value comes back from the client: a job id, or nothing we look up.
    const shown =
      /^[\w.:-]{1,200}$/.test(jobId) && (await this.o.redis.sismember(this.keys.shown(jobId), `${where.channel}|${where.messageTs}`)) === 1;
    if (!shown) {
      this.o.logger.warn(
        { jobId: jobId.slice(0, 80), channel: where.channel, user: where.user },
        "button for a job not shown here refused",
      );
      return { refusal: { ok: false, message: "that button does not belong to a check shown here." } };
    }
    const spec = await this.specOf(jobId);
    if (!spec) return { refusal: { ok: false, message: tooOld } };
    const auth = this.authorizeSpec(spec, where.user, where.channel);
    return auth.ok ? { spec } : { refusal: auth };
  }

  async rerun(jobId: string, where: ButtonWhere): Promise<Outcome> {
    const b = await this.buttonSpec(jobId, where, "that check is too old to re-run; start a new one with /ftp-check.");
    if ("refusal" in b) return b.refusal;
    await this.start(b.spec, where);
    return { ok: true };
  }

  /** "Show waterfall": only for a job shown here whose target this user may still check from here. */
  async waterfall(jobId: string, where: ButtonWhere): Promise<Outcome> {
    const b = await this.buttonSpec(jobId, where, "that result has expired.");
    if ("refusal" in b) return b.refusal;
    const stored = await storedResult(this.o.redis, this.o.prefix, jobId);
    if (!stored) return { ok: false, message: "that result has expired." };
    const ok = await postWaterfall(this.o.poster, this.o.logger, stored.report, where.channel, where.threadTs);
    return ok ? { ok: true } : { ok: false, message: ":warning: the waterfall could not be uploaded; try again in a minute." };
  }

  async transcript(jobId: string, where: ButtonWhere): Promise<Outcome> {
    const b = await this.buttonSpec(jobId, where, "that result has expired.");
    if ("refusal" in b) return b.refusal;
    const stored = await storedResult(this.o.redis, this.o.prefix, jobId);
    if (!stored) return { ok: false, message: "that result has expired." };
    const t = transcriptBlocks(stored.report);
    await this.o.poster.post({ channel: where.channel, thread_ts: where.threadTs, text: t.text, blocks: t.blocks });
    return { ok: true };
  }

  async watch(jobId: string, where: ButtonWhere): Promise<Outcome> {
    const tooOld = "that check is too old to watch; start a new one with /ftp-check.";
    const b = await this.buttonSpec(jobId, where, tooOld);
    if ("refusal" in b) return b.refusal;
    const { spec } = b;
    const stored = await storedResult(this.o.redis, this.o.prefix, jobId);
    if (!stored) return { ok: false, message: tooOld };
    const l = this.o.config.slack.limits;
    const active = Object.values(await this.o.redis.hgetall(this.keys.watches)).map((raw) => JSON.parse(raw) as { user?: string });
    if (active.length >= l.watches)
      return { ok: false, message: `${active.length} watches are already active (\`slack.limits.watches\`). Try again when one ends.` };
    if (active.filter((x) => x.user === where.user).length >= l.watchesPerUser)
      return { ok: false, message: `you already have ${l.watchesPerUser} active watches (\`slack.limits.watchesPerUser\`).` };
    const w = {
      id: `${jobId}|${where.channel}|${where.threadTs}`,
      spec,
      user: where.user,
      channel: where.channel,
      threadTs: where.threadTs,
      lastCode: stored.report.verdict.code,
      since: Date.now(),
      until: Date.now() + this.o.watchDurationMs,
    };
    if (!(await this.o.watches.add(w))) return { ok: false, message: "already watching this one." };
    await this.o.poster.post({
      channel: w.channel,
      thread_ts: w.threadTs,
      text:
        `:eyes: Watching ${esc(hostPort(spec.host, spec.port))} from ${esc(spec.zone)} ` +
        `every ${Math.round(this.o.watchIntervalMs / 1000)} s for ${Math.round(this.o.watchDurationMs / 60_000)} min; ` +
        `I'll post here when the state changes (now: ${w.lastCode}).`,
    });
    return { ok: true };
  }

  /** Stop sweeping; in-flight deliveries are taken over by another replica or the next start. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweeper) clearInterval(this.sweeper);
  }

  get pendingWork(): number {
    return this.inflight.size;
  }
}

/** Where a button was clicked: the channel, the message carrying the button, its thread. */
export interface ButtonWhere {
  channel: string;
  user: string;
  messageTs: string;
  threadTs: string;
}

/** A stored check (button, watch tick) re-authorised for `user` in `channel` under `config`, as a new request. */
export function authorizeSpec(config: ConfigFile, spec: CheckSpec, user: string, channel: string): Outcome {
  const d = new TargetPolicy(config).request({
    who: { front: "slack", user, channel },
    host: spec.host,
    zone: spec.zone,
    ...(spec.profile ? { profile: spec.profile } : {}),
  });
  return d.permitted ? { ok: true } : { ok: false, message: d.message };
}
