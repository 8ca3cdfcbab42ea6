import bolt from "@slack/bolt";
import type { WebClient } from "@slack/web-api";
import { z } from "zod";
import type { Logger } from "../log.js";
import { HELP_TEXT } from "../render/slack.js";
import { CommandTextError, findHostInText, parseCommandText, USAGE } from "./commandText.js";
import { HardenedHTTPReceiver } from "./httpReceiver.js";
import { safeText } from "../render/slackText.js";
import type { ButtonWhere, CheckSpec, SlackService } from "./service.js";
import type { SocketLink } from "./socketLink.js";
import type { Target } from "../target/parse.js";
import type { RunningMonitor } from "../monitor/runner.js";
import type { ConfigFile } from "../config/file.js";
import { messageText, triageTarget, type MessageLike } from "../integrations/triage.js";

const { App, LogLevel } = bolt;

/**
 * Bot settings from the environment, checked at start-up with a message that says what to do
 * (token kinds are checked before this, by tokenProblems in tokens.ts).
 */
export const BotEnv = z
  .object({
    SLACK_BOT_TOKEN: z.string({ error: "is required (xoxb-…, from OAuth & Permissions)" }).min(1),
    SLACK_APP_TOKEN: z.string().optional(),
    SLACK_SIGNING_SECRET: z.string().optional(),
    SLACK_API_URL: z.string().url().optional(),
    PORT: z.coerce.number().int().min(1).max(65535).default(3000),
    FTP_DOCTOR_RESULT_WAIT_MS: z.coerce.number().int().min(1000).default(120_000),
    FTP_DOCTOR_WATCH_INTERVAL_MS: z.coerce.number().int().min(1000).default(180_000),
    FTP_DOCTOR_WATCH_DURATION_MS: z.coerce.number().int().min(1000).default(3_600_000),
    FTP_DOCTOR_POST_SPACING_MS: z.coerce.number().int().min(0).default(1_000),
    /** Bearer token of POST /hooks/alertmanager (or basic auth with it as the password); the webhook is off without it. */
    FTP_DOCTOR_ALERTMANAGER_TOKEN: z.preprocess(
      (v) => (v === "" ? undefined : v),
      z.string().min(16, "must be at least 16 characters (e.g. `openssl rand -hex 24`)").optional(),
    ),
    /** Socket Mode: longest wait between reconnect attempts while Slack is away. */
    FTP_DOCTOR_SLACK_RECONNECT_MAX_MS: z.coerce.number().int().min(500).max(600_000).default(30_000),
    /** Socket Mode: /healthz answers 503 once the link has been down this long. */
    FTP_DOCTOR_SLACK_LINK_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  })
  .refine((e) => e.SLACK_APP_TOKEN || e.SLACK_SIGNING_SECRET, {
    message: "set SLACK_APP_TOKEN (xapp-…, Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode, from Basic Information)",
    path: ["SLACK_SIGNING_SECRET"],
  });
export type BotEnv = z.infer<typeof BotEnv>;

export interface BotDeps {
  env: BotEnv;
  /** Socket Mode: the link that receives envelopes (HTTP mode when absent). */
  link?: SocketLink;
  /** From auth.test at start-up, so Bolt does not call it again (and cannot cache a failure). */
  identity: { botId: string; botUserId: string };
  service: SlackService;
  /** Incident buttons (when monitoring is configured). */
  incidents?: Pick<RunningMonitor, "acknowledge" | "mute" | "incident">;
  logger: Logger;
  /** Channels where messages naming a permitted target get a diagnosis unmentioned (slack.autoTriageChannels). */
  autoTriage?: { channels: readonly string[]; config: ConfigFile };
  /** Extra HTTP routes (health, metrics) in HTTP mode. */
  routes?: {
    path: string;
    method: string[];
    handler: (req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void;
  }[];
}

/** Resolve a check request into a spec the service accepts, or a message for the user. */
function toSpec(
  service: SlackService,
  text: string,
  user: string,
  channel: string,
): { spec?: CheckSpec; zones?: string[]; message?: string; help?: boolean; history?: Target } {
  let req;
  try {
    req = parseCommandText(text);
  } catch (err) {
    if (err instanceof CommandTextError) return { message: err.message };
    throw err;
  }
  if (req.kind === "help") return { help: true };
  if (req.kind === "history") {
    const auth = service.authorizeHistory(req.target, user, channel);
    return auth.ok ? { history: req.target } : { message: auth.message };
  }
  const auth = service.authorize(req, user, channel);
  if (!auth.ok) return { message: auth.message };
  let zones: string[] | undefined;
  if (req.zones) {
    // Every zone goes through the target policy, as a single-zone check would.
    zones = req.zones === "all" ? service.allZones() : req.zones;
    for (const zone of zones) {
      const a = service.authorize({ ...req, zone }, user, channel);
      if (!a.ok) return { message: a.message };
    }
  }
  return {
    ...(zones ? { zones } : {}),
    spec: {
      target: req.target.input,
      host: req.target.host,
      port: req.target.port,
      zone: auth.zone!,
      ...(req.profile ? { profile: req.profile } : {}),
      write: req.write,
    },
  };
}

/**
 * Bolt listeners are thin: parse, authorise, ack, hand to the service (STYLE.md §7).
 * Slack allows 3 s for an ack; we ack before touching Redis or the network.
 */
export function createBot(deps: BotDeps) {
  const { env, service, logger } = deps;
  const socketMode = !!deps.link;
  const app = new App({
    token: env.SLACK_BOT_TOKEN,
    ...deps.identity,
    ...(deps.link
      ? { receiver: deps.link }
      : {
          // Signature, timestamp and size are checked before the body is read (httpReceiver.ts).
          receiver: new HardenedHTTPReceiver({
            signingSecret: env.SLACK_SIGNING_SECRET!,
            port: env.PORT,
            customRoutes: deps.routes ?? [],
            logger,
          }),
        }),
    logLevel: LogLevel.WARN,
    clientOptions: {
      ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL.endsWith("/") ? env.SLACK_API_URL : `${env.SLACK_API_URL}/` } : {}),
      // 429: the WebClient waits Retry-After and retries; 5xx/network: retried with backoff.
      retryConfig: { retries: 6, factor: 1.6, minTimeout: 250, maxTimeout: 10_000, randomize: true },
    },
  });

  app.command("/ftp-check", async ({ command, ack }) => {
    const r = toSpec(service, command.text, command.user_id, command.channel_id);
    if (r.help) return void (await ack({ response_type: "ephemeral", text: safeText(HELP_TEXT) }));
    if (r.history) {
      await ack();
      return void (await service.history(r.history, { channel: command.channel_id, user: command.user_id }));
    }
    if (!r.spec) return void (await ack({ response_type: "ephemeral", text: safeText(`:no_entry: ${r.message}`) }));
    await ack();
    // trigger_id is unique per invocation: a re-delivered request is recognised and dropped.
    if (!(await service.firstTime(`cmd:${command.trigger_id}`))) return;
    if (r.zones) await service.startAcross(r.spec, r.zones, { channel: command.channel_id, user: command.user_id });
    else await service.start(r.spec, { channel: command.channel_id, user: command.user_id, responseUrl: command.response_url });
  });

  app.event("app_mention", async ({ event, client, body }) => {
    // Retries (X-Slack-Retry-Num) reuse event_id; a mention matching two subscriptions reuses channel+ts.
    const ids = [`evt:${(body as { event_id?: string }).event_id ?? ""}`, `mention:${event.channel}:${event.ts}`];
    for (const id of ids) if (!(await service.firstTime(id))) return;
    const user = event.user ?? "";
    const threadTs = event.thread_ts ?? event.ts;
    let text = event.text.replace(/<@[A-Z0-9]+>/g, " ").trim();
    // "@ftp-doctor help" is a request for help, not a bare mention under a message about a host.
    if (/^help$/i.test(text))
      return void (await client.chat.postMessage({ channel: event.channel, thread_ts: threadTs, text: safeText(HELP_TEXT) }));
    if (!findHostInText(text)) {
      const context = await contextMessage(client, event.channel, event.thread_ts, event.ts);
      const host = context ? findHostInText(context) : undefined;
      if (!host) {
        await client.chat
          .postEphemeral({
            channel: event.channel,
            user,
            thread_ts: threadTs,
            text: safeText(`Which server? ${USAGE.replace("/ftp-check", "@ftp-doctor check")}`),
          })
          .catch(() => undefined);
        return;
      }
      text = `${host} ${text.replace(/^check\b/i, "")}`;
    }
    const r = toSpec(service, text, user, event.channel);
    if (r.help) return void (await client.chat.postMessage({ channel: event.channel, thread_ts: threadTs, text: safeText(HELP_TEXT) }));
    if (r.history) return void (await service.history(r.history, { channel: event.channel, user, threadTs }));
    if (!r.spec)
      return void (await client.chat
        .postEphemeral({ channel: event.channel, user, thread_ts: threadTs, text: safeText(`:no_entry: ${r.message}`) })
        .catch(() => undefined));
    if (r.zones) await service.startAcross(r.spec, r.zones, { channel: event.channel, user, threadTs });
    else await service.start(r.spec, { channel: event.channel, user, threadTs });
  });

  // Auto-triage: a message (a person's, or an alerting app's bot message) in an opted-in channel
  // that names a permitted target gets one diagnosis in its thread. Bolt's ignoreSelf drops our
  // own posts; a message that mentions us is the mention handler's.
  const triage = deps.autoTriage;
  if (triage?.channels.length) {
    const channels = new Set(triage.channels);
    app.event("message", async ({ event, context }) => {
      const e = event as MessageLike & {
        channel: string;
        ts: string;
        thread_ts?: string;
        subtype?: string;
        user?: string;
        bot_id?: string;
      };
      if (!channels.has(e.channel)) return;
      if (e.subtype !== undefined && e.subtype !== "bot_message") return; // edits, joins, deletions
      const text = messageText(e);
      if (context.botUserId && text.includes(`<@${context.botUserId}>`)) return;
      // An app's message (legacy `bot_message`, or chat.postMessage by a bot user: `bot_id` set)
      // is an alert; only a person's message is held to slack.allowedUsers.
      const who =
        e.user && e.subtype === undefined && !e.bot_id
          ? { front: "slack" as const, user: e.user, channel: e.channel }
          : { front: "webhook" as const, channel: e.channel };
      const hit = triageTarget(triage.config, text, who);
      if (!hit) return;
      const threadTs = e.thread_ts ?? e.ts;
      // Once per thread: retries, edits and the rest of the conversation do not start another check.
      if (!(await service.firstTime(`triage:${e.channel}:${threadTs}`))) return;
      logger.info({ channel: e.channel, threadTs, target: hit.target.input, from: who.front }, "auto-triage");
      await service.start(
        { target: hit.target.input, host: hit.target.host, port: hit.target.port, zone: hit.zone, write: false },
        { channel: e.channel, user: e.user ?? e.bot_id ?? "auto-triage", threadTs },
      );
    });
  }

  const button = (actionId: string, run: (value: string, where: ButtonWhere) => Promise<{ ok: boolean; message?: string }>) =>
    app.action(actionId, async ({ ack, body, action, client }) => {
      await ack();
      const b = body as {
        user: { id: string };
        channel?: { id: string };
        message?: { ts: string; thread_ts?: string };
        trigger_id?: string;
        actions?: { action_ts?: string }[];
      };
      const value = (action as { value?: string }).value ?? "";
      const channel = b.channel?.id;
      if (!channel || !b.message) return;
      if (!(await service.firstTime(`act:${actionId}:${b.actions?.[0]?.action_ts ?? b.trigger_id}`))) return;
      const threadTs = b.message.thread_ts ?? b.message.ts;
      const auth = service.authorizeUser(b.user.id, channel);
      if (!auth.ok)
        return void (await client.chat
          .postEphemeral({ channel, user: b.user.id, thread_ts: threadTs, text: safeText(`:no_entry: ${auth.message}`) })
          .catch(() => undefined));
      const r = await run(value, { channel, user: b.user.id, messageTs: b.message.ts, threadTs });
      // Ephemeral answers to a button under a verdict belong in that verdict's thread.
      if (!r.ok && r.message)
        await client.chat
          .postEphemeral({ channel, user: b.user.id, thread_ts: threadTs, text: safeText(r.message) })
          .catch(() => undefined);
    });
  button("ftp_rerun", (v, w) => service.rerun(v, w));
  button("ftp_transcript", (v, w) => service.transcript(v, w));
  button("ftp_watch", (v, w) => service.watch(v, w));
  button("ftp_allzones", (v, w) => service.rerunAcross(v, w));
  if (deps.incidents) {
    const inc = deps.incidents;
    button("inc_ack", (v, w) => inc.acknowledge(v, w.user));
    button("inc_mute_1h", (v, w) => inc.mute(v, w.user, false));
    button("inc_mute_resolved", (v, w) => inc.mute(v, w.user, true));
    button("inc_rerun_all", async (v, w) => {
      const i = await inc.incident(v);
      if (!i) return { ok: false, message: "that incident is resolved or unknown." };
      return service.checkAcrossFor(i, w);
    });
  }
  button("ftp_waterfall", (v, w) => service.waterfall(v, w));

  app.error(async (err) => {
    logger.error({ err: err.message, code: (err as { code?: string }).code }, "bolt listener error");
  });
  return { app, socketMode };
}

/** The message a bare "@ftp-doctor" refers to: the thread's parent, or the previous message. */
async function contextMessage(client: WebClient, channel: string, threadTs: string | undefined, ts: string): Promise<string | undefined> {
  try {
    if (threadTs) {
      const r = await client.conversations.replies({ channel, ts: threadTs, limit: 1, inclusive: true });
      return r.messages?.[0]?.text;
    }
    const r = await client.conversations.history({ channel, latest: ts, limit: 1, inclusive: false });
    return r.messages?.[0]?.text;
  } catch {
    return undefined;
  }
}
