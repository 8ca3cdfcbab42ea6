/**
 * Scripted TCP/TLS servers for the cases no real daemon produces on demand: an SSH banner on the
 * FTP port, an HTTP server, a silent port, a close-at-once balancer, a 10 MB greeting, a `234`
 * followed by a handshake that never completes, odd reply texts.
 *
 * startScriptedServer gives full control of each socket; startFakeFtp is a line-based FTP-ish
 * responder driven by a greeting and a map of command → reply.
 */
import net from "node:net";
import tls from "node:tls";
import type { TlsMaterial } from "./certs.js";

export interface ScriptedServer {
  host: string;
  port: number;
  /** Sockets accepted so far. */
  connections(): number;
  /** Destroys every open socket and closes the listener. */
  stop(): Promise<void>;
}

export interface ScriptedServerOptions {
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** @defaultValue 0 (a free port chosen by the kernel) */
  port?: number;
  /** Implicit TLS: the handler gets the decrypted TLS socket. */
  tls?: TlsMaterial;
}

function secureContextOf(material: TlsMaterial): tls.SecureContext {
  return tls.createSecureContext({ cert: material.certPem + (material.chainPem ?? ""), key: material.keyPem });
}

/** A TCP (or implicit-TLS) server that hands every accepted socket to `handler`. */
export function startScriptedServer(handler: (socket: net.Socket) => void, opts: ScriptedServerOptions = {}): Promise<ScriptedServer> {
  const host = opts.host ?? "127.0.0.1";
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const track = (socket: net.Socket): void => {
    accepted++;
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // A peer reset must not crash the test process; handlers can still listen for 'error'.
    socket.on("error", () => undefined);
  };
  const server: net.Server = opts.tls
    ? tls.createServer({ cert: opts.tls.certPem + (opts.tls.chainPem ?? ""), key: opts.tls.keyPem }, (s) => {
        track(s);
        handler(s);
      })
    : net.createServer((s) => {
        track(s);
        handler(s);
      });
  if (opts.tls) {
    // Raw TCP sockets under TLS: track them too, so stop() also ends stalled handshakes.
    server.on("connection", (raw: net.Socket) => {
      sockets.add(raw);
      raw.once("close", () => sockets.delete(raw));
      raw.on("error", () => undefined);
    });
    server.on("tlsClientError", () => undefined);
  }
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host, port: opts.port ?? 0, exclusive: true }, () => {
      server.off("error", reject);
      const addr = server.address() as net.AddressInfo;
      let stopped: Promise<void> | undefined;
      resolve({
        host,
        port: addr.port,
        connections: () => accepted,
        stop() {
          stopped ??= new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            sockets.clear();
            const timer = setTimeout(done, 2000); // close() waits for sockets; we destroyed them all
            server.close(() => {
              clearTimeout(timer);
              done();
            });
          });
          return stopped;
        },
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Fake FTP

/** What the fake does for a command. */
export type FakeAction =
  /** Reply text; `\n` separates lines of a multi-line reply, CRLF is added. '' sends nothing. */
  | string
  | {
      reply?: string;
      /** Wait before replying. */
      delayMs?: number;
      /** Close the connection after the reply (FIN). */
      close?: boolean;
      /** Reset the connection (RST) after the reply. */
      reset?: boolean;
      /**
       * After the reply, start a server-side TLS handshake on the control socket with this
       * material (for `AUTH TLS` → `234`). Further commands are read inside TLS.
       */
      startTls?: TlsMaterial;
      /** After the reply, stop reading and never answer again (e.g. `234` then no handshake). */
      stall?: boolean;
    }
  | ((arg: string, session: FakeSession) => FakeAction | undefined | Promise<FakeAction | undefined>);

export interface FakeSession {
  /** Commands received on this connection, e.g. `USER alice`. */
  readonly received: string[];
  /** The socket currently used (TLS after startTls). */
  socket: net.Socket;
  /** Free-form per-connection state for handler functions. */
  state: Record<string, unknown>;
  send(text: string): void;
}

export interface FakeFtpSpec extends ScriptedServerOptions {
  /**
   * Sent on connect. A string (lines separated by `\n`; CRLF added), raw bytes (a Buffer, sent as
   * is), or null for a silent server.
   */
  greeting: string | Buffer | null;
  /** Command verb (case-insensitive, e.g. 'USER', 'AUTH') → action. */
  replies?: Record<string, FakeAction>;
  /**
   * For verbs not in `replies`.
   * @defaultValue '502 Command not implemented.'
   */
  fallback?: FakeAction;
  /** Close each connection after this many ms (simulates an idle timeout). */
  idleCloseMs?: number;
}

export interface FakeFtpServer extends ScriptedServer {
  /** Every command received, across connections, in order. */
  readonly received: string[];
}

/** Turns `a\nb` into `a\r\nb\r\n`; leaves text that already has CRLF alone. */
export function crlf(text: string): string {
  if (text === "") return "";
  const lines = text.replace(/\r\n/g, "\n").replace(/\n$/, "").split("\n");
  return lines.map((l) => `${l}\r\n`).join("");
}

function writeBig(socket: net.Socket, data: Buffer): void {
  // Write in chunks with backpressure so a 10 MB greeting does not buffer 10 MB in one go.
  const chunk = 64 * 1024;
  let offset = 0;
  const pump = (): void => {
    while (offset < data.length && !socket.destroyed) {
      const part = data.subarray(offset, offset + chunk);
      offset += part.length;
      if (!socket.write(part)) {
        socket.once("drain", pump);
        return;
      }
    }
  };
  pump();
}

/** A line-based FTP-ish server: greeting, then one action per received command. */
export async function startFakeFtp(spec: FakeFtpSpec): Promise<FakeFtpServer> {
  const received: string[] = [];
  const replies = new Map<string, FakeAction>();
  for (const [verb, action] of Object.entries(spec.replies ?? {})) replies.set(verb.toUpperCase(), action);
  const fallback: FakeAction = spec.fallback ?? "502 Command not implemented.";

  const handler = (socket: net.Socket): void => {
    const session: FakeSession = {
      received: [],
      socket,
      state: {},
      send(text: string) {
        if (!session.socket.destroyed && text !== "") session.socket.write(crlf(text));
      },
    };
    if (spec.idleCloseMs !== undefined) setTimeout(() => session.socket.end(), spec.idleCloseMs).unref();

    let buffered = "";
    let busy = Promise.resolve();
    let stalled = false;

    const perform = async (action: FakeAction | undefined, arg: string): Promise<void> => {
      if (action === undefined) return;
      if (typeof action === "function") {
        await perform(await action(arg, session), arg);
        return;
      }
      if (typeof action === "string") {
        session.send(action);
        return;
      }
      if (action.delayMs !== undefined) await new Promise((r) => setTimeout(r, action.delayMs));
      if (action.reply !== undefined) session.send(action.reply);
      if (action.reset === true) {
        session.socket.resetAndDestroy();
        return;
      }
      if (action.close === true) {
        session.socket.end();
        return;
      }
      if (action.stall === true) {
        stalled = true;
        session.socket.pause();
        return;
      }
      if (action.startTls) {
        const raw = session.socket;
        raw.removeListener("data", onData);
        const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: secureContextOf(action.startTls) });
        secure.on("error", () => undefined);
        secure.setEncoding("latin1");
        secure.on("data", onData);
        session.socket = secure;
      }
    };

    const onData = (chunk: string | Buffer): void => {
      if (stalled) return;
      buffered += typeof chunk === "string" ? chunk : chunk.toString("latin1");
      if (buffered.length > 64 * 1024) {
        session.socket.destroy(); // a client that never sends CRLF; not an FTP client
        return;
      }
      let nl: number;
      while ((nl = buffered.indexOf("\n")) >= 0) {
        const line = buffered.slice(0, nl).replace(/\r$/, "");
        buffered = buffered.slice(nl + 1);
        received.push(line);
        session.received.push(line);
        const space = line.indexOf(" ");
        const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
        const arg = space < 0 ? "" : line.slice(space + 1);
        const action = replies.has(verb) ? replies.get(verb) : fallback;
        busy = busy
          .then(() => perform(action, arg))
          .catch(() => {
            session.socket.destroy();
          });
      }
    };

    socket.setEncoding("latin1");
    socket.on("data", onData);
    if (spec.greeting === null) return;
    if (Buffer.isBuffer(spec.greeting)) writeBig(socket, spec.greeting);
    else session.send(spec.greeting);
  };

  const base = await startScriptedServer(handler, spec);
  return { ...base, received };
}

// ---------------------------------------------------------------------------------------------
// Ready-made behaviours (handlers for startScriptedServer)

/** Accepts and never sends anything (BANNER_TIMEOUT, or an implicit-TLS port seen as plain FTP). */
export function silentHandler(): (socket: net.Socket) => void {
  return (socket) => {
    socket.resume(); // read and discard, so the client's writes do not back up
  };
}

/** Accepts and closes at once, no bytes (load balancer without a healthy backend). */
export function closeAtOnceHandler(mode: "fin" | "rst" = "fin"): (socket: net.Socket) => void {
  return (socket) => {
    if (mode === "rst") socket.resetAndDestroy();
    else socket.end();
  };
}

/** An SSH server's banner (the FTP host is really SFTP-only). */
export function sshBannerHandler(banner = "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"): (socket: net.Socket) => void {
  return (socket) => {
    socket.write(`${banner}\r\n`);
    socket.resume();
  };
}

/**
 * An HTTP server: silent until it has read a request line, then answers 400 (or `status`) and
 * closes. FTP clients send nothing before the greeting, so they see silence; a probe that sends
 * `USER` gets an HTTP reply.
 */
export function httpHandler(status = "400 Bad Request", body = "<html><body>Bad Request</body></html>"): (socket: net.Socket) => void {
  return (socket) => {
    let seen = "";
    socket.setEncoding("latin1");
    socket.on("data", (d: string) => {
      seen += d;
      if (seen.includes("\n")) {
        socket.end(
          `HTTP/1.1 ${status}\r\nServer: nginx/1.22.1\r\nContent-Type: text/html\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    });
  };
}

/** A greeting of `bytes` bytes (a `220-` multi-line reply that never ends by default). */
export function hugeGreetingHandler(bytes = 10 * 1024 * 1024, terminate = false): (socket: net.Socket) => void {
  const line = Buffer.from(`220-${"x".repeat(74)}\r\n`); // 80 bytes
  const count = Math.ceil(bytes / line.length);
  const parts: Buffer[] = new Array<Buffer>(count).fill(line);
  if (terminate) parts.push(Buffer.from("220 ready\r\n"));
  const data = Buffer.concat(parts);
  return (socket) => {
    socket.resume();
    writeBig(socket, data);
  };
}
