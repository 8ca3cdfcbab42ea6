import type net from "node:net";
import { adaptive, LIMITS } from "../../config/defaults.js";
import { identifyServer } from "../../diagnosis/software.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { ControlChannel } from "../control.js";
import { connectTcp, netError, tlsHandshake } from "../net.js";
import { lockstepForBanner } from "../pipeline.js";
import type { Recorder } from "../record.js";
import type { NetError, Observations, Reply } from "../types.js";
import { handshake } from "./tls.js";

// ---------------------------------------------------------------- greeting
/**
 * Quirks a banner gives away before they cost a detour (identifyServer: the same banner patterns
 * the remediation uses). pyftpdlib resets a data ClientHello that arrives before it took the
 * transfer command (transfer.ts); Twisted reads no command after a PASV until its data connection
 * arrives, which pipelining finds out only after a reply timeout and a fresh connection. With a
 * banner that hides them the engine still finds out, one detour later (engine.ts, pipeline.ts).
 */
function bannerQuirks(ctx: ProbeContext, banner: string): void {
  const { software } = identifyServer(banner, undefined);
  if (software === "pyftpdlib") ctx.dataTlsAfterReply = true;
  if (software === "twisted") lockstepForBanner(ctx, "Twisted");
}

export async function greeting(ctx: ProbeContext, ctl: ControlChannel): Promise<boolean> {
  if (ctx.tlsMode === "implicit") {
    const ok = await handshake(ctx, ctl, "implicit");
    if (!ok) return false;
  }
  ctx.ctl = ctl;
  const step = ctx.rec.begin("greeting");
  const started = performance.now();
  const nudgeAt = ctx.budget.cap(adaptive(LIMITS.greetingNudgeMinMs, ctx.rtt, 10));
  const giveUpAt = ctx.greetingTimeout();
  const elapsed = () => Math.round(performance.now() - started);
  let first;
  try {
    first = await ctl.next(nudgeAt);
  } catch (err) {
    const e = failureOf(err);
    if (e.kind !== "timeout") return greetingFailed(ctx, step, e, elapsed());
    first = await silentGreeting(ctx, ctl, Math.max(1, giveUpAt - nudgeAt), elapsed);
    if (!first) {
      const part = ctl.unfinished;
      if (part && ctx.obs.greeting) ctx.obs.greeting.unfinished = part;
      step.end("fail", `no greeting within ${elapsed()} ms${part ? ` (${part.bytes} bytes of an unfinished line)` : ""}`, {
        error: netError("timeout", "TIMEOUT", part ? "greeting never completed" : "server sent nothing"),
      });
      return false;
    }
  }
  if (first.type === "garbage") {
    const raw = first.text;
    const status = /^SSH-/i.test(raw) ? "ssh" : /^HTTP\/\d/i.test(raw) || /<html|<!doctype/i.test(raw) ? "http" : "garbage";
    ctx.obs.greeting = { status, raw, durationMs: elapsed() };
    step.end("fail", `not an FTP greeting: ${raw.slice(0, 80)}`);
    return false;
  }
  let reply = first.reply;
  // 120: "service ready in nnn minutes" (RFC 959) — wait once more for the 220.
  if (reply.code === 120) {
    try {
      reply = await ctl.reply(ctx.greetingTimeout());
    } catch (err) {
      return greetingFailed(ctx, step, failureOf(err), elapsed(), reply);
    }
  }
  const late = elapsed() > nudgeAt;
  if (reply.code >= 200 && reply.code < 300) {
    ctx.obs.greeting = { ...ctx.obs.greeting, status: "ok", reply, durationMs: elapsed(), ...(late ? { late: true } : {}) };
    bannerQuirks(ctx, reply.text);
    step.end(late ? "warn" : "ok", `${describe(reply)}${late ? ` (after ${elapsed()} ms)` : ""}`, { reply });
    return true;
  }
  ctx.obs.greeting = { ...ctx.obs.greeting, status: "reply", reply, durationMs: elapsed() };
  step.end("fail", describe(reply), { reply });
  return false;
}

export function greetingFailed(ctx: ProbeContext, step: ReturnType<Recorder["begin"]>, e: NetError, ms: number, reply?: Reply): false {
  const status = e.kind === "reset" ? "reset" : e.kind === "oversize" ? "oversize" : e.kind === "timeout" ? "timeout" : "closed";
  ctx.obs.greeting = { status, durationMs: ms, ...(reply ? { reply } : {}) };
  step.end("fail", `${status === "closed" ? "connection closed" : status} before a greeting (${ms} ms)`, { error: e });
  return false;
}

/**
 * Silence after connect. Two questions in parallel: is it an implicit-TLS port (a TLS
 * ClientHello on a second connection gets an answer)? Is it an HTTP server or anything
 * else that speaks only when spoken to (a line of text on this connection gets an answer)?
 */
export async function silentGreeting(ctx: ProbeContext, ctl: ControlChannel, waitMs: number, elapsed: () => number) {
  ctx.obs.greeting = { status: "timeout", durationMs: 0 };
  const tlsProbe = ctx.canOpenConnection() ? implicitTlsProbe(ctx, waitMs) : Promise.resolve(undefined);
  // "FEAT" is harmless to a slow FTP server (it is answered after the 220) and makes an
  // HTTP server answer "400 Bad Request".
  let nudged = true;
  try {
    ctl.send("FEAT");
  } catch {
    nudged = false;
  }
  let first;
  let error: NetError | undefined;
  try {
    first = await ctl.next(waitMs);
  } catch (err) {
    error = failureOf(err);
  }
  const probeResult = await tlsProbe;
  if (probeResult) ctx.obs.greeting.tlsProbe = probeResult;
  if (first?.type === "reply" && first.reply.code < 400) {
    // A slow but working FTP server: the FEAT reply follows the greeting.
    if (nudged) ctx.pendingFeat = true;
    return first;
  }
  if (first?.type === "garbage") {
    ctx.obs.greeting.nudge = { sent: "FEAT", answer: first.text, kind: /^HTTP\//i.test(first.text) ? "http" : "other" };
    if (/^HTTP\//i.test(first.text)) {
      ctx.obs.greeting.status = "http";
      ctx.obs.greeting.raw = first.text;
    } else return first;
  } else if (first?.type === "reply" && first.reply.code === 421) {
    // A late refusal (busy, access denied) is still the server's greeting.
    return first;
  } else if (first?.type === "reply") {
    // An error reply to our FEAT without any greeting first: something that parses commands
    // but never greets (a hung daemon, a half-working proxy). Still a missing greeting.
    ctx.obs.greeting.nudge = { sent: "FEAT", answer: first.reply.text.split("\n")[0]!, kind: "ftp" };
  } else {
    ctx.obs.greeting.nudge = { sent: "FEAT", kind: "none", ...(error && error.kind !== "timeout" ? { answer: `${error.kind}` } : {}) };
    if (error && error.kind !== "timeout") ctx.obs.greeting.status = error.kind === "reset" ? "reset" : "closed";
  }
  ctx.obs.greeting.durationMs = elapsed();
  return undefined;
}

export async function implicitTlsProbe(
  ctx: ProbeContext,
  waitMs: number,
): Promise<NonNullable<NonNullable<Observations["greeting"]>["tlsProbe"]>> {
  ctx.obs.controlConnections++;
  const address = ctx.obs.peer!.address;
  try {
    const { socket } = await connectTcp(address, ctx.target.port, ctx.budget.cap(waitMs));
    ctx.track(socket);
    const { socket: t } = await tlsHandshake({ socket, ...ctx.tlsNames(), ...ctx.legacyOpts() }, ctx.budget.cap(waitMs));
    ctx.track(t);
    const ch = new ControlChannel(t as unknown as net.Socket, ctx.rec, "side");
    ctx.rec.line("*", "side", `TLS handshake on a second connection succeeded (${t.getProtocol()})`);
    let greeting: Reply | undefined;
    try {
      greeting = await ch.reply(ctx.budget.cap(waitMs));
    } catch {
      // a TLS service that is not FTP still proves the port speaks TLS
    }
    void ch.quit(200);
    return { status: "ok", protocol: t.getProtocol() ?? "", ...(greeting ? { greeting } : {}) };
  } catch (err) {
    return { status: "failed", detail: failureOf(err).message };
  }
}
