import type { WebClient } from "@slack/web-api";
import { safeMessage, safeText } from "../render/slackText.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";

/** Verdicts before "Checking…" notices when both wait for the same channel. */
type Priority = "verdict" | "notice";

interface Lane {
  tokens: number;
  refilledAt: number;
  queue: { priority: Priority; run: () => Promise<void> }[];
  pumping: boolean;
}

/**
 * Slack lets an app post about one message per second per channel, with short bursts allowed
 * (api.slack.com/methods/chat.postMessage, "Rate limiting"): a token bucket per channel, BURST
 * deep, refilled one token per `spacingMs`.
 */
const BURST = 10;

/** Where a response_url may point: Slack's hooks host, plus the Web API host when overridden. */
const RESPONSE_URL_ORIGINS = ["https://hooks.slack.com"];

/**
 * All messages go through here: paced per channel as Slack's limit allows (bursts, then one per
 * second; verdicts first), 429 Retry-After and 5xx retries handled by the WebClient's retry
 * policy, and a failure that survives the retries is logged with what was lost — never
 * dropped silently.
 */
export class Poster {
  private readonly lanes = new Map<string, Lane>();
  private readonly responseOrigins: string[];

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    private readonly spacingMs = 1_000,
    private readonly metrics?: Metrics,
    /** Extra origins response_urls may use (the SLACK_API_URL stand-in in tests). */
    extraResponseOrigins: string[] = [],
  ) {
    this.responseOrigins = [...RESPONSE_URL_ORIGINS, ...extraResponseOrigins];
  }

  private lane<T>(channel: string, priority: Priority, fn: () => Promise<T>): Promise<T> {
    if (this.spacingMs <= 0) return fn();
    let lane = this.lanes.get(channel);
    if (!lane) {
      lane = { tokens: BURST, refilledAt: Date.now(), queue: [], pumping: false };
      this.lanes.set(channel, lane);
    }
    const l = lane;
    return new Promise<T>((resolve, reject) => {
      const item = { priority, run: () => fn().then(resolve, reject) };
      // Stable: a verdict goes after the verdicts already waiting, before every notice.
      const at = priority === "verdict" ? l.queue.findIndex((q) => q.priority === "notice") : -1;
      if (at === -1) l.queue.push(item);
      else l.queue.splice(at, 0, item);
      if (!l.pumping) void this.pump(channel, l);
    });
  }

  private async pump(channel: string, l: Lane): Promise<void> {
    l.pumping = true;
    try {
      while (l.queue.length) {
        const now = Date.now();
        l.tokens = Math.min(BURST, l.tokens + (now - l.refilledAt) / this.spacingMs);
        l.refilledAt = now;
        if (l.tokens < 1) {
          await new Promise((r) => setTimeout(r, Math.ceil((1 - l.tokens) * this.spacingMs)));
          continue;
        }
        l.tokens -= 1;
        await l.queue.shift()!.run();
      }
    } finally {
      l.pumping = false;
      if (l.tokens >= BURST - 1e-9) this.lanes.delete(channel);
    }
  }

  async post(
    args: { channel: string; text: string; blocks?: unknown[]; thread_ts?: string },
    priority: Priority = "notice",
  ): Promise<string | undefined> {
    try {
      const r = await this.lane(args.channel, priority, () =>
        this.client.chat.postMessage({ ...safeMessage(args), unfurl_links: false, unfurl_media: false } as Parameters<
          WebClient["chat"]["postMessage"]
        >[0]),
      );
      return r.ts;
    } catch (err) {
      this.metrics?.slackErrors.inc({ method: "chat.postMessage" });
      this.logger.error({ channel: args.channel, thread: args.thread_ts, err: (err as Error).message }, "slack post failed");
      throw err;
    }
  }

  /**
   * Answer through a slash command's response_url (works where the bot is not a member; valid
   * 30 min, 5 uses). Only Slack's own hosts: the URL comes from the request, and a forged one
   * must not make the bot POST elsewhere.
   */
  async respond(url: string, body: { response_type: "ephemeral"; text: string; blocks?: unknown[] }): Promise<void> {
    let origin: string;
    try {
      origin = new URL(url).origin;
    } catch {
      origin = "invalid";
    }
    if (!this.responseOrigins.includes(origin)) {
      this.logger.warn({ origin }, "response_url refused: not a Slack host");
      throw new Error("response_url is not a Slack URL");
    }
    try {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ replace_original: false, ...safeMessage(body) }),
        redirect: "error",
        signal: AbortSignal.timeout(10_000),
      });
      await r.body?.cancel();
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
    } catch (err) {
      this.metrics?.slackErrors.inc({ method: "response_url" });
      this.logger.error({ err: (err as Error).message }, "response_url post failed");
      throw err;
    }
  }

  async update(args: { channel: string; ts: string; text: string; blocks?: unknown[] }): Promise<void> {
    try {
      await this.client.chat.update(safeMessage(args) as Parameters<WebClient["chat"]["update"]>[0]);
    } catch (err) {
      this.metrics?.slackErrors.inc({ method: "chat.update" });
      this.logger.error({ channel: args.channel, ts: args.ts, err: (err as Error).message }, "slack update failed");
      throw err;
    }
  }

  /**
   * A file in a channel or thread through Slack's external-upload flow (files.getUploadURLExternal,
   * the bytes to the returned URL, files.completeUploadExternal with channel_id and thread_ts):
   * the WebClient's files.uploadV2. Outside the posting lane: a slow or failing upload must not
   * hold up the next verdict. Throws after the client's retries; callers log and go on.
   */
  async upload(args: {
    channel: string;
    thread_ts?: string;
    file: Buffer;
    filename: string;
    title: string;
    alt_text: string;
  }): Promise<void> {
    try {
      await this.client.files.uploadV2({
        channel_id: args.channel,
        ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}),
        file: args.file,
        filename: args.filename,
        title: safeText(args.title),
        alt_text: safeText(args.alt_text),
      } as Parameters<WebClient["files"]["uploadV2"]>[0]);
    } catch (err) {
      this.metrics?.slackErrors.inc({ method: "files.uploadV2" });
      this.logger.error(
        { channel: args.channel, thread: args.thread_ts, file: args.filename, err: (err as Error).message },
        "slack upload failed",
      );
      throw err;
    }
  }

  async ephemeral(args: { channel: string; user: string; text: string; thread_ts?: string }): Promise<void> {
    try {
      await this.client.chat.postEphemeral(safeMessage(args) as Parameters<WebClient["chat"]["postEphemeral"]>[0]);
    } catch (err) {
      this.metrics?.slackErrors.inc({ method: "chat.postEphemeral" });
      this.logger.error({ channel: args.channel, err: (err as Error).message }, "slack ephemeral failed");
    }
  }
}
