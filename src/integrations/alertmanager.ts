import { createHash, timingSafeEqual } from "node:crypto";
import type http from "node:http";
import { z } from "zod";
import type { Logger } from "../log.js";

/** Bounds of the webhook receiver. */
export const WEBHOOK_LIMITS = {
  /** Largest body accepted (Alertmanager sends up to `max_alerts` alerts; 20 are ~30 KiB). @defaultValue 262144 */
  maxBodyBytes: 256 * 1024,
  /** A body must arrive within this (slowloris). @defaultValue 10000 */
  bodyTimeoutMs: 10_000,
} as const;

const Labels = z.record(z.string().max(1_000), z.string().max(10_000));

/** Alertmanager's webhook payload, version 4 (prometheus.io/docs/alerting/latest/configuration/#webhook_config). */
export const AlertmanagerPayload = z.object({
  version: z.literal("4"),
  groupKey: z.string().min(1).max(10_000),
  status: z.enum(["firing", "resolved"]),
  receiver: z.string().max(1_000),
  groupLabels: Labels,
  commonLabels: Labels,
  commonAnnotations: Labels.optional(),
  externalURL: z.string().max(2_000).optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  alerts: z
    .array(
      z.object({
        status: z.enum(["firing", "resolved"]),
        labels: Labels,
        annotations: Labels.optional(),
        startsAt: z.string().max(100),
        endsAt: z.string().max(100).optional(),
        fingerprint: z.string().max(100).optional(),
      }),
    )
    .max(1_000),
});
export type AlertmanagerPayload = z.infer<typeof AlertmanagerPayload>;

/**
 * `POST /hooks/alertmanager`: transport only. Off (404) without a token; a request without the
 * bearer token (or basic auth with it as the password: both are what Alertmanager's
 * `http_config` can send) gets 401 before its body is read; bodies are bounded in size and
 * time; a valid notification is acknowledged at once and handed over (Alertmanager's own
 * timeout must not depend on a check).
 */
export function alertmanagerHandler(o: {
  token: string | undefined;
  logger: Logger;
  onNotification: (n: AlertmanagerPayload) => Promise<void>;
}): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const expected = o.token ? digest(o.token) : undefined;
  return (req, res) => {
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close", ...headers });
      res.end(`${body}\n`);
    };
    if (!expected) return answer(404, "the Alertmanager webhook is off: set FTP_DOCTOR_ALERTMANAGER_TOKEN to turn it on");
    if (req.method !== "POST") {
      res.on("finish", () => req.destroy());
      return answer(405, "use POST", { allow: "POST" });
    }
    if (!authorized(req.headers.authorization, expected)) {
      o.logger.warn({ remote: req.socket.remoteAddress }, "alertmanager webhook: unauthorized request refused");
      // Never read an unauthenticated body: answer, then drop the connection.
      res.on("finish", () => req.destroy());
      return answer(401, "unauthorized", { "www-authenticate": 'Bearer realm="ftp-doctor", Basic realm="ftp-doctor"' });
    }
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > WEBHOOK_LIMITS.maxBodyBytes) {
      res.on("finish", () => req.destroy());
      return answer(413, `body over ${WEBHOOK_LIMITS.maxBodyBytes} bytes`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      answer(408, "body not received in time");
      req.destroy();
    }, WEBHOOK_LIMITS.bodyTimeoutMs);
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > WEBHOOK_LIMITS.maxBodyBytes) {
        done = true;
        clearTimeout(timer);
        answer(413, `body over ${WEBHOOK_LIMITS.maxBodyBytes} bytes`);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on("error", () => clearTimeout(timer));
    req.on("end", () => {
      clearTimeout(timer);
      if (done) return;
      done = true;
      let raw: unknown;
      try {
        raw = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return answer(400, "not JSON");
      }
      const p = AlertmanagerPayload.safeParse(raw);
      if (!p.success)
        return answer(
          400,
          `not an Alertmanager webhook payload (version 4): ${p.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join(".")}: ${i.message}`)
            .join("; ")}`,
        );
      answer(200, "ok");
      o.onNotification(p.data).catch((err: Error) => o.logger.error({ err: err.message }, "alertmanager notification failed"));
    });
  };
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** Bearer TOKEN, or Basic with TOKEN as the password (any user name). Compared in constant time. */
function authorized(header: string | undefined, expected: Buffer): boolean {
  if (!header) return false;
  const m = /^(Bearer|Basic)\s+(\S{1,4096})$/i.exec(header.trim());
  if (!m) return false;
  let secret = m[2]!;
  if (m[1]!.toLowerCase() === "basic") {
    const decoded = Buffer.from(secret, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon < 0) return false;
    secret = decoded.slice(colon + 1);
  }
  return timingSafeEqual(digest(secret), expected);
}
