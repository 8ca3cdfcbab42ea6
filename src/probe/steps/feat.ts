import type { ProbeContext } from "../context.js";
import type { Reply } from "../types.js";

/**
 * FEAT rides along with the next command (AUTH TLS or USER): `owed` is 1 when a FEAT sent while
 * nudging a silent server is still unanswered, `send` holds FEAT when it has not been asked yet.
 */
export function featPlan(ctx: ProbeContext): { owed: number; send: string[] } {
  if (ctx.obs.feat) return { owed: 0, send: [] };
  if (ctx.pendingFeat) return { owed: 1, send: [] };
  return { owed: 0, send: ["FEAT"] };
}

export function recordFeat(ctx: ProbeContext, reply: Reply): void {
  ctx.pendingFeat = false;
  const features =
    reply.code === 211
      ? reply.text
          .split("\n")
          .slice(1, -1)
          .map((l) => l.trim().toUpperCase())
          .filter(Boolean)
      : [];
  ctx.obs.feat = { reply, features };
}
