import { parsePasv } from "../address.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { netError, PipeliningFailure } from "../net.js";
import { endForRetry, exchange } from "../pipeline.js";
import type { DataObservation } from "../types.js";
import { analysePasv } from "./passive.js";

// ---------------------------------------------------------------- session
export async function sessionInfo(ctx: ProbeContext): Promise<boolean> {
  const step = ctx.rec.begin("session");
  const prot = ctx.obs.tls?.status === "ok";
  const data: DataObservation = (ctx.obs.data = { protected: false, passive: [], status: "not-run" });
  // One round trip for all of these where pipelining works. PASV rides along even though EPSV
  // is what we use: its advertised address is what PASV clients (FileZilla on IPv4, many
  // libraries) will follow, and EPSV hides it (RFC 2428). In lock-step it waits until after the
  // listing (data.ts): Twisted reads no command after a PASV whose data connection is unused.
  const lockstep = ctx.obs.pipelining?.mode === "lockstep";
  const cmds = [...(prot ? ["PBSZ 0", "PROT P"] : []), "SYST", "PWD", "TYPE I", ...(lockstep ? [] : ["PASV"]), "EPSV"];
  try {
    const replies = await exchange(ctx, "session setup", cmds, () => ctx.replyTimeout());
    let i = 0;
    if (prot) {
      data.pbszReply = replies[i++]!;
      data.protReply = replies[i++]!;
      data.protected = data.protReply.code >= 200 && data.protReply.code < 300;
    }
    ctx.obs.syst = replies[i++]!;
    ctx.obs.pwd = replies[i++]!;
    i++; // TYPE I
    const pasv = lockstep ? undefined : replies[i++]!;
    ctx.pipelinedEpsv = replies[i++]!;
    if (pasv?.code === 227) {
      const parsed = parsePasv(pasv.text);
      if (parsed) analysePasv(ctx, parsed.host, pasv);
      // Even when EPSV works: every PASV client (FileZilla on IPv4, many libraries) fails on it.
      else ctx.obs.protocolViolation ??= { during: "PASV", detail: `unparseable PASV reply: ${describe(pasv)}` };
    }
    const oops = replies.find((r) => /^500 OOPS/.test(r.text));
    // vsftpd ends the session after an OOPS: that, not the missing data channel, is the finding.
    if (oops)
      ctx.obs.controlLost ??= {
        during: "session setup",
        error: netError("closed", "OOPS", "the server ended the session with 500 OOPS"),
        lastReply: oops,
      };
    step.end(
      oops ? "fail" : "ok",
      `SYST ${describe(ctx.obs.syst)}; PWD ${describe(ctx.obs.pwd)}${prot ? `; PROT P ${data.protReply!.code}` : ""}`,
    );
    return !oops;
  } catch (err) {
    ctx.lost("session setup", err);
    if (err instanceof PipeliningFailure) return endForRetry(step, err);
    step.end("fail", `session setup: ${failureOf(err).message}`, { error: failureOf(err) });
    return false;
  }
}
