import type net from "node:net";
import type tls from "node:tls";
import { StringDecoder } from "node:string_decoder";
import { LIMITS } from "../config/defaults.js";
import { classifyError, netError, NetFailureError } from "./net.js";
import { sanitize, type Recorder } from "./record.js";
import { type Incoming, type PendingReply, parseReplyLine } from "./reply.js";
import type { NetError, Reply } from "./types.js";

/**
 * One FTP control connection: turns bytes into lines and hands them to the pure reply parser (./reply.ts),
 * never buffers more than LIMITS allow, and never waits without a deadline.
 * It knows no FTP commands; the engine decides what to send.
 */
export class ControlChannel {
  private socket: net.Socket | tls.TLSSocket;
  private decoder = new StringDecoder("utf8");
  private partial = "";
  private current: PendingReply | undefined;
  private readonly queue: Incoming[] = [];
  private waiter: { resolve: (i: Incoming) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | undefined;
  private ended: NetError | undefined;
  private readonly onData = (chunk: Buffer) => this.feed(chunk);
  private readonly onError = (err: Error) => this.fail(classifyError(err));
  private readonly onClose = () => this.fail(netError("closed", "CLOSED", "server closed the connection"));
  bytesIn = 0;

  constructor(
    socket: net.Socket,
    private readonly rec: Recorder,
    readonly conn = "ctl",
  ) {
    this.socket = socket;
    this.tcp = { local: socket.localAddress ?? "", remote: socket.remoteAddress ?? "" };
    this.listen();
  }

  /** The TCP endpoints, kept: a TLS socket layered over our tap stream reports none (PORT needs ours). */
  private readonly tcp: { local: string; remote: string };

  get remoteAddress(): string {
    return this.socket.remoteAddress || this.tcp.remote;
  }
  get localAddress(): string {
    return this.socket.localAddress || this.tcp.local;
  }
  get raw(): net.Socket | tls.TLSSocket {
    return this.socket;
  }
  get closed(): NetError | undefined {
    return this.ended;
  }

  /** What arrived of a reply that has not ended (a trickling or stalled peer), sanitised; undefined when nothing. */
  get unfinished(): { bytes: number; text: string } | undefined {
    const text = [...(this.current?.lines ?? []), this.partial].filter((l) => l !== "").join("\n");
    return text ? { bytes: Buffer.byteLength(text), text: sanitize(text, 120) } : undefined;
  }

  private listen(): void {
    this.socket.on("data", this.onData);
    this.socket.on("error", this.onError);
    this.socket.on("close", this.onClose);
  }

  /** Hand the socket to TLS (after `234`); returns the plain socket for tls.connect. */
  detach(): net.Socket | tls.TLSSocket {
    this.socket.removeListener("data", this.onData);
    this.socket.removeListener("error", this.onError);
    this.socket.removeListener("close", this.onClose);
    return this.socket;
  }

  private plaintext: (() => string | undefined) | undefined;

  /**
   * Continue on the TLS socket that wraps the detached one. `plaintext` recovers a reply the
   * server sent unencrypted inside the TLS session (vsftpd's "500 OOPS").
   */
  attach(socket: tls.TLSSocket, plaintext?: () => string | undefined): void {
    this.socket = socket;
    this.plaintext = plaintext;
    this.decoder = new StringDecoder("utf8");
    this.listen();
  }

  private fail(err: NetError): void {
    if (this.ended) return;
    // Inside TLS, plain text surfaces as a TLS error, or (when the close is read first) as a close.
    if ((err.kind === "tls-error" || err.kind === "closed" || err.kind === "reset") && this.plaintext) {
      const line = this.plaintext();
      this.plaintext = undefined;
      if (line) {
        this.rec.line("*", this.conn, "server wrote plain text inside the TLS session:");
        this.push({ type: "reply", reply: { code: Number(line.slice(0, 3)), text: sanitize(line) } });
      }
    }
    // A pending reply fragment means the server died mid-reply.
    this.ended = err;
    this.rec.line("*", this.conn, `${err.kind}: ${err.message}`);
    if (this.waiter && this.queue.length === 0) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.reject(new NetFailureError(err));
    }
  }

  private feed(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    this.partial += this.decoder.write(chunk);
    let nl: number;
    while ((nl = this.partial.indexOf("\n")) >= 0) {
      const line = this.partial.slice(0, nl).replace(/\r$/, "");
      this.partial = this.partial.slice(nl + 1);
      this.onLine(line);
      if (this.ended) return;
    }
    if (Buffer.byteLength(this.partial) > LIMITS.maxLineBytes) {
      this.abort(netError("oversize", "OVERSIZE", `a line longer than ${LIMITS.maxLineBytes} bytes without a line break`));
    }
  }

  private onLine(line: string): void {
    // Pipelined when a command was sent behind the one the open reply answers.
    const r = parseReplyLine(this.current, line, this.outstanding >= 2);
    this.current = r.pending;
    if (r.oversize) {
      this.abort(netError("oversize", "OVERSIZE", r.oversize));
      return;
    }
    if (r.interleaved) {
      this.interleaved++;
      this.rec.line(
        "*",
        this.conn,
        `reply inside the multi-line ${r.interleaved.within} reply: ${r.interleaved.line} (commands answered concurrently)`,
      );
    }
    for (const item of r.items) {
      this.push(item);
      if (this.ended) return;
    }
  }

  /** Commands sent whose final (non-1xx) reply has not arrived yet. */
  private outstanding = 0;
  /** Replies found written inside another multi-line reply (a server that mishandles pipelining). */
  interleaved = 0;

  /** The last complete reply received (evidence when the connection is lost right after it). */
  lastReply: Reply | undefined;

  private push(item: Incoming): void {
    this.rec.line("<", this.conn, item.type === "reply" ? item.reply.text.split("\n").join(" | ") : `(not a reply) ${item.text}`);
    if (item.type === "reply") {
      this.lastReply = item.reply;
      if (item.reply.code >= 200) this.outstanding = Math.max(0, this.outstanding - 1);
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      clearTimeout(w.timer);
      w.resolve(item);
    } else {
      if (this.queue.length > LIMITS.maxGarbageLines * 2) {
        this.abort(netError("oversize", "OVERSIZE", "server sent many replies nobody asked for"));
        return;
      }
      this.queue.push(item);
    }
  }

  /** Abort the connection because the peer broke a limit. */
  abort(err: NetError): void {
    this.fail(err);
    this.socket.destroy();
  }

  /** The next reply or non-reply line, within `timeoutMs`. */
  next(timeoutMs: number): Promise<Incoming> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.ended) return Promise.reject(new NetFailureError(this.ended));
    if (this.waiter) return Promise.reject(new Error("ControlChannel.next called concurrently"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new NetFailureError(netError("timeout", "TIMEOUT", `no reply within ${Math.round(timeoutMs)} ms`)));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** The next complete FTP reply; stray non-reply lines are skipped (bounded). */
  async reply(timeoutMs: number): Promise<Reply> {
    const until = performance.now() + timeoutMs;
    for (let skipped = 0; ; skipped++) {
      const item = await this.next(Math.max(1, until - performance.now()));
      if (item.type === "reply") return item.reply;
      if (skipped >= LIMITS.maxGarbageLines) {
        throw new NetFailureError(netError("malformed", "MALFORMED", `server sent text that is not an FTP reply: ${item.text}`));
      }
    }
  }

  send(command: string, shown: string = command): void {
    if (this.ended) throw new NetFailureError(this.ended);
    // One command per line, always: a CR/LF from any input would smuggle in a second command.
    if (/[\r\n\0]/.test(command))
      throw new NetFailureError(netError("error", "BAD_COMMAND", "refusing to send a command containing a line break or NUL"));
    this.rec.line(">", this.conn, shown);
    this.outstanding++;
    this.socket.write(`${command}\r\n`);
  }

  async command(command: string, timeoutMs: number, shown?: string): Promise<Reply> {
    this.send(command, shown);
    return this.reply(timeoutMs);
  }

  /** Polite end: QUIT without waiting for 221 longer than `waitMs`, then close. */
  async quit(waitMs: number): Promise<Reply | undefined> {
    let answer: Reply | undefined;
    if (!this.ended) {
      try {
        this.send("QUIT");
        answer = await this.reply(waitMs);
      } catch {
        // the server may close without 221; nothing to learn here
      }
    }
    this.close();
    return answer;
  }

  close(): void {
    this.socket.end();
    const s = this.socket;
    setTimeout(() => s.destroy(), 200).unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export { sanitize };
