import type { WebClient } from "@slack/web-api";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";

/**
 * All messages go through here: about one message per second per channel (Slack's posting
 * limit), 429 Retry-After and 5xx retries handled by the WebClient's retry policy, and a
 * failure that survives the retries is logged with what was lost — never dropped silently.
 */
export class Poster {
  private readonly lanes = new Map<string, Promise<unknown>>();
  private readonly lastPost = new Map<string, number>();

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
    private readonly spacingMs = 1_000,
    private readonly metrics?: Metrics,
  ) {}

  private lane<T>(channel: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.lanes.get(channel) ?? Promise.resolve();
    const next = prev.then(async () => {
      const wait = (this.lastPost.get(channel) ?? 0) + this.spacingMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      try {
        return await fn();
      } finally {
        this.lastPost.set(channel, Date.now());
      }
    });
    this.lanes.set(
      channel,
      next.catch(() => undefined),
    );
    return next;
  }

  async post(args: { channel: string; text: string; blocks?: unknown[]; thread_ts?: string }): Promise<string | undefined> {
    try {
      const r = await this.lane(args.channel, () =>
        this.client.chat.postMessage({ ...args, unfurl_links: false, unfurl_media: false } as Parameters<
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

  async update(args: { channel: string; ts: string; text: string; blocks?: unknown[] }): Promise<void> {
    try {
      await this.client.chat.update(args as Parameters<WebClient["chat"]["update"]>[0]);
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
        title: args.title,
        alt_text: args.alt_text,
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
      await this.client.chat.postEphemeral(args as Parameters<WebClient["chat"]["postEphemeral"]>[0]);
    } catch (err) {
      this.metrics?.slackErrors.inc({ method: "chat.postEphemeral" });
      this.logger.error({ channel: args.channel, err: (err as Error).message }, "slack ephemeral failed");
    }
  }
}
