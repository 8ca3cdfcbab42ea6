import { randomBytes } from "node:crypto";
import { LIMITS } from "../../config/defaults.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import type { Observations } from "../types.js";
import { passive } from "./passive.js";
import { transfer } from "./transfer.js";

// ---------------------------------------------------------------- opt-in: write, idle, active
export async function writeTest(ctx: ProbeContext): Promise<void> {
  const step = ctx.rec.begin("write");
  const fileName = `.ftp-doctor-${randomBytes(6).toString("hex")}.tmp`;
  const payload = randomBytes(LIMITS.writeTestBytes);
  const w: NonNullable<Observations["write"]> = (ctx.obs.write = { status: "not-run", fileName, bytes: payload.length });
  try {
    const up = await passive(ctx);
    if (!up) {
      w.status = "failed";
      step.end("fail", "no data connection for the upload");
      return;
    }
    const t0 = performance.now();
    const stor = await transfer(ctx, up, `STOR ${fileName}`, "write", payload);
    w.uploadMs = Math.round(performance.now() - t0);
    if (stor.first) w.storReply = stor.first;
    if (stor.final) w.storFinalReply = stor.final;
    if (stor.error) w.error = stor.error;
    const stored = !!stor.final && stor.final.code >= 200 && stor.final.code < 300;
    if (!stored) {
      w.status = "failed";
      step.end(
        "fail",
        `STOR: ${describe(stor.final ?? stor.first)}`,
        (stor.final ?? stor.first) ? { reply: (stor.final ?? stor.first)! } : {},
      );
      if (stor.first && stor.first.code < 400) await cleanupFile(ctx, fileName, w);
      return;
    }
    const down = await passive(ctx);
    if (down) {
      const t1 = performance.now();
      const retr = await transfer(ctx, down, `RETR ${fileName}`, "read");
      w.downloadMs = Math.round(performance.now() - t1);
      if (retr.final) w.retrFinalReply = retr.final;
      w.verified = !!retr.body && retr.body.equals(payload);
    }
    await cleanupFile(ctx, fileName, w);
    w.status = w.verified ? "ok" : "failed";
    const kbps = (payload.length / 1024 / Math.max(1, w.uploadMs)) * 1000;
    step.end(
      w.verified ? "ok" : "fail",
      `${payload.length} bytes up in ${w.uploadMs} ms (${kbps.toFixed(0)} KiB/s)` +
        `${w.verified ? ", read back identical" : ", read-back differs"}, ` +
        `${w.deleReply ? `DELE ${w.deleReply.code}` : "not deleted"}`,
    );
  } catch (err) {
    w.status = "failed";
    w.error = failureOf(err);
    ctx.lost("write test", err);
    step.end("fail", `write test: ${w.error.message}`, { error: w.error });
  }
}

export async function cleanupFile(ctx: ProbeContext, name: string, w: NonNullable<Observations["write"]>): Promise<void> {
  try {
    w.deleReply = await ctx.ctl!.command(`DELE ${name}`, ctx.replyTimeout());
  } catch {
    // reported as "not deleted"
  }
}
