import type net from "node:net";
import { LIMITS } from "../../config/defaults.js";
import { failureOf, type ProbeContext } from "../context.js";
import { classifyError, netError, NetFailureError, tlsHandshake } from "../net.js";
import type { ControlChannel } from "../control.js";
import type { DataObservation, NetError, Reply } from "../types.js";

/**
 * Run one transfer command on an open data socket. Under PROT P the TLS handshake on the
 * data connection starts together with the command (the server's accept will find our
 * ClientHello waiting), reusing the control session: vsftpd's require_ssl_reuse and
 * FileZilla Server refuse data connections that do not resume it. With ctx.dataTlsAfterReply
 * it starts after the command's 1xx instead, as Python's ftplib does (one round trip more).
 */
export async function transfer(
  ctx: ProbeContext,
  socket: net.Socket,
  command: string,
  direction: "read" | "write",
  payload?: Buffer,
  opts: {
    /** A fresh TLS session on the data connection instead of resuming the control one (tlsReuse.ts). */
    freshTls?: boolean;
    /** A side session's control channel (tlsReuse.ts) instead of the main one: PROT P, nothing recorded on the main session. */
    via?: ControlChannel;
  } = {},
): Promise<{ first?: Reply; final?: Reply; bytes?: number; body?: Buffer; tls?: DataObservation["dataTls"]; error?: NetError }> {
  const ctl = opts.via ?? ctx.ctl!;
  const prot = opts.via ? true : (ctx.obs.data?.protected ?? false);
  const link = new DataLink(ctx, socket, prot, ctx.tlsSession && !opts.freshTls ? ctx.tlsSession : undefined, direction);
  const late = prot && ctx.dataTlsAfterReply;
  if (!late) link.start();
  ctl.send(command);
  let first: Reply;
  try {
    first = await ctl.reply(ctx.replyTimeout());
  } catch (err) {
    socket.destroy();
    throw err;
  }
  if (first.code !== 150 && first.code !== 125) {
    socket.destroy();
    await link.ready?.catch(() => undefined);
    return { first, ...(link.tls ? { tls: link.tls } : {}) };
  }
  const s = await link.start();
  let bytes = 0;
  let body: Buffer | undefined;
  let error: NetError | undefined;
  if (!s) {
    socket.destroy();
    error = link.tls?.error;
    if (!late && error?.kind === "reset") return resetEarly(ctx, ctl, command, first, { ...link.tls!, error }, !opts.via);
  } else if (direction === "read") {
    const r = await link.reader!;
    if (r) {
      body = r.body;
      bytes = r.bytes;
      if (r.error) error = r.error;
    }
  } else {
    try {
      await writeAll(s, payload!, ctx.replyTimeout());
      bytes = payload!.length;
    } catch (err) {
      error = failureOf(err);
    }
  }
  let final: Reply | undefined;
  try {
    final = await ctl.reply(ctx.replyTimeout());
  } catch (err) {
    if (!opts.via) ctx.lost(`${command} completion`, err);
    error ??= failureOf(err);
  }
  return {
    first,
    ...(final ? { final } : {}),
    bytes,
    ...(body ? { body } : {}),
    ...(link.tls ? { tls: link.tls } : {}),
    ...(error ? { error } : {}),
  };
}

/**
 * A data connection's stream: under PROT P a TLS session on it (resuming `session` when given),
 * else the socket itself; a listing's bytes are collected as soon as they flow (bounded).
 */
class DataLink {
  tls: DataObservation["dataTls"] | undefined;
  ready: Promise<net.Socket | undefined> | undefined;
  reader: Promise<{ body: Buffer; bytes: number; error?: NetError } | undefined> | undefined;

  constructor(
    private readonly ctx: ProbeContext,
    private readonly socket: net.Socket,
    private readonly prot: boolean,
    private readonly session: Buffer | undefined,
    private readonly direction: "read" | "write",
  ) {}

  /** Start the handshake (once) and the reader; the stream, or undefined when TLS failed. */
  start(): Promise<net.Socket | undefined> {
    if (this.ready) return this.ready;
    const { ctx, socket } = this;
    this.ready = this.prot
      ? tlsHandshake({ socket, ...ctx.tlsNames(), ...(this.session ? { session: this.session } : {}) }, ctx.tlsTimeout()).then(
          ({ socket: t }) => {
            ctx.track(t);
            this.tls = { status: "ok", reused: t.isSessionReused(), protocol: t.getProtocol() ?? "" };
            return t as net.Socket;
          },
          (err) => {
            this.tls = { status: "failed", error: failureOf(err) };
            return undefined;
          },
        )
      : Promise.resolve(socket);
    if (this.direction === "read")
      this.reader = this.ready.then((s) => (s ? readAll(s, LIMITS.maxListingBytes, ctx.replyTimeout()) : undefined));
    return this.ready;
  }
}

/**
 * The server reset our data TLS handshake after answering 1xx. A server that refuses it says so
 * (425, 522) within a few round trips; pyftpdlib, which took our early ClientHello for a
 * stray, never answers on that control connection again. Then the check starts a fresh
 * session with the handshake after the 1xx (engine.ts) instead of waiting out the reply timeout.
 */
async function resetEarly(
  ctx: ProbeContext,
  ctl: ControlChannel,
  command: string,
  first: Reply,
  /** The failed handshake, with the reset it ended in. */
  tls: NonNullable<DataObservation["dataTls"]> & { error: NetError },
  /** The main session's own transfer (not a side session's): its state records what happened. */
  main: boolean,
): Promise<{ first: Reply; final?: Reply; bytes: number; tls: NonNullable<DataObservation["dataTls"]>; error: NetError }> {
  const { error } = tls;
  const graceMs = ctx.budget.cap(Math.max(LIMITS.dataTlsResetGraceMs, ctx.rtt * 4));
  let final: Reply | undefined;
  try {
    final = await ctl.reply(graceMs);
  } catch (err) {
    if (main && failureOf(err).kind !== "timeout") ctx.lost(`${command} completion`, err);
    else if (main) ctx.dataTlsReset = { command, error };
  }
  return { first, ...(final ? { final } : {}), bytes: 0, tls, error };
}

export function readAll(
  socket: net.Socket,
  maxBytes: number,
  timeoutMs: number,
): Promise<{ body: Buffer; bytes: number; error?: NetError }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const finish = (error?: NetError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners("data");
      resolve({ body: Buffer.concat(chunks), bytes, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish(netError("timeout", "TIMEOUT", `data transfer did not finish within ${Math.round(timeoutMs)} ms`));
    }, timeoutMs);
    socket.on("data", (c: Buffer) => {
      bytes += c.length;
      if (bytes > maxBytes) {
        socket.destroy();
        finish(netError("oversize", "OVERSIZE", `data exceeded ${maxBytes} bytes; cut`));
        return;
      }
      chunks.push(c);
    });
    socket.once("end", () => finish());
    socket.once("close", () => finish());
    socket.once("error", (e) => finish(classifyError(e)));
  });
}

function writeAll(socket: net.Socket, payload: Buffer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NetFailureError(netError("timeout", "TIMEOUT", `upload did not finish within ${Math.round(timeoutMs)} ms`)));
    }, timeoutMs);
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(new NetFailureError(classifyError(e)));
    });
    socket.end(payload, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
