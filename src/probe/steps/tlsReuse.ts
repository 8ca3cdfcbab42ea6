import { describe, failureOf, type ProbeContext } from "../context.js";
import type { Observations, Reply } from "../types.js";
import { passive } from "./passive.js";
import { transfer } from "./transfer.js";

type TlsReuse = NonNullable<Observations["tlsReuse"]>;

/** What servers say when a data connection does not resume the control session (FAULTS.md TLS_SESSION_REUSE_REQUIRED). */
const REUSE_DEMANDED = /session reuse required|not resumed|resum|reuse|Operation not permitted/i;

/**
 * After the main listing (which resumed the control session, as the engine always does): one
 * more LIST on a data connection with a fresh TLS session, as Python ftplib and many Java/.NET
 * clients connect. vsftpd `require_ssl_reuse=YES` answers "522 SSL connection failed: session
 * reuse required", ProFTPD (without NoSessionReuseRequired) "425 Unable to build data connection:
 * Operation not permitted", FileZilla Server "TLS session of data connection not resumed".
 */
export async function tlsReuseCheck(ctx: ProbeContext): Promise<void> {
  const data = ctx.obs.data;
  if (!data?.protected || data.dataTls?.status !== "ok" || !data.dataTls.reused || !ctx.ctl) return;
  if (ctx.budget.remaining() < 1500) {
    ctx.obs.tlsReuse = { status: "not-run", detail: "too little time left" };
    return;
  }
  const step = ctx.rec.begin("side");
  const reuse: TlsReuse = (ctx.obs.tlsReuse = { status: "not-run" });
  try {
    const socket = await passive(ctx);
    if (!socket) {
      reuse.detail = "no second data connection";
    } else {
      const r = await transfer(ctx, socket, "LIST", "read", undefined, { freshTls: true });
      judge(reuse, r.first, r.final, r.tls?.status === "ok" && !r.tls.reused);
    }
  } catch (err) {
    reuse.detail = `second data connection: ${failureOf(err).message}`;
    ctx.lost("TLS reuse check", err);
  }
  step.end(reuse.status === "required" ? "warn" : "ok", `data TLS without session resumption: ${reuse.detail ?? reuse.status}`);
}

function judge(reuse: TlsReuse, first: Reply | undefined, final: Reply | undefined, freshOk: boolean): void {
  const refusal = [first, final].find((r) => r && r.code >= 400);
  if (refusal) {
    const demanded = REUSE_DEMANDED.test(refusal.text);
    Object.assign(reuse, { status: demanded ? "required" : "not-run", reply: refusal, detail: describe(refusal) });
    return;
  }
  if (final && final.code >= 200 && final.code < 300 && freshOk) {
    Object.assign(reuse, { status: "not-required", reply: final, detail: "a fresh session works too" });
    return;
  }
  reuse.detail = `inconclusive: ${describe(final ?? first)}`;
}
