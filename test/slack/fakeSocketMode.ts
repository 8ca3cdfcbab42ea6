/**
 * A local stand-in for Slack's Socket Mode (api.slack.com/apis/socket-mode), on loopback:
 *
 * - `apps.connections.open` (served by fakeSlack.ts, which calls `open()` here) hands out a
 *   single-use `ws://127.0.0.1:<port>/link/?ticket=…` URL, as Slack hands out a wss:// URL;
 * - the WebSocket greets with `hello` (num_connections, debug_info, connection_info), sends
 *   envelopes (`slash_commands`, `events_api`, `interactive`) with an `envelope_id`, and takes
 *   acks `{ envelope_id, payload }`; Slack gives an app 3 s to ack;
 * - `disconnect` messages with reason `warning`, `refresh_requested` or `link_disabled`, then a
 *   close from the server side after `closeAfterDisconnectMs`; server
 *   pings, and pongs to the client's pings (ws answers those itself);
 * - envelopes are spread round-robin over the open connections, as Slack spreads them over up to
 *   ten connections of one app; with no connection open a slash command fails on Slack's side
 *   (`dispatch_failed`, what the user sees), an event is retried later (retry_attempt 1…3);
 * - outages: `outage(true)` answers apps.connections.open with 503 and refuses WebSocket
 *   upgrades; `drop()` cuts connections without a close frame; `silence()` stops reading a
 *   connection (no pongs, no acks), as a dead NAT path does.
 *
 * Frame formats follow @slack/socket-mode's SocketModeClient (hello, disconnect, envelope
 * fields retry_attempt, retry_reason, accepts_response_payload).
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";

export type EnvelopeType = "slash_commands" | "events_api" | "interactive";

export interface LinkEvent {
  at: number;
  conn: number;
  kind: "open" | "hello" | "close" | "refused";
  detail?: string;
}

export interface Delivery {
  envelopeId: string;
  type: EnvelopeType;
  /** The connection it went to, or undefined when none was open. */
  conn?: number;
  sentAt: number;
  ackedAt?: number;
  /** What the app answered in the ack (`payload`), e.g. an ephemeral message for a command. */
  response?: Record<string, unknown>;
  retryAttempt: number;
}

export type CommandOutcome =
  | { outcome: "acked"; ms: number; response: Record<string, unknown>; conn: number }
  | { outcome: "dispatch_failed" }
  | { outcome: "operation_timeout"; conn: number };

export interface FakeSocketMode {
  /** What apps.connections.open answers: a fresh single-use URL, or an error to send back. */
  open(appId?: string): { ok: true; url: string } | { status: number; error: string };
  /** Connections that said hello and are still open. */
  connections(): number[];
  waitForConnections(n: number, timeoutMs?: number): Promise<void>;
  /** A slash command: resolves with the ack, or what Slack would show the user instead. */
  command(payload: Record<string, unknown>): Promise<CommandOutcome>;
  /** An Events API callback; retried (up to 3 times, `retryDelaysMs` apart) until acked. */
  event(payload: Record<string, unknown>): Promise<Delivery>;
  /** An interactive payload (block_actions). */
  interactive(payload: Record<string, unknown>): Promise<Delivery>;
  /** Send `disconnect` with a reason to one connection (default: every connection). */
  disconnect(reason: "warning" | "refresh_requested" | "link_disabled", conn?: number): void;
  /** Cut connections with no close frame (default: all). */
  drop(conn?: number): void;
  /** Stop reading a connection: no pongs, no acks. */
  silence(conn: number): void;
  /** Slack unreachable: apps.connections.open answers 503 and upgrades are refused. */
  outage(on: boolean): void;
  readonly log: LinkEvent[];
  readonly deliveries: Delivery[];
  close(): Promise<void>;
}

export interface FakeSocketModeOptions {
  /** Server pings every this often. @defaultValue 2000 */
  pingMs?: number;
  /** How long Slack waits for an ack. @defaultValue 3000 */
  ackTimeoutMs?: number;
  /** Delays between event retries (Slack: immediately, 1 min, 5 min). @defaultValue [200, 1000, 3000] */
  retryDelaysMs?: number[];
  /**
   * After a `disconnect` message Slack closes the connection itself a little later. Meanwhile
   * it routes new envelopes to the app's other connections (our assumption: Slack does not
   * document it; a server that kept routing to a connection it is about to close would lose
   * envelopes whose ack races its own close). @defaultValue 1000
   */
  closeAfterDisconnectMs?: number;
}

export async function startFakeSocketMode(o: FakeSocketModeOptions = {}): Promise<FakeSocketMode> {
  const pingMs = o.pingMs ?? 2_000;
  const ackTimeoutMs = o.ackTimeoutMs ?? 3_000;
  const retryDelays = o.retryDelaysMs ?? [200, 1_000, 3_000];
  const closeAfterDisconnectMs = o.closeAfterDisconnectMs ?? 1_000;
  const tickets = new Set<string>();
  const live = new Map<number, WebSocket>();
  /** Connections sent a `disconnect`: no new envelopes, closed soon. */
  const leaving = new Set<number>();
  const waitingAcks = new Map<string, (response: Record<string, unknown>) => void>();
  const log: LinkEvent[] = [];
  const deliveries: Delivery[] = [];
  let down = false;
  let connSeq = 0;
  let rr = 0;

  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    // The URL is single use, like Slack's: a second upgrade with the same ticket is refused.
    verifyClient: (info, cb) => {
      const ticket = new URL(info.req.url ?? "/", "ws://x").searchParams.get("ticket") ?? "";
      if (down || !tickets.delete(ticket)) {
        log.push({ at: Date.now(), conn: -1, kind: "refused", detail: down ? "outage" : "bad ticket" });
        return cb(false, down ? 503 : 401);
      }
      cb(true);
    },
  });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const port = (wss.address() as AddressInfo).port;

  wss.on("connection", (ws) => {
    const id = ++connSeq;
    log.push({ at: Date.now(), conn: id, kind: "open" });
    ws.on("error", () => undefined);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return;
      let msg: { envelope_id?: string; payload?: Record<string, unknown> };
      try {
        msg = JSON.parse(String(data)) as typeof msg;
      } catch {
        return;
      }
      if (msg.envelope_id) waitingAcks.get(msg.envelope_id)?.(msg.payload ?? {});
    });
    const pinger = setInterval(() => ws.readyState === ws.OPEN && ws.ping(Buffer.from(`ping ${Date.now()}`)), pingMs);
    ws.on("close", (code) => {
      clearInterval(pinger);
      live.delete(id);
      leaving.delete(id);
      log.push({ at: Date.now(), conn: id, kind: "close", detail: String(code) });
    });
    live.set(id, ws);
    ws.send(
      JSON.stringify({
        type: "hello",
        num_connections: live.size,
        debug_info: { host: `applink-fake-${id}`, build_number: 1, approximate_connection_time: 18_060 },
        connection_info: { app_id: "A0APP" },
      }),
    );
    log.push({ at: Date.now(), conn: id, kind: "hello" });
  });

  const pick = (): [number, WebSocket] | undefined => {
    const all = [...live.entries()].filter(([, ws]) => ws.readyState === ws.OPEN);
    // A connection being refreshed only gets envelopes when nothing else is open.
    const staying = all.filter(([id]) => !leaving.has(id));
    const open = staying.length ? staying : all;
    if (!open.length) return undefined;
    return open[rr++ % open.length];
  };

  /** Send one envelope on one connection; resolves with the delivery once acked or timed out. */
  const deliver = (type: EnvelopeType, payload: Record<string, unknown>, retryAttempt: number): Promise<Delivery> => {
    const envelopeId = randomUUID();
    const d: Delivery = { envelopeId, type, sentAt: Date.now(), retryAttempt };
    deliveries.push(d);
    const target = pick();
    if (!target) return Promise.resolve(d);
    d.conn = target[0];
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        waitingAcks.delete(envelopeId);
        resolve(d);
      }, ackTimeoutMs);
      waitingAcks.set(envelopeId, (response) => {
        clearTimeout(timer);
        waitingAcks.delete(envelopeId);
        d.ackedAt = Date.now();
        d.response = response;
        resolve(d);
      });
      target[1].send(
        JSON.stringify({
          envelope_id: envelopeId,
          type,
          payload,
          accepts_response_payload: type !== "events_api",
          ...(type === "events_api" ? { retry_attempt: retryAttempt, retry_reason: retryAttempt ? "timeout" : "" } : {}),
        }),
      );
    });
  };

  /** Events API: Slack retries an unacknowledged event up to three times. */
  const withRetries = async (type: EnvelopeType, payload: Record<string, unknown>): Promise<Delivery> => {
    let d = await deliver(type, payload, 0);
    for (let i = 0; i < retryDelays.length && d.ackedAt === undefined; i++) {
      await new Promise((r) => setTimeout(r, retryDelays[i]));
      d = await deliver(type, payload, i + 1);
    }
    return d;
  };

  const openConnections = () => [...live.entries()].filter(([, ws]) => ws.readyState === ws.OPEN).map(([id]) => id);
  return {
    open() {
      if (down) return { status: 503, error: "internal_error" };
      const ticket = randomUUID();
      tickets.add(ticket);
      // Slack's URLs are valid for a short time only.
      setTimeout(() => tickets.delete(ticket), 30_000).unref();
      return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=A0APP` };
    },
    connections: openConnections,
    waitForConnections(n, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          if (openConnections().length >= n) return resolve();
          if (Date.now() - t0 > timeoutMs)
            return reject(new Error(`timed out waiting for ${n} Socket Mode connection(s); log: ${JSON.stringify(log.slice(-10))}`));
          setTimeout(tick, 20);
        };
        tick();
      });
    },
    async command(payload) {
      const d = await deliver("slash_commands", payload, 0);
      if (d.conn === undefined) return { outcome: "dispatch_failed" };
      if (d.ackedAt === undefined) return { outcome: "operation_timeout", conn: d.conn };
      return { outcome: "acked", ms: d.ackedAt - d.sentAt, response: d.response ?? {}, conn: d.conn };
    },
    event: (payload) => withRetries("events_api", payload),
    interactive: (payload) => deliver("interactive", payload, 0),
    disconnect(reason, conn) {
      for (const [id, ws] of live)
        if (conn === undefined || conn === id) {
          leaving.add(id);
          ws.send(JSON.stringify({ type: "disconnect", reason, debug_info: { host: `applink-fake-${id}` } }));
          setTimeout(() => ws.readyState === ws.OPEN && ws.close(1001, reason), closeAfterDisconnectMs).unref();
        }
    },
    drop(conn) {
      for (const [id, ws] of live) if (conn === undefined || conn === id) ws.terminate();
    },
    silence(conn) {
      const ws = live.get(conn);
      // ws keeps the TCP socket private; pausing it is what a dead path looks like from here.
      (ws as unknown as { _socket?: { pause(): void } } | undefined)?._socket?.pause();
    },
    outage(on) {
      down = on;
    },
    log,
    deliveries,
    async close() {
      for (const ws of live.values()) ws.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}
