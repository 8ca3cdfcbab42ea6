import net from "node:net";
import tls from "node:tls";
import type { NetError, NetFailure } from "./types.js";

/** Map a socket error to the failure kinds the fault tree reasons about. */
export function classifyError(err: unknown): NetError {
  const e = err as NodeJS.ErrnoException & { code?: string };
  const code = typeof e?.code === "string" ? e.code : "ERROR";
  const message = cleanMessage(String(e?.message ?? err));
  let kind: NetFailure = "error";
  switch (code) {
    case "ECONNREFUSED":
      kind = "refused";
      break;
    case "ETIMEDOUT":
    case "TIMEOUT":
      kind = "timeout";
      break;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "EHOSTDOWN":
    case "ENETDOWN":
    case "EADDRNOTAVAIL":
      kind = "unreachable";
      break;
    case "ECONNRESET":
    case "EPIPE":
    case "ECONNABORTED":
      kind = "reset";
      break;
    default:
      if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS") || code === "EPROTO" || /ssl|tls/i.test(message)) kind = "tls-error";
  }
  return { kind, code, message };
}

/** OpenSSL errors carry file names and line numbers; keep the reason an operator can read. */
function cleanMessage(raw: string): string {
  const ssl = /SSL routines:[^:]*:([^:\n]+)/.exec(raw);
  if (ssl) return ssl[1]!.trim();
  return raw.split("\n")[0]!.slice(0, 300);
}

export function netError(kind: NetFailure, code: string, message: string): NetError {
  return { kind, code, message };
}

export class NetFailureError extends Error {
  override readonly name: string = "NetFailureError";
  constructor(readonly failure: NetError) {
    super(failure.message);
  }
}

/** TCP connect with our own deadline (the OS default is 21 s to 2 min). */
export function connectTcp(
  host: string,
  port: number,
  timeoutMs: number,
  localAddress?: string,
): Promise<{ socket: net.Socket; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NetFailureError(netError("timeout", "TIMEOUT", `no answer to TCP SYN within ${timeoutMs} ms`)));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.removeAllListeners("error");
      resolve({ socket, ms: performance.now() - started });
    });
    socket.once("error", (err) => {
      clearTimeout(timer);
      socket.destroy();
      reject(new NetFailureError(classifyError(err)));
    });
  });
}

/**
 * Key-exchange groups, P-256 first. OpenSSL sends a TLS 1.3 key share for the first group only
 * (X25519 by default); vsftpd 3.0.3 allows only P-256 and answers that with a HelloRetryRequest,
 * one more round trip on the control handshake and again on every data handshake. P-256 is the
 * group every TLS 1.3 server must implement (RFC 8446 §9.1), so a P-256 share is never retried.
 */
export const ECDH_CURVES = "P-256:X25519:P-384:P-521";

/**
 * TLS handshake with a deadline. Verification is done by us afterwards (we want to see the
 * certificate even when it is bad), so rejectUnauthorized is false here.
 */
export function tlsHandshake(options: tls.ConnectionOptions, timeoutMs: number): Promise<{ socket: tls.TLSSocket; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    let settled = false;
    const socket = tls.connect({ ecdhCurve: ECDH_CURVES, ...options, rejectUnauthorized: false });
    const done = (err?: NetError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) {
        socket.destroy();
        options.socket?.destroy();
        reject(new NetFailureError(err));
      } else {
        socket.removeListener("error", onError);
        socket.removeListener("close", onClose);
        resolve({ socket, ms: performance.now() - started });
      }
    };
    const onError = (err: Error) => done(classifyError(err));
    const onClose = () => done(netError("closed", "CLOSED", "connection closed during the TLS handshake"));
    const timer = setTimeout(
      () => done(netError("timeout", "TIMEOUT", `TLS handshake did not complete within ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once("secureConnect", () => done());
    socket.on("error", onError);
    socket.once("close", onClose);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * The server mishandled our pipelining so that this connection cannot be trusted any more (a
 * reply to a pipelined command never came): not the server's fault, never reported as one. The
 * check retries in lock-step on a fresh connection.
 */
export class PipeliningFailure extends NetFailureError {
  override readonly name = "PipeliningFailure";
  constructor(
    detail: string,
    /** The command whose reply did not come. */
    readonly command: string,
  ) {
    super(netError("error", "PIPELINING", detail));
  }
}
