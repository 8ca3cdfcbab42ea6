import type net from "node:net";
import tls from "node:tls";
import { describe, failureOf, type ProbeContext } from "../context.js";
import type { ControlChannel } from "../control.js";
import { PipeliningFailure, tlsHandshake } from "../net.js";
import { TapStream } from "../tap.js";
import type { CertFacts, Reply, TlsObservation } from "../types.js";
import { endForRetry, exchange } from "../pipeline.js";
import { featPlan, recordFeat } from "./feat.js";
import { legacyRetry, plainAfterBrokenTls, startSideChecks } from "./tlsSide.js";
import { startTlsReuseSide } from "./tlsReuse.js";

export async function secure(ctx: ProbeContext): Promise<boolean> {
  const ctl = ctx.ctl!;
  const mode = ctx.tlsMode;
  if (mode === "implicit") return true;
  if (mode === "off") return true;
  const step = ctx.rec.begin("tls");
  // FEAT rides along with AUTH TLS: one round trip for both.
  const feat = featPlan(ctx);
  let auth: Reply;
  try {
    const replies = await exchange(ctx, "AUTH TLS", [...feat.send, "AUTH TLS"], () => ctx.replyTimeout(), feat.owed);
    if (replies.length > 1) recordFeat(ctx, replies[0]!);
    auth = replies[replies.length - 1]!;
  } catch (err) {
    ctx.lost("AUTH TLS", err);
    if (err instanceof PipeliningFailure) return endForRetry(step, err);
    step.end("fail", "connection lost at AUTH TLS", { error: failureOf(err) });
    return false;
  }
  if (auth.code !== 234) {
    ctx.obs.tls = { mode: "explicit", authReply: auth, status: "refused", chain: [], checkedName: ctx.target.host };
    if (mode === "auto") {
      ctx.obs.plainFallback = { reason: `AUTH TLS refused: ${describe(auth)}` };
      step.end("warn", `AUTH TLS refused (${auth.code}); continuing without TLS`, { reply: auth });
      return true;
    }
    step.end("fail", `AUTH TLS refused: ${describe(auth)}`, { reply: auth });
    return false;
  }
  ctx.obs.tls = { mode: "explicit", authReply: auth, status: "not-run", chain: [], checkedName: ctx.target.host };
  step.end("ok", "234 AUTH TLS accepted", { reply: auth });
  return handshake(ctx, ctl, "explicit");
}

/** TLS on the control connection (after 234, or at once for implicit FTPS). */
export async function handshake(ctx: ProbeContext, ctl: ControlChannel, mode: "explicit" | "implicit"): Promise<boolean> {
  const step = ctx.rec.begin("tls");
  const raw = ctl.detach();
  const checkedName = ctx.target.host;
  const obs: TlsObservation = (ctx.obs.tls ??= { mode, status: "not-run", chain: [], checkedName });
  const timeout = ctx.tlsTimeout();
  try {
    const tap = new TapStream(raw as net.Socket);
    const { socket, ms } = await tlsHandshake(
      { socket: tap as unknown as net.Socket, ...ctx.tlsNames(), secureContext: ctx.verifyContext() },
      timeout,
    );
    ctx.track(socket);
    socket.on("session", (s: Buffer) => (ctx.tlsSession = s));
    // TLS 1.2 and older: the session (ID or ticket) arrives during the handshake, before we
    // could listen; without it data connections do not resume (ProFTPD: "425 Unable to build
    // data connection: Operation not permitted"). TLS 1.3 tickets come later, via "session".
    if (socket.getProtocol() !== "TLSv1.3") ctx.tlsSession ??= socket.getSession();
    ctl.attach(socket, () => tap.plaintextReply());
    Object.assign(obs, tlsFacts(socket, checkedName), { status: "ok", handshakeMs: Math.round(ms) });
    ctx.rec.line(
      "*",
      "ctl",
      `TLS ${obs.protocol} ${obs.cipher}; ` +
        `certificate ${obs.chain[0]?.subject ?? "?"}` +
        `${obs.authorizationError ? ` (${obs.authorizationError})` : ""}` +
        `${obs.hostnameError ? " (name mismatch)" : ""}`,
    );
    const problem = obs.authorizationError ?? (obs.hostnameError ? "hostname mismatch" : undefined);
    step.end(problem ? "warn" : "ok", `${obs.protocol} ${obs.cipher} in ${Math.round(ms)} ms${problem ? `; certificate: ${problem}` : ""}`);
    if (!ctx.ctl) ctx.ctl = ctl;
    if (!ctx.sideChecksStarted) {
      startSideChecks(ctx);
      startTlsReuseSide(ctx);
    }
    return true;
  } catch (err) {
    const e = failureOf(err);
    obs.error = e;
    if (e.kind === "timeout") {
      obs.status = "stall";
      step.end("fail", `TLS handshake stalled: no progress within ${Math.round(timeout)} ms`, { error: e });
      ctx.ctl = undefined;
      await plainAfterBrokenTls(ctx);
    } else {
      obs.status = "failed";
      step.end("fail", `TLS handshake failed: ${e.message}`, { error: e });
      ctx.ctl = undefined;
      await legacyRetry(ctx, mode);
    }
    return false;
  }
}

/**
 * The system roots plus --ca, as one cached context: building it parses ~150 certificates
 * (about 20 ms of CPU), which per check was half the CPU of an FTPS check and a burst of
 * native memory under concurrency. A client context is safe to share between connections.
 */
// ---------------------------------------------------------------- helpers

function tlsFacts(socket: tls.TLSSocket, checkedName: string): Partial<TlsObservation> {
  const chain: CertFacts[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.fingerprint256 && !seen.has(cert.fingerprint256) && chain.length < 10) {
    seen.add(cert.fingerprint256);
    chain.push({
      subject: nameOf(cert.subject),
      issuer: nameOf(cert.issuer),
      sans: (cert.subjectaltname ?? "").split(/,\s*/).filter(Boolean),
      validFrom: new Date(cert.valid_from).toISOString(),
      validTo: new Date(cert.valid_to).toISOString(),
      fingerprint256: cert.fingerprint256,
      selfIssued: nameOf(cert.subject) === nameOf(cert.issuer),
    });
    cert = cert.issuerCertificate;
  }
  const leaf = socket.getPeerCertificate();
  let hostnameError: string | undefined;
  if (leaf?.subject) {
    const err = tls.checkServerIdentity(checkedName, leaf);
    if (err) hostnameError = err.message;
  }
  // Node reports a name mismatch as the authorization error when a servername was given;
  // we keep the chain verdict and the name verdict apart.
  let authErr: string | Error | undefined = socket.authorizationError;
  const authCode = typeof authErr === "string" ? authErr : (authErr as NodeJS.ErrnoException | undefined)?.code;
  if (authCode === "ERR_TLS_CERT_ALTNAME_INVALID") {
    hostnameError ??= typeof authErr === "string" ? "certificate does not match the host name" : authErr!.message;
    authErr = undefined;
  }
  return {
    protocol: socket.getProtocol() ?? "",
    cipher: socket.getCipher()?.name ?? "",
    chain,
    ...(authErr
      ? { authorizationError: typeof authErr === "string" ? authErr : ((authErr as NodeJS.ErrnoException).code ?? authErr.message) }
      : {}),
    ...(hostnameError ? { hostnameError } : {}),
  };
}

function nameOf(n: tls.Certificate | undefined): string {
  if (!n) return "";
  const parts: string[] = [];
  for (const k of ["CN", "O", "OU"] as const) {
    const v = n[k];
    if (v) parts.push(`${k}=${Array.isArray(v) ? v.join("+") : v}`);
  }
  return parts.join(", ");
}
