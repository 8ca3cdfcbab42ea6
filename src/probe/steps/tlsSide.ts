import type net from "node:net";
import { LIMITS } from "../../config/defaults.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { ControlChannel } from "../control.js";
import { connectTcp, netError, NetFailureError, tlsHandshake } from "../net.js";

/** After a failed modern handshake: would a legacy-allowing one work? Proves TLS_PROTOCOL_OUTDATED. */
export async function legacyRetry(ctx: ProbeContext, mode: "explicit" | "implicit"): Promise<void> {
  const obs = ctx.obs.tls!;
  if (!ctx.canOpenConnection() || ctx.budget.remaining() < 500) {
    obs.legacyRetry = { status: "not-run" };
    return;
  }
  const step = ctx.rec.begin("side");
  ctx.obs.controlConnections++;
  try {
    const socket = await openForTls(ctx, mode, "side");
    const { socket: t } = await tlsHandshake({ socket, ...ctx.tlsNames(), ...ctx.legacyOpts() }, ctx.tlsTimeout());
    ctx.track(t);
    obs.legacyRetry = { status: "ok", protocol: t.getProtocol() ?? "", cipher: t.getCipher()?.name ?? "" };
    step.end("ok", `legacy-allowing handshake works: ${obs.legacyRetry.protocol} ${obs.legacyRetry.cipher}`);
    const ch = new ControlChannel(t as unknown as net.Socket, ctx.rec, "side");
    if (mode === "implicit") await ch.reply(ctx.budget.cap(1000)).catch(() => undefined);
    await ch.quit(200);
  } catch (err) {
    const e = failureOf(err);
    obs.legacyRetry = { status: "failed", error: e };
    step.end("fail", `legacy-allowing handshake fails too: ${e.message}`, { error: e });
  }
}

/** A fresh connection up to the point where TLS starts (greeting + AUTH TLS for explicit). */
export async function openForTls(ctx: ProbeContext, mode: "explicit" | "implicit", conn: string): Promise<net.Socket> {
  const { socket } = await connectTcp(ctx.obs.peer!.address, ctx.target.port, ctx.budget.cap(LIMITS.connectTimeoutMs));
  ctx.track(socket);
  if (mode === "implicit") return socket;
  const ch = new ControlChannel(socket, ctx.rec, conn);
  const g = await ch.reply(ctx.greetingTimeout());
  if (g.code !== 220) throw new NetFailureError(netError("error", "NO_GREETING", `greeting ${describe(g)}`));
  const a = await ch.command("AUTH TLS", ctx.replyTimeout());
  if (a.code !== 234) throw new NetFailureError(netError("error", "AUTH_REFUSED", `AUTH TLS ${describe(a)}`));
  return ch.detach() as net.Socket;
}

/** TLS stalled after 234: does plain FTP work on another connection? (MTU/MSS black hole vs dead server) */
export async function plainAfterBrokenTls(ctx: ProbeContext): Promise<void> {
  const obs = ctx.obs.tls!;
  if (!ctx.canOpenConnection() || ctx.budget.remaining() < 500 || ctx.tlsMode === "implicit") return;
  const step = ctx.rec.begin("side");
  ctx.obs.controlConnections++;
  try {
    const { socket } = await connectTcp(ctx.obs.peer!.address, ctx.target.port, ctx.budget.cap(LIMITS.connectTimeoutMs));
    ctx.track(socket);
    const ch = new ControlChannel(socket, ctx.rec, "side");
    const g = await ch.reply(ctx.greetingTimeout());
    const f = await ch.command("FEAT", ctx.replyTimeout());
    obs.plainCheck = { status: g.code === 220 ? "ok" : "failed", detail: `plain session: ${describe(g)}; FEAT ${f.code}` };
    step.end("ok", obs.plainCheck.detail);
    await ch.quit(200);
  } catch (err) {
    const e = failureOf(err);
    obs.plainCheck = { status: "failed", detail: e.message };
    step.end("fail", `plain session fails too: ${e.message}`, { error: e });
  }
}

/** Off the critical path: does the server still accept TLS 1.0/1.1? Is anonymous login open? */
export function startSideChecks(ctx: ProbeContext): void {
  ctx.sideChecksStarted = true;
  const tlsObs = ctx.obs.tls;
  if (tlsObs?.status !== "ok") return;
  const modern = tlsObs.protocol === "TLSv1.2" || tlsObs.protocol === "TLSv1.3";
  if (modern && ctx.canOpenConnection()) {
    ctx.obs.controlConnections++;
    const mode = tlsObs.mode;
    ctx.sideTasks.push(
      (async () => {
        try {
          const socket = await openForTls(ctx, mode, "side");
          const { socket: t } = await tlsHandshake(
            { socket, ...ctx.tlsNames(), minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" },
            ctx.tlsTimeout(),
          );
          ctx.track(t);
          tlsObs.legacyAccepted = true;
          ctx.rec.line("*", "side", `server accepts ${t.getProtocol()}`);
          const ch = new ControlChannel(t as unknown as net.Socket, ctx.rec, "side");
          if (mode === "implicit") await ch.reply(ctx.budget.cap(1000)).catch(() => undefined);
          await ch.quit(200);
        } catch (err) {
          const e = failureOf(err);
          if (e.kind === "tls-error" || e.kind === "closed" || e.kind === "reset") tlsObs.legacyAccepted = false;
          ctx.rec.line("*", "side", `TLS 1.0/1.1 handshake: ${e.kind === "tls-error" ? "refused" : e.kind}`);
        }
      })(),
    );
  }
}
