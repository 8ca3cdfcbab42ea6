/**
 * A local stand-in for Slack: the Web API (form or JSON bodies, real response shapes, 429 with
 * Retry-After and 5xx on demand), and a client that sends correctly signed requests to the bot.
 * With `socketMode`, `apps.connections.open` hands out URLs of that Socket Mode stand-in; with
 * `tokens`, calls are authenticated as Slack does (`invalid_auth`, `token_revoked`,
 * `not_allowed_token_type`); `response_url`s live under `/response/` on the same server.
 * Files go through Slack's external-upload flow: files.getUploadURLExternal hands out an upload
 * URL under `/upload/v1/` on the same (loopback) server, the bytes are POSTed there (multipart,
 * as the WebClient sends them, or raw), files.completeUploadExternal shares them into a channel
 * or thread. `fail("upload", …)` fails the upload URL itself.
 */
import http from "node:http";
import { createHmac } from "node:crypto";
import type { FakeSocketMode } from "./fakeSocketMode.js";

export interface FakeSlackOptions {
  socketMode?: FakeSocketMode;
  /** Accepted tokens; absent: any token is accepted. */
  tokens?: { bot: string[]; app: string[]; revoked?: string[] };
  /** Channels the bot is not a member of: posts there fail with `not_in_channel`. */
  notInChannel?: string[];
}

export interface ApiCall {
  method: string;
  args: Record<string, unknown>;
  at: number;
  /** The HTTP status we answered with. */
  status: number;
  /** What we answered (ts of a posted message, …). */
  result?: Record<string, unknown>;
}

/** A file as the stand-in received it. */
export interface FakeFile {
  id: string;
  filename: string;
  /** Length announced to files.getUploadURLExternal. */
  length: number;
  alt_text?: string;
  title?: string;
  bytes?: Buffer;
  /** Set by files.completeUploadExternal. */
  channel?: string;
  thread_ts?: string;
  completed: boolean;
}

export interface FakeSlack {
  /** Files by id (uploaded or not, completed or not). */
  files: Map<string, FakeFile>;
  url: string;
  calls: ApiCall[];
  /** Calls that succeeded (status 200, ok: true), optionally for one method. */
  ok(method?: string): ApiCall[];
  /** Answer the next `count` calls of `method` (to `channel`, if given) with `status` (429 adds Retry-After). */
  fail(method: string, count: number, status: number, retryAfterSec?: number, channel?: string): void;
  /** Carry out the next `count` calls of `method` (to `channel`, if given) but never answer them: Slack took it, the caller never heard. */
  stall(method: string, count: number, channel?: string): void;
  /** A fresh response_url (method "response_url" in `calls`, args = the posted JSON). */
  responseUrl(): string;
  /** A human message in a channel (for conversations.history / replies). */
  seed(channel: string, ts: string, text: string, threadTs?: string): void;
  waitFor(pred: (c: ApiCall) => boolean, timeoutMs?: number, what?: string): Promise<ApiCall>;
  close(): Promise<void>;
}

export async function startFakeSlack(opts: FakeSlackOptions = {}): Promise<FakeSlack> {
  const calls: ApiCall[] = [];
  const failures = new Map<string, { count: number; status: number; retryAfter?: number; channel?: string }[]>();
  const stalls: { method: string; count: number; channel?: string }[] = [];
  const messages: { channel: string; ts: string; text: string; thread_ts?: string }[] = [];
  let seq = 100;
  let responseSeq = 0;
  const files = new Map<string, FakeFile>();
  let fileSeq = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString();
      if ((req.url ?? "").startsWith("/upload/v1/")) return void receiveUpload(req, res, raw);
      if ((req.url ?? "").startsWith("/response/")) {
        // response_url: Slack answers 200 "ok" (text/html) to a valid post.
        calls.push({
          method: "response_url",
          args: { ...(safeJson(body) as Record<string, unknown>), url: req.url },
          at: Date.now(),
          status: 200,
        });
        res.writeHead(200, { "content-type": "text/html" });
        res.end("ok");
        return;
      }
      const method = (req.url ?? "").replace(/^\/api\//, "").split("?")[0]!;
      let args: Record<string, unknown> = {};
      if ((req.headers["content-type"] ?? "").includes("application/json"))
        args = body ? (JSON.parse(body) as Record<string, unknown>) : {};
      else for (const [k, v] of new URLSearchParams(body)) args[k] = /^[[{]/.test(v) ? safeJson(v) : v;
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1] ?? String(args.token ?? "");
      const refuse = (error: string) => {
        calls.push({ method, args, at: Date.now(), status: 200, result: { ok: false, error } });
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: false, error }));
      };
      if (opts.tokens) {
        const t = opts.tokens;
        if (t.revoked?.includes(token)) return refuse("token_revoked");
        if (method === "apps.connections.open") {
          if (!t.app.includes(token)) return refuse(t.bot.includes(token) ? "not_allowed_token_type" : "invalid_auth");
        } else if (!t.bot.includes(token)) return refuse(t.app.includes(token) ? "not_allowed_token_type" : "invalid_auth");
      }
      const queue = failures.get(method);
      const f = queue?.[0];
      if (f && f.count > 0 && (!f.channel || f.channel === args.channel)) {
        f.count--;
        if (f.count === 0) queue!.shift();
        calls.push({ method, args, at: Date.now(), status: f.status });
        res.writeHead(f.status, {
          "content-type": "application/json",
          ...(f.retryAfter !== undefined ? { "retry-after": String(f.retryAfter) } : {}),
        });
        res.end(JSON.stringify({ ok: false, error: f.status === 429 ? "ratelimited" : "internal_error" }));
        return;
      }
      const reply = (payload: Record<string, unknown>) => {
        calls.push({ method, args, at: Date.now(), status: 200, result: payload });
        const stall = stalls.find((x) => x.count > 0 && x.method === method && (!x.channel || x.channel === args.channel));
        if (stall) {
          stall.count--;
          return; // done, but the answer never leaves: the connection stays open until the caller goes away
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ ok: true, ...payload }));
      };
      const ts = () => `1700000000.${String(seq++).padStart(6, "0")}`;
      const inChannel = !opts.notInChannel?.includes(String(args.channel));
      switch (method) {
        case "apps.connections.open": {
          if (!opts.socketMode) return refuse("unknown_method");
          const r = opts.socketMode.open();
          if ("url" in r) return reply({ url: r.url });
          calls.push({ method, args, at: Date.now(), status: r.status });
          res.writeHead(r.status, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: false, error: r.error }));
          return;
        }
        case "auth.test":
          return reply({
            url: "https://fake.slack.test/",
            team: "Test",
            user: "ftp-doctor",
            team_id: "T0TEST",
            user_id: "U0BOT",
            bot_id: "B0BOT",
          });
        case "chat.postMessage": {
          if (!inChannel) return refuse("not_in_channel");
          const t = ts();
          messages.push({
            channel: String(args.channel),
            ts: t,
            text: String(args.text ?? ""),
            ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
          });
          return reply({
            channel: args.channel,
            ts: t,
            message: { text: args.text, ts: t, ...(args.thread_ts ? { thread_ts: args.thread_ts } : {}) },
          });
        }
        case "chat.update":
          return reply({ channel: args.channel, ts: args.ts, text: args.text });
        case "chat.postEphemeral":
          if (!inChannel) return refuse("not_in_channel");
          return reply({ message_ts: ts() });
        case "conversations.replies": {
          const m = messages
            .filter((x) => x.channel === args.channel && (x.ts === args.ts || x.thread_ts === args.ts))
            .sort((a, b) => a.ts.localeCompare(b.ts));
          return reply({ messages: m.slice(0, Number(args.limit ?? 100)), has_more: false });
        }
        case "conversations.history": {
          const m = messages
            .filter((x) => x.channel === args.channel && !x.thread_ts && x.ts < String(args.latest ?? "9"))
            .sort((a, b) => b.ts.localeCompare(a.ts));
          return reply({ messages: m.slice(0, Number(args.limit ?? 100)), has_more: false });
        }
        case "files.getUploadURLExternal": {
          const length = Number(args.length);
          if (!args.filename || !Number.isInteger(length) || length < 1) return refuse("invalid_arguments");
          const id = `F0FAKE${String(++fileSeq).padStart(4, "0")}`;
          files.set(id, {
            id,
            filename: String(args.filename),
            length,
            ...(args.alt_text ? { alt_text: String(args.alt_text) } : {}),
            completed: false,
          });
          return reply({ upload_url: `${base}/upload/v1/${id}`, file_id: id });
        }
        case "files.completeUploadExternal": {
          const list = (Array.isArray(args.files) ? args.files : []) as { id?: string; title?: string }[];
          if (list.length === 0) return refuse("invalid_arguments");
          // Slack refuses files whose bytes never arrived (or not as many as announced).
          for (const f of list) {
            const file = files.get(String(f.id));
            if (!file?.bytes || file.bytes.length !== file.length) return refuse("file_not_found");
          }
          if (opts.notInChannel?.includes(String(args.channel_id))) return refuse("not_in_channel");
          const shared = list.map((f) => {
            const file = files.get(String(f.id))!;
            Object.assign(file, {
              completed: true,
              ...(f.title ? { title: f.title } : {}),
              ...(args.channel_id ? { channel: String(args.channel_id) } : {}),
              ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
            });
            return { id: file.id, name: file.filename, title: file.title ?? file.filename, mimetype: "image/png", size: file.length };
          });
          if (args.channel_id)
            messages.push({
              channel: String(args.channel_id),
              ts: ts(),
              text: "",
              ...(args.thread_ts ? { thread_ts: String(args.thread_ts) } : {}),
            });
          return reply({ files: shared });
        }
        default:
          calls.push({ method, args, at: Date.now(), status: 404 });
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: false, error: "unknown_method" }));
      }
    });
  });
  /** The upload URL: the bytes of a file announced by files.getUploadURLExternal. */
  async function receiveUpload(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): Promise<void> {
    const id = (req.url ?? "").split("/").pop()!.split("?")[0]!;
    const file = files.get(id);
    const queue = failures.get("upload");
    const f = queue?.[0];
    if (f && f.count > 0) {
      f.count--;
      if (f.count === 0) queue!.shift();
      calls.push({ method: "upload", args: { id, bytes: raw.length }, at: Date.now(), status: f.status });
      res.writeHead(f.status, { "content-type": "text/plain" });
      res.end("upload failed");
      return;
    }
    if (!file) {
      calls.push({ method: "upload", args: { id, bytes: raw.length }, at: Date.now(), status: 404 });
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("no such upload");
      return;
    }
    const type = req.headers["content-type"] ?? "";
    let bytes = raw;
    if (type.startsWith("multipart/form-data")) {
      const form = await new Response(new Uint8Array(raw), { headers: { "content-type": type } }).formData();
      const part = [...form.values()].find((v): v is File => typeof v !== "string");
      bytes = part ? Buffer.from(await part.arrayBuffer()) : Buffer.alloc(0);
    }
    file.bytes = bytes;
    calls.push({ method: "upload", args: { id, bytes: bytes.length }, at: Date.now(), status: 200, result: { ok: true } });
    res.writeHead(200, { "content-type": "text/plain" });
    res.end(`OK - ${bytes.length}`);
  }
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const url = `${base}/api/`;
  return {
    url,
    calls,
    files,
    responseUrl: () => `${base}/response/T0TEST/${++responseSeq}/fake`,
    ok: (method) => calls.filter((c) => succeeded(c) && (!method || c.method === method)),
    fail(method, count, status, retryAfter, channel) {
      const q = failures.get(method) ?? [];
      q.push({ count, status, ...(retryAfter !== undefined ? { retryAfter } : {}), ...(channel ? { channel } : {}) });
      failures.set(method, q);
    },
    stall(method, count, channel) {
      stalls.push({ method, count, ...(channel ? { channel } : {}) });
    },
    seed(channel, ts, text, threadTs) {
      messages.push({ channel, ts, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
    },
    waitFor(pred, timeoutMs = 20_000, what = "a Slack API call") {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          const hit = calls.find((c) => succeeded(c) && pred(c));
          if (hit) return resolve(hit);
          if (Date.now() - t0 > timeoutMs)
            return reject(
              new Error(
                `timed out waiting for ${what}; calls so far:\n` +
                  `${calls.map((c) => `${c.status} ${c.method} ${JSON.stringify(c.args).slice(0, 200)}`).join("\n")}`,
              ),
            );
          setTimeout(tick, 20);
        };
        tick();
      });
    },
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections(); // stalled answers would hold it open
      }),
  };
}

const succeeded = (c: ApiCall) => c.status === 200 && c.result?.ok !== false;

function safeJson(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Slack's v0 request signature (api.slack.com/authentication/verifying-requests-from-slack). */
export function sign(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const sig = `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${body}`).digest("hex")}`;
  return { "x-slack-signature": sig, "x-slack-request-timestamp": String(timestamp) };
}

export interface SlackRequestResult {
  status: number;
  body: string;
  ms: number;
}

export async function sendToBot(
  url: string,
  body: string,
  contentType: string,
  headers: Record<string, string>,
): Promise<SlackRequestResult> {
  const t0 = performance.now();
  const r = await fetch(url, { method: "POST", body, headers: { "content-type": contentType, ...headers } });
  return { status: r.status, body: await r.text(), ms: performance.now() - t0 };
}

let trigger = 0;
/** A slash command's fields: the form HTTP mode posts (slashBody), the JSON object Socket Mode delivers (botProc.ts). */
export function slashFields(fields: {
  text: string;
  user?: string;
  channel?: string;
  triggerId?: string;
  responseUrl?: string;
}): Record<string, string> {
  return {
    token: "legacy-unused",
    team_id: "T0TEST",
    team_domain: "test",
    channel_id: fields.channel ?? "C0OPS",
    channel_name: "ops",
    user_id: fields.user ?? "U0OK",
    user_name: "oncall",
    command: "/ftp-check",
    text: fields.text,
    api_app_id: "A0APP",
    response_url: fields.responseUrl ?? "http://127.0.0.1:9/unused",
    trigger_id: fields.triggerId ?? `trig-${Date.now()}-${trigger++}`,
  };
}

export function slashBody(fields: { text: string; user?: string; channel?: string; triggerId?: string }): string {
  return new URLSearchParams(slashFields(fields)).toString();
}

let evt = 0;
/** The Events API envelope Slack wraps one event in (HTTP body, Socket Mode payload). */
function eventCallback(event: Record<string, unknown>, eventId?: string): Record<string, unknown> {
  return {
    token: "legacy-unused",
    team_id: "T0TEST",
    api_app_id: "A0APP",
    type: "event_callback",
    event_id: eventId ?? `Ev${Date.now()}${evt++}`,
    event_time: Math.floor(Date.now() / 1000),
    event,
    authorizations: [{ team_id: "T0TEST", user_id: "U0BOT", is_bot: true }],
  };
}

/** An app_mention as an Events API envelope: HTTP mode's JSON body (mentionBody), Socket Mode's payload (botProc.ts). */
export function mentionEvent(fields: {
  text: string;
  channel?: string;
  ts: string;
  threadTs?: string;
  user?: string;
  eventId?: string;
}): Record<string, unknown> {
  return eventCallback(
    {
      type: "app_mention",
      user: fields.user ?? "U0OK",
      text: `<@U0BOT> ${fields.text}`,
      ts: fields.ts,
      channel: fields.channel ?? "C0OPS",
      event_ts: fields.ts,
      ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}),
    },
    fields.eventId,
  );
}

export function mentionBody(fields: Parameters<typeof mentionEvent>[0]): string {
  return JSON.stringify(mentionEvent(fields));
}

/** A button click (block_actions): the payload HTTP mode posts as a form field (actionBody), Socket Mode's payload (botProc.ts). */
export function blockActions(fields: {
  actionId: string;
  value: string;
  channel?: string;
  messageTs: string;
  threadTs?: string;
  user?: string;
  triggerId?: string;
}): Record<string, unknown> {
  return {
    type: "block_actions",
    team: { id: "T0TEST", domain: "test" },
    user: { id: fields.user ?? "U0OK", username: "oncall", team_id: "T0TEST" },
    api_app_id: "A0APP",
    token: "legacy-unused",
    container: { type: "message", message_ts: fields.messageTs, channel_id: fields.channel ?? "C0OPS", is_ephemeral: false },
    trigger_id: fields.triggerId ?? `trig-act-${Date.now()}-${trigger++}`,
    channel: { id: fields.channel ?? "C0OPS", name: "ops" },
    message: { type: "message", ts: fields.messageTs, ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}), text: "verdict" },
    response_url: "http://127.0.0.1:9/unused",
    actions: [
      {
        action_id: fields.actionId,
        block_id: "verdict_actions",
        value: fields.value,
        type: "button",
        action_ts: `${Date.now() / 1000}${trigger++}`,
      },
    ],
  };
}

export function actionBody(fields: Parameters<typeof blockActions>[0]): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActions(fields)) }).toString();
}

/**
 * A `message` event (Events API) as Slack delivers it for channel messages: a person's, or an
 * alerting app's (`subtype: bot_message`, `bot_id`, often an empty `text` and legacy attachments,
 * as Alertmanager's and Grafana's Slack integrations post them).
 */
export function messageBody(fields: {
  channel: string;
  ts: string;
  text?: string;
  user?: string;
  botId?: string;
  threadTs?: string;
  attachments?: Record<string, unknown>[];
  eventId?: string;
  /** An app posting with its bot token (Grafana, PagerDuty): `user` and `bot_id`, no subtype. */
  appUser?: string;
}): string {
  return JSON.stringify(
    eventCallback(
      {
        type: "message",
        channel: fields.channel,
        channel_type: "channel",
        ts: fields.ts,
        event_ts: fields.ts,
        text: fields.text ?? "",
        ...(fields.appUser
          ? { user: fields.appUser, bot_id: fields.botId ?? "B0GRAFANA" }
          : fields.botId
            ? { subtype: "bot_message", bot_id: fields.botId, username: "Alertmanager" }
            : { user: fields.user ?? "U0OK" }),
        ...(fields.threadTs ? { thread_ts: fields.threadTs } : {}),
        ...(fields.attachments ? { attachments: fields.attachments } : {}),
      },
      fields.eventId,
    ),
  );
}
