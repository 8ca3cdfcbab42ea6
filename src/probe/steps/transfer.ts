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
  const resume = ctx.tlsSession && !opts.freshTls ? { session: ctx.tlsSession } : {};
  let stream: net.Socket = socket;
  let tlsInfo: DataObservation["dataTls"] | undefined;
  const secure = (): Promise<net.Socket | undefined> =>
    prot
      ? tlsHandshake({ socket, ...ctx.tlsNames(), ...resume }, ctx.tlsTimeout()).then(
          ({ socket: t }) => {
            ctx.track(t);
            tlsInfo = { status: "ok", reused: t.isSessionReused(), protocol: t.getProtocol() ?? "" };
            return t as net.Socket;
          },
          (err) => {
            tlsInfo = { status: "failed", error: failureOf(err) };
            return undefined;
          },
        )
      : Promise.resolve(socket);
  // Collect bytes as soon as they flow; a bounded buffer.
  const readFrom = (h: Promise<net.Socket | undefined>) =>
    direction === "read" ? h.then((s) => (s ? readAll(s, LIMITS.maxListingBytes, ctx.replyTimeout()) : undefined)) : undefined;
  const late = prot && ctx.dataTlsAfterReply;
  let handshake = late ? undefined : secure();
  let reader = handshake && readFrom(handshake);
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
    await handshake?.catch(() => undefined);
    return { first, ...(tlsInfo ? { tls: tlsInfo } : {}) };
  }
  if (!handshake) {
    handshake = secure();
    reader = readFrom(handshake);
  }
  const s = await handshake;
  let bytes = 0;
  let body: Buffer | undefined;
  let error: NetError | undefined;
  if (!s) {
    socket.destroy();
    error = tlsInfo?.error;
    if (!late && error?.kind === "reset") return resetEarly(ctx, ctl, command, first, tlsInfo!, error, !opts.via);
  } else if (direction === "read") {
    const r = await reader!;
    if (r) {
      body = r.body;
      bytes = r.bytes;
      if (r.error) error = r.error;
    }
  } else {
    stream = s;
    try {
      await writeAll(stream, payload!, ctx.replyTimeout());
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
    ...(tlsInfo ? { tls: tlsInfo } : {}),
    ...(error ? { error } : {}),
  };
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
  tls: NonNullable<DataObservation["dataTls"]>,
  error: NetError,
  /** The main session's own transfer (not a side session's): its state records what happened. */
  main: boolean,
): Promise<{ first: Reply; final?: Reply; bytes: number; tls: NonNullable<DataObservation["dataTls"]>; error: NetError }> {
  const graceMs = ctx.budget.cap(Math.max(LIMITS.dataTlsResetGraceMs, ctx.rtt * 4));
  try {
    const final = await ctl.reply(graceMs);
    return { first, final, bytes: 0, tls, error };
  } catch (err) {
    if (!main) return { first, bytes: 0, tls, error };
    if (failureOf(err).kind !== "timeout") ctx.lost(`${command} completion`, err);
    else ctx.dataTlsReset = { command, error, reply: first };
    return { first, bytes: 0, tls, error };
  }
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
