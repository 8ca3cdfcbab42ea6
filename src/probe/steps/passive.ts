import type net from "node:net";
import { addressMatches, isPrivateOrUnroutable, normalizeIp, parseEpsv, parsePasv, sameSubnet } from "../address.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { connectTcp } from "../net.js";
import type { DataObservation, PassiveObservation, Reply } from "../types.js";

/** Compare a PASV address with the control peer before anything connects to it (FAULTS.md). */
export function analysePasv(ctx: ProbeContext, advertised: string, reply: Reply): NonNullable<DataObservation["pasvAddress"]> {
  const peer = normalizeIp(ctx.ctl?.remoteAddress || ctx.obs.peer!.address);
  const same = advertised === peer;
  const { permitted, rule } = same ? { permitted: true, rule: undefined } : dataHostDecision(ctx, advertised, peer);
  const pa = {
    advertised,
    controlPeer: peer,
    same,
    advertisedPrivate: isPrivateOrUnroutable(advertised),
    peerPrivate: isPrivateOrUnroutable(peer),
    permitted,
    ...(rule ? { rule } : {}),
  };
  ctx.obs.data!.pasvAddress = pa;
  if (!same)
    ctx.rec.line(
      "*",
      "data",
      `${describe(reply)}: advertises ${advertised}, control peer is ${peer}` +
        `${permitted ? " (a permitted target)" : " (not a permitted target: never connected to)"}`,
    );
  return pa;
}

/**
 * May a data connection go to `advertised`, which differs from the control peer? The target
 * policy's dataHost hook decides when there is one (the bot: only a permitted target); the CLI's
 * rule otherwise (same /24 or /64). --allow-data-host adds to either.
 */
function dataHostDecision(ctx: ProbeContext, advertised: string, peer: string): { permitted: boolean; rule?: string } {
  if (addressMatches(advertised, ctx.options.allowDataHosts)) return { permitted: true, rule: "allow-data-host" };
  if (ctx.policy.dataHost) return ctx.policy.dataHost(advertised);
  return { permitted: sameSubnet(advertised, peer) };
}

/** EPSV or PASV; never connect to an advertised address that is not a permitted target. */
export async function openPassive(
  ctx: ProbeContext,
  kind: "EPSV" | "PASV",
  prefetched?: Reply,
): Promise<{ socket?: net.Socket; obs: PassiveObservation }> {
  const ctl = ctx.ctl!;
  const data = ctx.obs.data!;
  const peer = normalizeIp(ctl.remoteAddress || ctx.obs.peer!.address);
  const obs: PassiveObservation = { command: kind };
  data.passive.push(obs);
  const reply = prefetched ?? (await ctl.command(kind, ctx.replyTimeout()));
  obs.reply = reply;
  if (kind === "EPSV") {
    if (reply.code !== 229) return { obs };
    const port = parseEpsv(reply.text);
    if (!port) {
      ctx.obs.protocolViolation ??= { during: "EPSV", detail: `unparseable EPSV reply: ${describe(reply)}` };
      return { obs };
    }
    Object.assign(obs, { port, advertisedHost: peer, connectedHost: peer });
  } else {
    if (reply.code !== 227) return { obs };
    const parsed = parsePasv(reply.text);
    if (!parsed) {
      ctx.obs.protocolViolation ??= { during: "PASV", detail: `unparseable PASV reply: ${describe(reply)}` };
      return { obs };
    }
    const pa = analysePasv(ctx, parsed.host, reply);
    // FTP bounce / SSRF: a third address is connected to only when it is a permitted target.
    Object.assign(obs, { port: parsed.port, advertisedHost: parsed.host, connectedHost: pa.permitted ? parsed.host : peer });
  }
  const started = performance.now();
  try {
    const { socket, ms } = await connectTcp(obs.connectedHost!, obs.port!, ctx.dataTimeout());
    ctx.track(socket);
    obs.connect = { status: "ok", durationMs: Math.round(ms) };
    ctx.rec.line("*", "data", `data connection to ${obs.connectedHost}:${obs.port} in ${ms.toFixed(1)} ms`);
    return { socket, obs };
  } catch (err) {
    const e = failureOf(err);
    const status = e.kind === "refused" || e.kind === "timeout" || e.kind === "unreachable" ? e.kind : "error";
    obs.connect = { status, durationMs: Math.round(performance.now() - started), error: e };
    ctx.rec.line("*", "data", `data connection to ${obs.connectedHost}:${obs.port} ${status}`);
    return { obs };
  }
}

export async function passive(ctx: ProbeContext, prefetchedEpsv?: Reply): Promise<net.Socket | undefined> {
  const epsv = await openPassive(ctx, "EPSV", prefetchedEpsv);
  if (epsv.socket) return epsv.socket;
  // EPSV refused, or its port unreachable: PASV tells EPSV_BROKEN from PASV_PORTS_BLOCKED.
  const pasv = await openPassive(ctx, "PASV");
  return pasv.socket;
}
