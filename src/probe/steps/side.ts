import type net from "node:net";
import { LIMITS } from "../../config/defaults.js";
import { failureOf, type ProbeContext } from "../context.js";
import { connectTcp } from "../net.js";

export async function sideProbes(ctx: ProbeContext, address: string): Promise<void> {
  const ports = [990, 21, 22].filter((p) => p !== ctx.target.port);
  if (ctx.budget.remaining() < 600) return;
  const step = ctx.rec.begin("side");
  const timeout = ctx.budget.cap(LIMITS.sideProbeMs);
  await Promise.all(
    ports.map(async (port) => {
      try {
        const { socket } = await connectTcp(address, port, timeout);
        ctx.track(socket);
        const banner = await firstBytes(socket, Math.min(timeout, 800));
        socket.destroy();
        ctx.obs.side.push({ port, status: "open", ...(banner ? { banner } : {}) });
      } catch (err) {
        const e = failureOf(err);
        ctx.obs.side.push({ port, status: e.kind === "timeout" ? "timeout" : "closed" });
      }
    }),
  );
  const open = ctx.obs.side.filter((s) => s.status === "open");
  step.end(
    "ok",
    open.length
      ? `open: ${open.map((s) => `${s.port}${s.banner ? ` (${s.banner.slice(0, 40)})` : ""}`).join(", ")}`
      : `ports ${ports.join(", ")} closed too`,
  );
}

function firstBytes(socket: net.Socket, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    socket.once("data", (c: Buffer) => {
      clearTimeout(timer);
      resolve(
        c
          .subarray(0, 120)
          .toString("utf8")
          .split(/\r?\n/)[0]!
          .replace(/[^\x20-\x7e]/g, "?"),
      );
    });
    socket.once("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}
