/**
 * HTTP mode, hardened (issue 10 item 1). Bolt's HTTPReceiver reads a whole body (up to 4 MB)
 * before it looks at the signature, so anyone who can reach the port could hold hundreds of
 * multi-megabyte bodies open. This receiver owns the server and decides, in this order:
 *
 *   1. before the body: a POST to the events endpoint without `x-slack-signature` (`v0=` + 64
 *      hex) and `x-slack-request-timestamp` within 5 minutes of our clock, in either direction,
 *      or with a Content-Length over the cap, is answered 401/413 and its connection closed
 *      unread;
 *   2. the body is read up to `HTTP_LIMITS.bodyBytes` (counted, not trusted from headers), then
 *      the signature is checked (HMAC-SHA256, api.slack.com/authentication/verifying-requests-from-slack);
 *   3. the payload must be a JSON object (a form's `payload` field, a slash command's fields, or
 *      an Events API body): `null`, non-JSON or the wrong shape get a 400, never an exception.
 *
 * Only then is the request handed to Bolt's own listener (with the body already buffered, which
 * Bolt accepts as is). Headers and bodies have short timeouts; connections are capped.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import http from "node:http";
import { parse as parseQuery } from "node:querystring";
import bolt from "@slack/bolt";
import type { Logger } from "../log.js";

const { HTTPReceiver } = bolt;

/** Every bound of the HTTP front, in one place (README "Security model"). */
export const HTTP_LIMITS = {
  /**
   * Largest request body. Slack's biggest payload we receive is a block action carrying our own
   * verdict message (≤ 50 blocks × 3,000 characters, URL-encoded): about 200 KB at worst.
   * @defaultValue 524288
   */
  bodyBytes: 512 * 1024,
  /** Header bytes per request. @defaultValue 16384 */
  headerBytes: 16 * 1024,
  /** Time to send the headers. @defaultValue 5000 */
  headersTimeoutMs: 5_000,
  /** Time to send the whole request. @defaultValue 10000 */
  requestTimeoutMs: 10_000,
  /** Idle keep-alive connections are closed after this. @defaultValue 5000 */
  keepAliveTimeoutMs: 5_000,
  /** Open connections at once; more are refused by the kernel backlog / closed. @defaultValue 128 */
  maxConnections: 128,
  /** Slack's rule: a timestamp more than 5 minutes off (either way) is refused. @defaultValue 300 */
  maxClockSkewSeconds: 300,
} as const;

type Route = {
  path: string;
  method: string[];
  handler: (req: http.IncomingMessage, res: http.ServerResponse) => void;
};

type Verdict = { ok: true } | { ok: false; status: number; why: string };

/** Rule 1: the headers alone. */
export function checkHeaders(headers: http.IncomingHttpHeaders, nowMs: number): Verdict {
  const sig = headers["x-slack-signature"];
  const ts = headers["x-slack-request-timestamp"];
  if (typeof sig !== "string" || !/^v0=[0-9a-f]{64}$/.test(sig)) return { ok: false, status: 401, why: "missing or malformed signature" };
  if (typeof ts !== "string" || !/^\d{1,12}$/.test(ts)) return { ok: false, status: 401, why: "missing or malformed timestamp" };
  if (Math.abs(Math.floor(nowMs / 1000) - Number(ts)) > HTTP_LIMITS.maxClockSkewSeconds)
    return { ok: false, status: 401, why: "timestamp more than 5 minutes off" };
  const len = headers["content-length"];
  if (len !== undefined && !(/^\d{1,10}$/.test(len) && Number(len) <= HTTP_LIMITS.bodyBytes))
    return { ok: false, status: 413, why: "body too large" };
  return { ok: true };
}

/** Rule 2: the signature over `v0:<timestamp>:<body>`. */
export function signatureValid(secret: string, headers: http.IncomingHttpHeaders, body: Buffer): boolean {
  const ts = headers["x-slack-request-timestamp"] as string;
  const given = Buffer.from((headers["x-slack-signature"] as string).slice(3), "hex");
  const ours = createHmac("sha256", secret).update(`v0:${ts}:`).update(body).digest();
  return given.length === ours.length && timingSafeEqual(given, ours);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** Rule 3: the shapes Slack sends, so Bolt never meets `null` or a string where it wants an object. */
export function payloadShapeValid(contentType: string | undefined, body: Buffer): boolean {
  const text = body.toString("utf8");
  try {
    if ((contentType ?? "").split(";")[0]!.trim().toLowerCase() === "application/x-www-form-urlencoded") {
      const form = parseQuery(text);
      if (typeof form.payload === "string") {
        const p: unknown = JSON.parse(form.payload);
        return isObject(p) && typeof p.type === "string";
      }
      if (form.payload !== undefined) return false;
      if (form.ssl_check === "1") return true;
      return typeof form.command === "string" && typeof form.user_id === "string" && typeof form.channel_id === "string";
    }
    const p: unknown = JSON.parse(text);
    if (!isObject(p) || typeof p.type !== "string") return false;
    return p.type !== "event_callback" || isObject(p.event);
  } catch {
    return false;
  }
}

/** Answer and close the connection without reading what is left of the request. */
function refuse(req: http.IncomingMessage, res: http.ServerResponse, status: number): void {
  if (res.headersSent) {
    req.socket.destroy();
    return;
  }
  res.writeHead(status, { connection: "close", "content-type": "text/plain" });
  res.end(http.STATUS_CODES[status] ?? "refused", () => req.socket.destroy());
}

/** A Bolt receiver: Bolt's HTTPReceiver behind the hardened front described above. */
export class HardenedHTTPReceiver implements bolt.Receiver {
  private readonly inner: InstanceType<typeof HTTPReceiver>;
  private server: http.Server | undefined;

  constructor(private readonly opts: { signingSecret: string; port: number; customRoutes: Route[]; logger: Logger; endpoint?: string }) {
    this.inner = new HTTPReceiver({
      signingSecret: opts.signingSecret,
      endpoints: [this.endpoint],
      customRoutes: opts.customRoutes,
      bodyLimit: HTTP_LIMITS.bodyBytes,
    });
  }

  private get endpoint(): string {
    return this.opts.endpoint ?? "/slack/events";
  }

  init(app: bolt.App): void {
    this.inner.init(app);
  }

  start(port?: number): Promise<http.Server> {
    const server = http.createServer({
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
      maxHeaderSize: HTTP_LIMITS.headerBytes,
      // Node checks the two timeouts above only this often (default 30 s).
      connectionsCheckingInterval: 1_000,
    });
    server.maxConnections = HTTP_LIMITS.maxConnections;
    server.on("request", (req, res) => this.handle(req, res));
    server.on("clientError", (_err, socket) => socket.destroy());
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port ?? this.opts.port, () => {
        server.off("error", reject);
        server.on("error", (err) => this.opts.logger.error({ err: err.message }, "http server error"));
        resolve(server);
      });
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((r) => {
      server.close(() => r());
      server.closeIdleConnections();
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "POST" || path !== this.endpoint) {
      this.pass(req, res);
      return;
    }
    const h = checkHeaders(req.headers, Date.now());
    if (!h.ok) {
      this.opts.logger.debug({ why: h.why, status: h.status }, "slack request refused before its body");
      refuse(req, res, h.status);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > HTTP_LIMITS.bodyBytes) {
        over = true;
        chunks.length = 0;
        refuse(req, res, 413);
        return;
      }
      chunks.push(c);
    });
    req.on("error", () => req.socket.destroy());
    req.on("end", () => {
      if (over) return;
      const body = Buffer.concat(chunks);
      if (!signatureValid(this.opts.signingSecret, req.headers, body)) {
        this.opts.logger.warn({ bytes: body.length }, "slack request with a bad signature refused");
        return refuse(req, res, 401);
      }
      if (!payloadShapeValid(req.headers["content-type"], body)) {
        this.opts.logger.warn({ bytes: body.length }, "signed slack request with a malformed payload refused");
        return refuse(req, res, 400);
      }
      // Bolt takes a request whose body is already buffered in `rawBody` (BufferedIncomingMessage).
      Object.assign(req, { rawBody: body });
      this.pass(req, res);
    });
  }

  private pass(req: http.IncomingMessage, res: http.ServerResponse): void {
    try {
      this.inner.requestListener(req, res);
    } catch {
      // Bolt throws for paths it does not know (HTTPReceiverDeferredRequestError).
      if (!res.headersSent) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("Not Found");
      }
    }
  }
}
