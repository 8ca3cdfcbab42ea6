import { LIMITS } from "../../config/defaults.js";
import { failureOf, type ProbeContext } from "../context.js";
import { ControlChannel } from "../control.js";
import { connectTcp } from "../net.js";

// ---------------------------------------------------------------- connect
export async function connectAll(ctx: ProbeContext, addresses: { address: string; family: 4 | 6 }[]): Promise<ControlChannel | undefined> {
  const step = ctx.rec.begin("connect");
  const timeout = ctx.budget.cap(LIMITS.connectTimeoutMs);
  const port = ctx.target.port;
  // Every address in parallel: DNS_PARTIAL is only visible when all of them are tried.
  const results = await Promise.all(
    addresses.map(async ({ address, family }) => {
      const started = performance.now();
      try {
        const { socket, ms } = await connectTcp(address, port, timeout);
        ctx.track(socket);
        return { address, family, socket, ms, error: undefined };
      } catch (err) {
        return { address, family, socket: undefined, ms: performance.now() - started, error: failureOf(err) };
      }
    }),
  );
  let primary: (typeof results)[number] | undefined;
  for (const r of results) {
    const status = r.socket
      ? "ok"
      : r.error!.kind === "refused" || r.error!.kind === "timeout" || r.error!.kind === "unreachable"
        ? r.error!.kind
        : "error";
    ctx.obs.connects.push({
      address: r.address,
      family: r.family,
      status,
      durationMs: Math.round(r.ms),
      ...(r.error ? { error: r.error } : {}),
    });
    ctx.rec.line("*", "ctl", `connect ${r.address}:${port} → ${status}${r.socket ? ` in ${r.ms.toFixed(1)} ms` : ` (${r.error!.code})`}`);
    if (r.socket && !primary) primary = r;
    else r.socket?.destroy();
  }
  if (!primary) {
    const e = results[0]!.error!;
    step.end("fail", `${addresses.length > 1 ? "no address" : addresses[0]!.address} accepted a connection on port ${port}: ${e.kind}`, {
      error: e,
    });
    return undefined;
  }
  ctx.rtt = primary.ms;
  ctx.obs.peer = { address: primary.address, family: primary.family, rttMs: Math.round(primary.ms * 100) / 100 };
  ctx.obs.controlConnections++;
  const failed = results.filter((r) => !r.socket);
  step.end(
    failed.length ? "warn" : "ok",
    `${primary.address}:${port} in ${primary.ms.toFixed(1)} ms${failed.length ? `; ${failed.length} of ${results.length} addresses failed` : ""}`,
  );
  return new ControlChannel(primary.socket!, ctx.rec, "ctl");
}

/** When the main port fails: is something else listening where people usually mean? */
