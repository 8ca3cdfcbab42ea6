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

  constructor(private readonly socket: net.Socket) {
    super();
    socket.on("data", (d: Buffer) => {
      this.last = d.length > 2048 ? d.subarray(d.length - 2048) : d;
      if (!this.push(d)) socket.pause();
    });
    socket.on("end", () => this.push(null));
    socket.on("error", (e) => this.destroy(e));
    socket.on("close", () => this.destroy());
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
    this.socket.destroy();
    cb(err);
  }

  /** An FTP reply sent in plain text where TLS records were expected, if any. */
  plaintextReply(): string | undefined {
    const text = this.last.toString("latin1");
    const m = /(?:^|\n)(\d{3}[ -][\x20-\x7e]{2,400})\r?\n?/.exec(text);
    return m ? m[1] : undefined;
  }
}
