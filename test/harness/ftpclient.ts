/**
 * A minimal control-connection FTP client for harness self-tests and fixtures: it records the
 * exact reply texts a daemon sends (curl hides most of them). No data connections, no parsing
 * beyond RFC 959 §4.2 multi-line replies ("123-..." up to "123 ...").
 */
import net from "node:net";
import tls from "node:tls";
import { requireTool, runCommand, type CommandResult } from "./env.js";

export interface FtpReply {
  code: number;
  /** All lines joined with '\n', without CRLF. */
  text: string;
  lines: string[];
}

export class FtpTimeoutError extends Error {
  override readonly name = "FtpTimeoutError";
}

export class FtpClosedError extends Error {
  override readonly name = "FtpClosedError";
}

export class RawFtpClient {
  private buffer = "";
  private lines: string[] = [];
  private waiters: Array<() => void> = [];
  private closedWith: Error | null = null;

  private constructor(
    private socket: net.Socket,
    readonly timeoutMs: number,
  ) {
    this.attach(socket);
  }

  /** Connects and reads the greeting. */
  static async connect(
    host: string,
    port: number,
    opts: { timeoutMs?: number; implicitTls?: tls.ConnectionOptions } = {},
  ): Promise<{ client: RawFtpClient; greeting: FtpReply }> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s: net.Socket = opts.implicitTls ? tls.connect({ host, port, ...opts.implicitTls }) : net.connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new FtpTimeoutError(`connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      s.once(opts.implicitTls ? "secureConnect" : "connect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    const client = new RawFtpClient(socket, timeoutMs);
    try {
      const greeting = await client.readReply();
      return { client, greeting };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  private attach(socket: net.Socket): void {
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      this.buffer += d;
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) >= 0) {
        this.lines.push(this.buffer.slice(0, nl).replace(/\r$/, ""));
        this.buffer = this.buffer.slice(nl + 1);
      }
      this.wake();
    });
    socket.on("error", (err) => {
      this.closedWith ??= err;
      this.wake();
    });
    socket.on("close", () => {
      this.closedWith ??= new FtpClosedError("connection closed by server");
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async nextLine(deadline: number): Promise<string> {
    for (;;) {
      const line = this.lines.shift();
      if (line !== undefined) return line;
      if (this.closedWith) throw this.closedWith;
      const left = deadline - Date.now();
      if (left <= 0) throw new FtpTimeoutError(`no reply within ${this.timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Reads one (possibly multi-line) reply. */
  async readReply(timeoutMs = this.timeoutMs): Promise<FtpReply> {
    const deadline = Date.now() + timeoutMs;
    const first = await this.nextLine(deadline);
    const m = /^(\d{3})([ -])/.exec(first);
    if (!m) return { code: 0, text: first, lines: [first] };
    const lines = [first];
    if (m[2] === "-") {
      for (;;) {
        const line = await this.nextLine(deadline);
        lines.push(line);
        if (line.startsWith(`${m[1]} `)) break;
      }
    }
    return { code: Number(m[1]), text: lines.join("\n"), lines };
  }

  /** Sends a command and reads its reply. */
  async send(command: string, timeoutMs = this.timeoutMs): Promise<FtpReply> {
    if (this.closedWith) throw this.closedWith;
    this.socket.write(`${command}\r\n`);
    return this.readReply(timeoutMs);
  }

  /** After a `234` to AUTH TLS: TLS handshake on the control connection. */
  async upgradeTls(opts: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
    const raw = this.socket;
    raw.removeAllListeners("data");
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: raw, ...opts });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new FtpTimeoutError(`TLS handshake timed out after ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      s.once("secureConnect", () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    this.socket = secure;
    this.attach(secure);
    return secure;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Sends QUIT (best effort) and closes. */
  async quit(): Promise<FtpReply | null> {
    try {
      return await this.send("QUIT", 2000);
    } catch {
      return null;
    } finally {
      this.close();
    }
  }
}

export interface TranscriptEntry {
  /** null for the greeting. */
  command: string | null;
  reply: FtpReply | null;
  /** Error name/message when the step failed (timeout, close, reset). */
  error?: string;
}

/** Connects, runs `commands` in order, records each reply; stops at the first error. Always closes. */
export async function ftpTranscript(host: string, port: number, commands: readonly string[], timeoutMs = 5000): Promise<TranscriptEntry[]> {
  const out: TranscriptEntry[] = [];
  let client: RawFtpClient;
  try {
    const c = await RawFtpClient.connect(host, port, { timeoutMs });
    client = c.client;
    out.push({ command: null, reply: c.greeting });
  } catch (err) {
    out.push({ command: null, reply: null, error: describeError(err) });
    return out;
  }
  try {
    for (const command of commands) {
      try {
        out.push({ command, reply: await client.send(command) });
      } catch (err) {
        out.push({ command, reply: null, error: describeError(err) });
        break;
      }
    }
  } finally {
    client.close();
  }
  return out;
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return `${err.name}${code ? ` ${code}` : ""}: ${err.message}`;
  }
  return String(err);
}

/**
 * Runs curl with a deadline (curl's own --max-time plus a hard kill). Note curl's defaults hide
 * PASV address problems (--ftp-skip-pasv-ip is on): it always connects to the control peer.
 */
export async function curl(args: readonly string[], timeoutMs = 15_000): Promise<CommandResult> {
  const bin = requireTool("curl");
  return runCommand(bin, ["--silent", "--show-error", "--max-time", String(Math.ceil(timeoutMs / 1000)), ...args], {
    timeoutMs: timeoutMs + 5000,
  });
}
