import { parseList } from "basic-ftp";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { openPassive, passive } from "./passive.js";
import { transfer } from "./transfer.js";

export async function dataChannel(ctx: ProbeContext): Promise<boolean> {
  const step = ctx.rec.begin("data");
  const data = ctx.obs.data!;
  try {
    const epsv = ctx.pipelinedEpsv;
    ctx.pipelinedEpsv = undefined;
    const socket = await passive(ctx, epsv);
    ctx.dataConnected.settle(!!socket);
    if (!socket) {
      data.status = "failed";
      const last = data.passive[data.passive.length - 1];
      step.end(
        "fail",
        `no data connection: ${data.passive.map((p) => `${p.command} ${p.reply?.code ?? "-"}${p.connect ? ` connect ${p.connect.status}` : ""}`).join(", ")}`,
        last?.reply ? { reply: last.reply } : {},
      );
      return false;
    }
    const result = await transfer(ctx, socket, "LIST", "read");
    data.listCommand = "LIST";
    if (result.first) data.listReply = result.first;
    if (result.final) data.listFinalReply = result.final;
    if (result.tls) data.dataTls = result.tls;
    if (result.bytes !== undefined) data.listBytes = result.bytes;
    if (result.body !== undefined) data.listEntries = countEntries(result.body);
    if (result.error) data.error = result.error;
    const ok = !!result.final && result.final.code >= 200 && result.final.code < 300 && !result.error;
    data.status = ok ? "ok" : "failed";
    // After a reset that left the control connection stuck, nothing more goes on it.
    if (!ctx.dataTlsReset) await verifyPasvAddress(ctx);
    step.end(
      ok ? "ok" : "fail",
      ok
        ? `LIST: ${data.listEntries ?? 0} entries, ${result.bytes} bytes` +
            `${data.dataTls?.status === "ok" ? `, TLS${data.dataTls.reused ? " (session reused)" : ""}` : ""}`
        : `LIST: ${describe(result.final ?? result.first)}${result.error ? ` (${result.error.message})` : ""}`,
      (result.final ?? result.first) ? { reply: (result.final ?? result.first)! } : {},
    );
    return ok;
  } catch (err) {
    data.status = "failed";
    ctx.lost("data channel", err);
    step.end("fail", `data channel: ${failureOf(err).message}`, { error: failureOf(err) });
    return false;
  }
}

/**
 * The data went over EPSV, but PASV advertised a different address that we may connect to:
 * does anything answer there? (PASV clients will go there.)
 */
export async function verifyPasvAddress(ctx: ProbeContext): Promise<void> {
  const pa = ctx.obs.data?.pasvAddress;
  const passiveSent = ctx.obs.data!.passive.some((p) => p.command === "PASV");
  if (!passiveSent && ctx.obs.pipelining?.mode === "lockstep" && ctx.ctl && ctx.budget.remaining() >= 1000) {
    // Lock-step sends PASV only now (session.ts), and uses its data connection: Twisted reads
    // no further command (not even QUIT) until a PASV's data connection arrives.
    const { socket } = await openPassive(ctx, "PASV");
    socket?.destroy();
    return;
  }
  if (!pa || pa.same || !pa.permitted || !ctx.ctl || ctx.budget.remaining() < 1000) return;
  if (ctx.obs.data!.passive.some((p) => p.command === "PASV" && p.connect)) return;
  const { socket } = await openPassive(ctx, "PASV");
  socket?.destroy();
}

function countEntries(body: Buffer): number {
  const text = body.toString("utf8");
  try {
    return parseList(text).length;
  } catch {
    return text.split(/\r?\n/).filter((l) => l.trim() && !/^total \d+/.test(l)).length;
  }
}
