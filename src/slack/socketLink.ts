import bolt from "@slack/bolt";
import type { Logger } from "../log.js";
import { isTokenRefusal, refusalLine } from "./tokens.js";

const { SocketModeReceiver, LogLevel } = bolt;
type App = InstanceType<typeof bolt.App>;
type Client = InstanceType<typeof SocketModeReceiver>["client"];

/** Socket Mode link settings; every wait is bounded. */
export interface SocketLinkOptions {
  appToken: string;
  /** Web API base URL (apps.connections.open), e.g. a local stand-in in tests. */
  apiUrl?: string;
  logger: Logger;
  /** Reconnect backoff: first retry at once, then doubling from `minMs` up to `maxMs`. @defaultValue 500 / 30000 */
  backoffMinMs?: number;
  backoffMaxMs?: number;
  /** apps.connections.open + WebSocket handshake + hello must finish within this. @defaultValue 15000 */
  connectTimeoutMs?: number;
}

export interface LinkState {
  connected: boolean;
  /** When the link last went up or down (ISO time). */
  since: string;
  /** Open connections (two while a refresh is being handed over). */
  connections: number;
  /** Connections opened after the first one. */
  reconnects: number;
  downForMs: number;
  lastError?: string;
}

/** How long a replaced connection may stay open if Slack does not close it. */
const REPLACED_CLOSE_MS = 30_000;

/** The app-level token was refused at start-up: waiting will not help. */
export class AppTokenRefusedError extends Error {}

/**
 * A Bolt receiver for Socket Mode that never gives up on Slack. @slack/socket-mode's own
 * reconnect throws out of a timer when apps.connections.open answers 5xx or the network is
 * down (an unhandled rejection that ends the process), and waits 5 s before reconnecting after a
 * `disconnect` message (commands sent meanwhile fail with `dispatch_failed`). Here each
 * connection is a client with auto-reconnect off, and this class decides:
 *
 * - `warning` / `refresh_requested`: open the next connection first, close the old one once the
 *   new one said hello (Slack allows up to ten connections per app), so there is no gap;
 * - a dropped link: reconnect at once, then back off (doubling, capped, jittered) for as long as
 *   Slack is away, logging every attempt; `/healthz` reads `state()`;
 * - an app token refused at start-up: `start()` throws `AppTokenRefusedError` (exit 2).
 */
export class SocketLink {
  private app?: App;
  private readonly live = new Set<Client>();
  private readonly all = new Set<Client>();
  private stopping = false;
  private looping = false;
  private opened = 0;
  private since = Date.now();
  private lastError: string | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly o: SocketLinkOptions) {}

  init(app: App): void {
    this.app = app;
  }

  /** Connect once; an outage is waited out in the background, a refused token throws. */
  async start(): Promise<void> {
    this.stopping = false;
    try {
      await this.connect();
    } catch (err) {
      const code = slackErrorCode(err);
      if (isTokenRefusal(code)) throw new AppTokenRefusedError(refusalLine("SLACK_APP_TOKEN", code!));
      this.o.logger.warn({ err: describe(err) }, "slack link: not reachable at start-up; waiting");
      void this.reconnectLoop();
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await Promise.all([...this.all].map((c) => closeClient(c)));
  }

  state(): LinkState {
    const connected = this.live.size > 0;
    return {
      connected,
      since: new Date(this.since).toISOString(),
      connections: this.live.size,
      reconnects: Math.max(0, this.opened - 1),
      downForMs: connected ? 0 : Date.now() - this.since,
      ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** One connection: apps.connections.open, WebSocket, hello — or an error, within the deadline. */
  private async connect(): Promise<Client> {
    if (!this.app) throw new Error("SocketLink used before init");
    const receiver = new SocketModeReceiver({
      appToken: this.o.appToken,
      logger: libraryLogger(this.o.logger),
      logLevel: LogLevel.WARN,
      autoReconnectEnabled: false,
      installerOptions: {
        clientOptions: {
          ...(this.o.apiUrl ? { slackApiUrl: this.o.apiUrl } : {}),
          // Our loop retries; the client's own retries would hide an outage for minutes.
          retryConfig: { retries: 1, minTimeout: 250, maxTimeout: 1_000 },
          timeout: 10_000,
        },
      },
    });
    receiver.init(this.app);
    const client = receiver.client;
    this.all.add(client);
    this.interceptDisconnectMessages(client);
    let up = false;
    client.on("connected", () => {
      up = true;
      const wasDown = this.live.size === 0;
      this.live.add(client);
      this.opened++;
      if (wasDown) {
        this.o.logger.info({ downMs: this.opened > 1 ? Date.now() - this.since : undefined, reconnects: this.opened - 1 }, "slack link up");
        this.since = Date.now();
        this.lastError = undefined;
      }
    });
    client.on("disconnected", () => {
      this.all.delete(client);
      if (!up) return; // a failed attempt: the caller handles it
      this.live.delete(client);
      if (this.live.size === 0 && !this.stopping) {
        this.since = Date.now();
        this.o.logger.warn({}, "slack link down; reconnecting");
        void this.reconnectLoop();
      }
    });
    const deadline = this.o.connectTimeoutMs ?? 15_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.start(),
        new Promise((_r, reject) => {
          timer = setTimeout(() => reject(new Error(`no hello from Slack within ${deadline} ms`)), deadline);
        }),
      ]);
      return client;
    } catch (err) {
      this.all.delete(client);
      void closeClient(client);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The client closes its socket as soon as a `disconnect` message arrives. We keep the old
   * connection until a new one is up instead (its envelopes still arrive until Slack closes it).
   */
  private interceptDisconnectMessages(client: Client): void {
    const original = client.listeners("ws_message") as ((data: unknown, isBinary: boolean) => void)[];
    client.removeAllListeners("ws_message");
    let replacing = false;
    client.on("ws_message", (data: unknown, isBinary: boolean) => {
      const text = typeof data === "string" ? data : isBinary ? "" : new TextDecoder().decode(data as ArrayBuffer);
      if (text.includes('"disconnect"')) {
        let msg: { type?: string; reason?: string } = {};
        try {
          msg = JSON.parse(text) as typeof msg;
        } catch {
          // not ours to judge: the client ignores what it cannot parse
        }
        if (msg.type === "disconnect") {
          this.o.logger.info({ reason: msg.reason }, "slack link: disconnect requested");
          if (msg.reason === "link_disabled")
            this.o.logger.error(
              { reason: msg.reason },
              "Socket Mode was turned off for this app: turn it on again under Socket Mode in the Slack app settings",
            );
          if (!replacing) {
            replacing = true;
            void this.replace(client);
          }
          return;
        }
      }
      for (const fn of original) fn(data, isBinary);
    });
  }

  /**
   * Make before break: open a new connection and leave the old one for Slack to close. Slack
   * keeps routing envelopes to the old connection until it closes it; closing it from our side
   * would race with an envelope already on its way (a command lost as `operation_timeout`).
   * Should Slack never close it, we do after REPLACED_CLOSE_MS.
   */
  private async replace(old: Client): Promise<void> {
    try {
      await this.connect();
    } catch (err) {
      this.lastError = describe(err);
      this.o.logger.warn({ err: this.lastError }, "slack link: replacement connection failed; keeping the old one until Slack closes it");
      return;
    }
    setTimeout(() => {
      if (this.all.has(old)) void closeClient(old);
    }, REPLACED_CLOSE_MS).unref();
  }

  /** Until a connection is up: at once, then doubling from min to max, with jitter; every attempt logged. */
  private async reconnectLoop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      for (let attempt = 0; !this.stopping && this.live.size === 0; attempt++) {
        if (attempt > 0) {
          const min = this.o.backoffMinMs ?? 500;
          const max = this.o.backoffMaxMs ?? 30_000;
          const delayMs = Math.round(Math.min(max, min * 2 ** (attempt - 1)) * (0.75 + Math.random() * 0.25));
          this.o.logger.warn(
            { attempt, delayMs, downForMs: Date.now() - this.since, err: this.lastError },
            "slack link: reconnect failed; retrying",
          );
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, delayMs);
            this.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
          this.wake = undefined;
          if (this.stopping || this.live.size > 0) break;
        }
        try {
          await this.connect();
        } catch (err) {
          this.lastError = describe(err);
          const code = slackErrorCode(err);
          if (isTokenRefusal(code)) this.o.logger.error({ code }, refusalLine("SLACK_APP_TOKEN", code!));
        }
      }
    } finally {
      this.looping = false;
    }
  }
}

/** Close a client without waiting the library's 30 s for a peer's close frame. */
async function closeClient(c: Client): Promise<void> {
  await Promise.race([c.disconnect().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]);
}

function slackErrorCode(err: unknown): string | undefined {
  return (err as { data?: { error?: string } })?.data?.error;
}

function describe(err: unknown): string {
  const e = err as { code?: string; statusCode?: number; data?: { error?: string }; message?: string };
  if (e?.data?.error) return `slack error ${e.data.error}`;
  if (e?.statusCode) return `HTTP ${e.statusCode} from apps.connections.open`;
  return e?.message ?? String(err);
}

/** The library's own logs go to debug: the link's decisions are logged above, once, as JSON. */
function libraryLogger(logger: Logger) {
  const log = (...msg: unknown[]) => logger.debug({ lib: "socket-mode" }, msg.map(String).join(" "));
  let level = LogLevel.WARN;
  return {
    debug: log,
    info: log,
    warn: log,
    error: log,
    setLevel: (l: typeof level) => void (level = l),
    getLevel: () => level,
    setName: () => undefined,
  };
}
