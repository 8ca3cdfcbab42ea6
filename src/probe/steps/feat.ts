import type { ProbeContext } from "../context.js";

// ---------------------------------------------------------------- FEAT
export function sendFeat(ctx: ProbeContext): boolean {
  if (ctx.obs.feat || ctx.pendingFeat) {
    // A FEAT sent while nudging a silent server is already on its way.
    return ctx.pendingFeat;
  }
  ctx.ctl!.send("FEAT");
  ctx.pendingFeat = true;
  return true;
}

export async function readFeat(ctx: ProbeContext): Promise<void> {
  if (!ctx.pendingFeat) return;
  ctx.pendingFeat = false;
  const reply = await ctx.ctl!.reply(ctx.replyTimeout());
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
