import { createHash } from "node:crypto";
import type { CheckReport } from "../check/run.js";
import { crossZoneVerdict, type ZoneOutcome } from "../diagnosis/crossZone.js";
import { botCheckJob } from "../queue/payload.js";
import { clip, esc, statusEmoji, verdictBlocks } from "../render/slack.js";
import type { BotContext, CheckSpec, SlackService } from "../slack/service.js";
import { parseTarget, type Target } from "../target/parse.js";
import { permit } from "./access.js";
import type { AlertmanagerPayload } from "./alertmanager.js";

/** Bounds of alert-driven diagnoses. */
export const ALERT_LIMITS = {
  /** Targets diagnosed per alert group (Alertmanager's `max_alerts` should be about this). @defaultValue 10 */
  maxTargets: 10,
  /** A repeated notification re-checks targets diagnosed longer ago than this. @defaultValue 600000 */
  recheckAfterMs: 10 * 60_000,
  /** How long a thread is remembered for its group. @defaultValue 30 days */
  threadTtlSeconds: 30 * 86_400,
} as const;

interface GroupState {
  channel: string;
  ts: string;
  openedAt: number;
  state: "firing" | "resolved";
  lastCheckAt: number;
  /** Targets diagnosed in this episode (their input form). */
  targets: string[];
  /** The parent's first line, to which the verdicts are appended. */
  headline: string;
}

/**
 * Alertmanager notifications → Slack threads in `alerts.channel`: one thread per alert group
 * (its groupKey) and firing episode; the alert's FTP targets checked from every zone, the
 * diagnosis in the thread; a resolved notification says so there. A repeated notification
 * never starts a second check while one runs (a lock in Redis, taken atomically), and the
 * thread is opened once however many notifications arrive at once (one state change at a time
 * per group in this process, the thread's state in Redis for the next process).
 */
export class AlertThreads {
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly o: BotContext,
    private readonly service: Pick<SlackService, "rememberSpec" | "markShown">,
  ) {}

  private key(gid: string) {
    return { state: `${this.o.prefix}:alerts:group:${gid}`, running: `${this.o.prefix}:alerts:running:${gid}` };
  }

  /** Handle one notification; resolves when its state change is done (the checks continue). */
  handle(n: AlertmanagerPayload): Promise<void> {
    const gid = createHash("sha256").update(n.groupKey).digest("hex").slice(0, 32);
    const prev = this.chains.get(gid) ?? Promise.resolve();
    const next = prev
      .then(() => this.step(n, gid))
      .catch((err: Error) => this.o.logger.error({ err: err.message }, "alert notification failed"));
    this.chains.set(gid, next);
    void next.finally(() => {
      if (this.chains.get(gid) === next) this.chains.delete(gid);
    });
    return next;
  }

  private async step(n: AlertmanagerPayload, gid: string): Promise<void> {
    const alerts = this.o.config.alerts;
    if (!alerts) return;
    const k = this.key(gid);
    const raw = await this.o.redis.get(k.state);
    const state = raw ? (JSON.parse(raw) as GroupState) : undefined;
    const alertname = n.groupLabels.alertname ?? n.commonLabels.alertname ?? "alert";

    if (n.status === "resolved") {
      if (!state || state.state === "resolved") return;
      state.state = "resolved";
      await this.save(k.state, state);
      const minutes = Math.max(1, Math.round((Date.now() - state.openedAt) / 60_000));
      await this.o.poster.post({
        channel: state.channel,
        thread_ts: state.ts,
        text:
          `:large_green_circle: Resolved: Alertmanager reports *${esc(alertname)}* resolved ` +
          `for ${state.targets.map((t) => `\`${esc(t)}\``).join(", ")} after ${minutes} min.`,
      });
      await this.o.poster.update({ channel: state.channel, ts: state.ts, text: `:large_green_circle: RESOLVED ${state.headline}` });
      this.o.logger.info({ group: gid, alertname }, "alert thread resolved");
      return;
    }

    const targets = this.targetsOf(n, alerts.targetLabels);
    if (targets.length === 0) {
      this.o.logger.info({ group: gid, alertname }, "alert names no permitted FTP target; ignored");
      return;
    }
    let s = state;
    if (!s || s.state === "resolved") {
      const headline = `*${esc(alertname)}* firing for ${targets.map((t) => `\`${esc(t.input)}\``).join(", ")}`;
      const ts = await this.o.poster.post({
        channel: alerts.channel,
        text: `:rotating_light: ${headline} (Alertmanager) — diagnosing from ${this.zones().map(esc).join(", ")}…`,
      });
      if (!ts) return;
      s = { channel: alerts.channel, ts, openedAt: Date.now(), state: "firing", lastCheckAt: 0, targets: [], headline };
      this.o.logger.info({ group: gid, alertname, channel: alerts.channel, ts }, "alert thread opened");
    }
    const due = Date.now() - s.lastCheckAt > ALERT_LIMITS.recheckAfterMs;
    const toCheck = targets.filter((t) => due || !s.targets.includes(t.input));
    if (toCheck.length === 0) return void (await this.save(k.state, s));
    // One diagnosis at a time per group, across notifications and bot processes.
    // Targets are diagnosed one after the other, each waiting up to resultWaitMs.
    const lock = await this.o.redis.set(k.running, "1", "PX", this.o.resultWaitMs * toCheck.length + 30_000, "NX");
    if (lock !== "OK") {
      this.o.logger.info({ group: gid, alertname }, "diagnosis already running for this alert group; notification absorbed");
      return void (await this.save(k.state, s));
    }
    s.lastCheckAt = Date.now();
    s.targets = [...new Set([...s.targets, ...toCheck.map((t) => t.input)])];
    await this.save(k.state, s);
    const thread = s;
    this.track(this.diagnose(thread, toCheck).finally(() => this.o.redis.del(k.running).catch(() => undefined)));
  }

  private async save(key: string, s: GroupState): Promise<void> {
    await this.o.redis.set(key, JSON.stringify(s), "EX", ALERT_LIMITS.threadTtlSeconds);
  }

  private zones(): string[] {
    return this.o.config.zones.length ? this.o.config.zones.map((z) => z.name) : ["default"];
  }

  /** The first label (of `alerts.targetLabels`) that parses as a target names it; kept only when the policy permits it. */
  private targetsOf(n: AlertmanagerPayload, labels: string[]): Target[] {
    const out = new Map<string, Target>();
    for (const a of n.alerts) {
      if (a.status !== "firing") continue;
      for (const l of labels) {
        const v = a.labels[l];
        if (!v) continue;
        let t: Target;
        try {
          t = parseTarget(v);
        } catch {
          continue;
        }
        if (!t.urlHadPassword && permit(this.o.config, { front: "webhook" }, t).permitted) out.set(t.input.toLowerCase(), t);
        break;
      }
      if (out.size >= ALERT_LIMITS.maxTargets) break;
    }
    return [...out.values()];
  }

  /** Check each target from every zone the policy permits, post the diagnosis in the thread, update the parent. */
  private async diagnose(s: GroupState, targets: Target[]): Promise<void> {
    const lines: string[] = [];
    for (const t of targets) {
      const outcomes = await Promise.all(
        this.zones().map(async (zone): Promise<ZoneOutcome & { jobId?: string }> => {
          const access = permit(this.o.config, { front: "webhook" }, t, zone);
          if (!access.permitted) return { zone, error: access.message };
          const spec: CheckSpec = { target: t.input, host: t.host, port: t.port, zone, write: false };
          try {
            const job = await this.o.queue.enqueue(botCheckJob(spec, "alertmanager"));
            await this.service.rememberSpec(job.jobId, spec);
            return { zone, jobId: job.jobId, report: await this.o.queue.result(zone, job.jobId, this.o.resultWaitMs) };
          } catch (err) {
            return { zone, error: (err as Error).message };
          }
        }),
      );
      const got = outcomes.filter((o): o is typeof o & { report: CheckReport; jobId: string } => !!o.report && !!o.jobId);
      if (outcomes.length > 1) {
        const cz = crossZoneVerdict(t.input, outcomes);
        await this.o.poster.post({
          channel: s.channel,
          thread_ts: s.ts,
          text:
            `*${esc(cz.title)}*\n${esc(cz.explanation)}\n` +
            `${cz.zones.map((z) => `• ${esc(z.zone)}: ${esc(z.code)}${z.error ? ` (${esc(clip(z.error, 200))})` : ""}`).join("\n")}`,
        });
      }
      if (got.length === 0) {
        const why = outcomes.map((o) => `${o.zone}: ${o.error ?? "no result"}`).join("; ");
        await this.o.poster.post({
          channel: s.channel,
          thread_ts: s.ts,
          text: `:warning: No verdict for \`${esc(t.input)}\`: ${esc(clip(why, 1500))}`,
        });
        lines.push(`\`${esc(t.input)}\`: no verdict`);
        continue;
      }
      // One verdict message per distinct root cause (all zones agreeing: one message).
      const seen = new Set<string>();
      for (const g of got) {
        if (seen.has(g.report.verdict.code)) continue;
        seen.add(g.report.verdict.code);
        const msg = verdictBlocks(g.report, { resultId: g.jobId });
        const ts = await this.o.poster.post({ channel: s.channel, thread_ts: s.ts, text: msg.text, blocks: msg.blocks });
        // Its buttons act from this message only (issue 10 item 2).
        if (ts) await this.service.markShown(g.jobId, s.channel, ts);
      }
      lines.push(
        got
          .map((g) => `${statusEmoji(g.report.verdict.code)} \`${esc(t.input)}\` from ${esc(g.zone)}: *${g.report.verdict.code}*`)
          .join(", "),
      );
      this.o.logger.info(
        { target: t.input, codes: got.map((g) => `${g.zone}:${g.report.verdict.code}`), channel: s.channel },
        "alert diagnosis posted",
      );
    }
    await this.o.poster.update({
      channel: s.channel,
      ts: s.ts,
      text: `:rotating_light: ${s.headline} (Alertmanager)\n${lines.join("\n")}`,
    });
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** In-flight diagnoses (for a drain at shutdown and for tests). */
  get pendingWork(): number {
    return this.inflight.size;
  }
}
