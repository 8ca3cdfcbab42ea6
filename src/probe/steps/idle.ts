import { describe, failureOf, type ProbeContext } from "../context.js";
import { NetFailureError, sleep } from "../net.js";
import type { Observations } from "../types.js";

export async function idleTest(ctx: ProbeContext, seconds: number): Promise<void> {
  if (!ctx.ctl) return;
  const step = ctx.rec.begin("idle");
  const idle: NonNullable<Observations["idle"]> = (ctx.obs.idle = { seconds, status: "not-run" });
  const ctl = ctx.ctl;
  try {
    // Idle: whatever the server says meanwhile (421 Timeout) is read at the end.
    await sleep(Math.min(seconds * 1000, Math.max(0, ctx.budget.remaining() - 1500)));
    const r = ctl.closed ? undefined : await ctl.command("NOOP", ctx.replyTimeout());
    if (!r) throw new NetFailureError(ctl.closed!);
    idle.reply = r;
    idle.status = r.code >= 200 && r.code < 300 ? "ok" : "dropped";
    step.end(idle.status === "ok" ? "ok" : "fail", `after ${seconds} s idle: ${describe(r)}`, { reply: r });
  } catch (err) {
    const e = failureOf(err);
    // A 421 sent during the idle period arrives before the error.
    idle.status = "dropped";
    idle.error = e;
    step.end("fail", `after ${seconds} s idle: ${e.kind}`, { error: e });
    ctx.ctl?.destroy();
    ctx.ctl = undefined;
  }
}
