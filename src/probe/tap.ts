import { Duplex } from "node:stream";
import type net from "node:net";

/**
 * A transparent stream between a TCP socket and the TLS layer that remembers the last bytes
 * received. Why: vsftpd writes its fatal "500 OOPS: …" in plain text even inside a TLS session,
 * which the TLS layer only reports as "wrong version number". The tap lets us read what the
 * server actually said.
 */
export class TapStream extends Duplex {
  private last: Buffer = Buffer.alloc(0);

  private held: Buffer | undefined;
  private heldTimer: NodeJS.Timeout | undefined;

  constructor(private readonly socket: net.Socket) {
    super();
    socket.on("data", (d: Buffer) => {
      // A TLS record starts with a content-type byte (20-24), never an ASCII digit: bytes that
      // start like "500 " are plain text. vsftpd writes "500 OOPS: " and its reason in two
      // writes, so hold such text until the line is complete (or briefly) before TLS sees it.
      if (this.held || /^\d{3}[ -]/.test(d.subarray(0, 4).toString("latin1"))) {
        this.held = this.held ? Buffer.concat([this.held, d]) : d;
        if (this.held.includes(10) || this.held.length > 2048) this.release();
        else this.heldTimer ??= setTimeout(() => this.release(), 300);
        return;
      }
      this.last = d.length > 2048 ? d.subarray(d.length - 2048) : d;
      if (!this.push(d)) socket.pause();
    });
    socket.on("end", () => {
      if (this.held) this.release();
      this.push(null);
    });
    socket.on("error", (e) => this.destroy(e));
    socket.on("close", () => this.destroy());
  }

  private release(): void {
    clearTimeout(this.heldTimer);
    this.heldTimer = undefined;
    const d = this.held!;
    this.held = undefined;
    this.last = d;
    this.push(d);
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    if (this.socket.destroyed) cb(new Error("socket closed"));
    else this.socket.write(chunk, cb);
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    clearTimeout(this.heldTimer);
    this.socket.destroy();
    cb(err);
  }

  /** An FTP reply sent in plain text where TLS records were expected, if any. */
  plaintextReply(): string | undefined {
    const text = this.last.toString("latin1");
    const m = /(?:^|\n)(\d{3}[ -][\x20-\x7e]{2,400})\r?\n?/.exec(text);
    if (m) return m[1];
    // Read together with the TLS records before it (one TCP read): the last reply-shaped line.
    // vsftpd writes its OOPS last, then closes.
    const all = [...text.matchAll(/([1-5]\d\d[ -][\x20-\x7e]{2,400})\r?\n/g)];
    return all.length ? all[all.length - 1]![1] : undefined;
  }
}
