import type net from "node:net";
import { LIMITS } from "../../config/defaults.js";
import { parseEpsv } from "../address.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { ControlChannel } from "../control.js";
import { connectTcp, tlsHandshake } from "../net.js";
import { recallReuse, rememberReuse, reuseKey } from "../reuseMemory.js";
import type { Observations, Reply } from "../types.js";
import { credentials } from "./login.js";
import { openForTls } from "./tlsSide.js";
import { transfer } from "./transfer.js";

type TlsReuse = NonNullable<Observations["tlsReuse"]>;

/** What servers say when a data connection does not resume the control session (FAULTS.md TLS_SESSION_REUSE_REQUIRED). */
const REUSE_DEMANDED = /session reuse required|not resumed|resum|reuse|Operation not permitted/i;

/**
 * The main session resumes its control TLS session on data connections, as the engine always
 * does; do clients that do not (Python ftplib, many Java/.NET libraries) fail? vsftpd
 * `require_ssl_reuse=YES` answers "522 SSL connection failed: session reuse required", ProFTPD
 * (without NoSessionReuseRequired) "425 Unable to build data connection: Operation not
 * permitted", FileZilla Server "TLS session of data connection not resumed".
 *
 * Asked on a session of its own, off the critical path: it connects as soon as the main control
 * TLS is up and logs in only once the main login has succeeded with the same credentials (never
 * a second failed login), after checking the server shows the same certificate. Then USER, PASS,
 * PBSZ and PROT in one round trip where the main session pipelines, and once the main listing has
 * its data connection, EPSV and one LIST over a data connection with a fresh TLS session. (Asked on the main session, after its listing, it added
 * about 5 round trips to every FTPS check: vsftpd ends the session after the refusal, so nothing
 * could follow it there.)
 */
export function startTlsReuseSide(ctx: ProbeContext): void {
  const tlsObs = ctx.obs.tls;
  const creds = credentials(ctx);
  if (tlsObs?.status !== "ok" || ctx.obs.tlsReuse || creds.password === undefined) return;
  const key = reuseKey(ctx.obs.peer!.address, ctx.target.port, creds.user, tlsObs.chain[0]?.fingerprint256 ?? "");
  const known = recallReuse(key);
  if (known) {
    ctx.obs.tlsReuse = { ...known.answer, askedAt: new Date(known.at).toISOString() };
    const minutes = Math.round((Date.now() - known.at) / 60_000);
    ctx.rec
      .begin("side")
      .end(
        known.answer.status === "required" ? "warn" : "ok",
        `data TLS without session resumption: ${known.answer.detail ?? known.answer.status} (asked ${minutes} min ago; asked again after an hour)`,
      );
    return;
  }
  if (!ctx.canOpenConnection()) {
    ctx.obs.tlsReuse = { status: "not-run", detail: "not tried: control connections in use" };
    return;
  }
  ctx.obs.controlConnections++;
  const reuse: TlsReuse = (ctx.obs.tlsReuse = { status: "not-run" });
  const step = ctx.rec.begin("side");
  const sockets = new Set<net.Socket>();
  let abandoned = false;
  const own = <T extends net.Socket>(s: T): T => {
    sockets.add(s);
    if (abandoned) s.destroy();
    return ctx.track(s);
  };
  const done = ask(ctx, reuse, own, { user: creds.user, password: creds.password })
    .catch((err) => {
      if (!abandoned) reuse.detail = `session-reuse check: ${failureOf(err).message}`;
    })
    .finally(() => {
      for (const s of sockets) s.destroy();
      if (!abandoned) rememberReuse(key, reuse);
      step.end(
        reuse.status === "required" ? "warn" : "ok",
        `data TLS without session resumption: ${reuse.detail ?? reuse.status}`,
        reuse.reply ? { reply: reuse.reply } : {},
      );
    });
  ctx.sideTasks.push(done);
  // The verdict does not wait for it long: a server delaying logins (ProFTPD mod_delay, vsftpd
  // delay_successful_login) would delay every check by that much again; and not at all once the
  // main listing failed, when no answer could matter.
  const listed = () => ctx.obs.data?.status === "ok";
  ctx.lateTasks.push({
    done,
    answerDueAt: () => (listed() ? undefined : ctx.rec.now()),
    abandon: () => {
      if (reuse.status !== "not-run" || abandoned) return;
      abandoned = true;
      reuse.detail = listed() ? "not answered before the check ended (a slow second login?)" : "not asked: the main listing did not work";
      for (const s of sockets) s.destroy();
    },
    graceMs: Math.max(LIMITS.reuseSideGraceMs, ctx.rtt * 4),
  });
}

async function ask(
  ctx: ProbeContext,
  reuse: TlsReuse,
  own: <T extends net.Socket>(s: T) => T,
  creds: { user: string; password: string },
): Promise<void> {
  const mode = ctx.obs.tls!.mode;
  const raw = own(await openForTls(ctx, mode, "reuse"));
  const { socket: t } = await tlsHandshake({ socket: raw, ...ctx.tlsNames(), secureContext: ctx.verifyContext() }, ctx.tlsTimeout());
  own(t);
  const ch = new ControlChannel(t as unknown as net.Socket, ctx.rec, "reuse");
  try {
    if (mode === "implicit") await ch.reply(ctx.greetingTimeout());
    // The credentials go only where the main session sent them: the same certificate.
    const expected = ctx.obs.tls!.chain[0]?.fingerprint256;
    if (!expected || t.getPeerCertificate().fingerprint256 !== expected) {
      reuse.detail = "not asked: the second connection showed another certificate";
      return;
    }
    if (!(await ctx.loggedIn.reached())) {
      reuse.detail = "not asked: the main login did not succeed";
      return;
    }
    const refused = await logIn(ctx, ch, creds);
    if (refused) {
      reuse.detail = `not asked: ${describe(refused)}`;
      return;
    }
    // Its passive port only once the main listing has its own: never one a small range lacks for the main session.
    if (!(await ctx.dataConnected.reached())) {
      reuse.detail = "not asked: the main listing had no data connection";
      return;
    }
    const epsv = await ch.command("EPSV", ctx.replyTimeout());
    if (epsv.code !== 229) {
      reuse.detail = `not asked: ${describe(epsv)}`;
      return;
    }
    const port = parseEpsv(epsv.text);
    if (!port) {
      reuse.detail = `not asked: unparseable EPSV reply ${describe(epsv)}`;
      return;
    }
    const { socket } = await connectTcp(ctx.obs.peer!.address, port, ctx.dataTimeout());
    const r = await transfer(ctx, own(socket), "LIST", "read", undefined, { freshTls: true, via: ch });
    judge(reuse, r.first, r.final, r.tls?.status === "ok" && !r.tls.reused);
  } finally {
    await ch.quit(200);
  }
}

/**
 * USER, PASS, PBSZ, PROT: one round trip where the main session pipelines (its login proved what
 * USER and PASS answer), one per command where it fell back to lock-step. The first refusal, if any.
 */
async function logIn(ctx: ProbeContext, ch: ControlChannel, creds: { user: string; password: string }): Promise<Reply | undefined> {
  const cmds: [string, string][] = [
    [`USER ${creds.user}`, `USER ${creds.user}`],
    [`PASS ${creds.password}`, "PASS ****"],
    ["PBSZ 0", "PBSZ 0"],
    ["PROT P", "PROT P"],
  ];
  // The main login shows whether PASS is asked for at all (a 230 to USER answers a PASS with 503).
  const userReply = ctx.obs.login?.userReply;
  if (userReply && userReply.code >= 200 && userReply.code < 300) cmds.splice(1, 1);
  const timeout = () => Math.max(ctx.replyTimeout(), ctx.budget.cap(7_000));
  if (ctx.obs.pipelining?.mode !== "lockstep") {
    for (const [c, shown] of cmds) ch.send(c, shown);
    const replies: Reply[] = [];
    for (let i = 0; i < cmds.length; i++) replies.push(await ch.reply(timeout()));
    return replies.find((r) => r.code >= 400);
  }
  for (const [c, shown] of cmds) {
    const r = await ch.command(c, timeout(), shown);
    if (r.code >= 400) return r;
  }
  return undefined;
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
