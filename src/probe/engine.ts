import { LIMITS } from "../config/defaults.js";
import type { Target } from "../target/parse.js";
import { describe, failureOf, ProbeContext, type ProbeHooks, type ProbeSecrets } from "./context.js";
import { ControlChannel } from "./control.js";
import { connectTcp } from "./net.js";
import { activeTest } from "./steps/active.js";
import { startAnonymousSide } from "./steps/anonymous.js";
import { connectAll } from "./steps/connect.js";
import { dataChannel } from "./steps/data.js";
import { greeting } from "./steps/greeting.js";
import { idleTest } from "./steps/idle.js";
import { login } from "./steps/login.js";
import { changeDirectory } from "./steps/path.js";
import { resolve } from "./steps/resolve.js";
import { sessionInfo } from "./steps/session.js";
import { sideProbes } from "./steps/side.js";
import { secure } from "./steps/tls.js";
import { writeTest } from "./steps/write.js";
import type { CheckOptions, Observations, ProbePolicy } from "./types.js";

export type { ProbeHooks, ProbeSecrets } from "./context.js";

/**
 * Probe one FTP/FTPS target and return what was seen. Never throws for anything the
 * network or the server does; every wait is bounded by the check budget.
 */
export async function probe(
  target: Target,
  options: CheckOptions,
  secrets: ProbeSecrets = {},
  hooks: ProbeHooks = {},
  policy: ProbePolicy = {},
): Promise<Observations> {
  const ctx = new ProbeContext(target, options, secrets, hooks, policy);
  try {
    await steps(ctx);
  } catch (err) {
    // A bug or an unexpected library error must not lose the observations gathered so far.
    ctx.obs.controlLost ??= { during: "probe", error: failureOf(err) };
  } finally {
    await finish(ctx);
  }
  return ctx.obs;
}

/** The steps in order; each returns whether the next one can run. */
async function steps(ctx: ProbeContext): Promise<void> {
  const addresses = await resolve(ctx);
  if (addresses.length === 0 || !permitted(ctx, addresses)) return;
  const primary = await connectAll(ctx, addresses);
  if (!primary) {
    await sideProbes(ctx, addresses[0]!.address);
    return;
  }
  const ready = (await controlSession(ctx, primary)) || (ctx.retryFresh && (await retryInLockstep(ctx)));
  ctx.loggedIn.settle(ctx.obs.login?.status === "ok");
  startAnonymousSide(ctx);
  if (!ready || !(await changeDirectory(ctx))) return;
  const dataOk = (await dataChannel(ctx)) || (!!ctx.dataTlsReset && (await retryWithLateDataTls(ctx)));
  if (dataOk && ctx.options.write) await writeTest(ctx);
  if (ctx.options.active) await activeTest(ctx);
  if (ctx.options.idleSeconds) await idleTest(ctx, ctx.options.idleSeconds);
}

/**
 * The target policy sees every resolved address before anything connects. One refused address
 * refuses the whole check: probing only the others would still follow a name whose records an
 * attacker may control (DNS rebinding), and the operator learns which address and rule.
 */
function permitted(ctx: ProbeContext, addresses: { address: string }[]): boolean {
  const check = ctx.policy.address;
  if (!check) return true;
  for (const { address } of addresses) {
    const decision = check(address, ctx.target.host);
    if (decision.permitted) continue;
    ctx.obs.policyRefusal = { name: ctx.target.host, address, rule: decision.rule };
    ctx.rec
      .begin("connect")
      .end("fail", `${address} (from ${ctx.target.host}) is not a permitted target (${decision.rule}): nothing connected to`);
    return false;
  }
  return true;
}

/** Greeting to session setup on one control connection; whether the data steps can follow. */
async function controlSession(ctx: ProbeContext, ctl: ControlChannel): Promise<boolean> {
  if (!(await greeting(ctx, ctl)) || !(await secure(ctx)) || !(await login(ctx))) return false;
  ctx.loggedIn.settle(true);
  return sessionInfo(ctx);
}

/**
 * The server left a pipelined command unanswered (pipeline.ts): the same steps again on a fresh
 * connection, one command per round trip, within the connection cap and the budget. What the
 * first connection saw is replaced by what this one sees.
 */
async function retryInLockstep(ctx: ProbeContext): Promise<boolean> {
  ctx.retryFresh = false;
  // The out-of-step connection is being closed (ctx.lost): this one replaces it.
  ctx.replaceMain();
  const ctl = await freshConnection(ctx, "lock-step retry", () => {
    ctx.obs.pipelining!.retry = "not-run";
    // Nothing can tell our pipelining from a server that stopped answering: report what was seen.
    ctx.obs.replyTimeout ??= ctx.unprovenTimeout;
  });
  if (!ctl) return false;
  ctx.obs.pipelining!.retry = "run";
  return controlSession(ctx, ctl);
}

/**
 * The server reset the data TLS handshake we started with the transfer command and then went
 * silent (transfer.ts resetEarly; pyftpdlib): the session again on a fresh connection, this
 * time with the handshake after the server's 1xx, as Python's ftplib does. The stuck connection
 * is closed first, so the check never holds more connections than the cap allows.
 */
async function retryWithLateDataTls(ctx: ProbeContext): Promise<boolean> {
  const reset = ctx.dataTlsReset!;
  ctx.dataTlsReset = undefined;
  ctx.ctl?.destroy();
  ctx.ctl = undefined;
  ctx.replaceMain();
  ctx.obs.dataTlsRetry = { command: reset.command, error: reset.error, status: "not-run" };
  const ctl = await freshConnection(ctx, "again with the data TLS handshake after the 1xx");
  if (!ctl) return false;
  ctx.dataTlsAfterReply = true;
  ctx.obs.dataTlsRetry.status = "run";
  return (await controlSession(ctx, ctl)) && (await changeDirectory(ctx)) && (await dataChannel(ctx));
}

/** One more control connection for a retry, within the cap and the budget; `onRefused` when there is none. */
async function freshConnection(ctx: ProbeContext, what: string, onRefused = () => {}): Promise<ControlChannel | undefined> {
  const step = ctx.rec.begin("connect");
  if (!ctx.canOpenConnection() || ctx.budget.remaining() < LIMITS.lockstepRetryMinMs) {
    onRefused();
    const why = ctx.canOpenConnection() ? "too little time left" : `${LIMITS.maxControlConnections} control connections used`;
    step.end("skip", `no ${what}: ${why}`);
    return undefined;
  }
  ctx.obs.controlConnections++;
  const address = ctx.obs.peer!.address;
  try {
    const { socket, ms } = await connectTcp(address, ctx.target.port, ctx.budget.cap(LIMITS.connectTimeoutMs));
    ctx.track(socket);
    step.end("ok", `${address}:${ctx.target.port} in ${ms.toFixed(1)} ms (${what})`);
    ctx.pendingFeat = false;
    ctx.pipelinedEpsv = undefined;
    return new ControlChannel(socket, ctx.rec, "ctl");
  } catch (err) {
    onRefused();
    step.end("fail", `${what}: ${failureOf(err).message}`, { error: failureOf(err) });
    return undefined;
  }
}

async function quit(ctx: ProbeContext): Promise<void> {
  if (!ctx.ctl) return;
  const q = ctx.rec.begin("quit");
  const answer = await ctx.ctl.quit(Math.min(500, Math.max(100, ctx.rtt * 3)));
  q.end(answer ? "ok" : "skip", answer ? describe(answer) : "connection already closed");
}

/**
 * Late side checks get a short grace (two round trips), not the rest of the budget, and none
 * when the answer they wait for is already overdue (a refused login being delayed on purpose).
 */
async function settleLate(ctx: ProbeContext): Promise<void> {
  if (ctx.lateTasks.length === 0) return;
  const now = ctx.rec.now();
  for (const t of ctx.lateTasks) {
    const graceEnd = now + (t.graceMs ?? ctx.lateGraceMs());
    const until = Math.min(graceEnd, t.answerDueAt?.() ?? graceEnd, now + ctx.budget.remaining());
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((r) => (timer = setTimeout(() => r("expired"), Math.max(0, until - ctx.rec.now()))));
    if ((await Promise.race([t.done.then(() => "done" as const), expired])) === "expired") t.abandon();
    clearTimeout(timer);
  }
}

/** QUIT, wait for side checks within the budget, close every socket. */
async function finish(ctx: ProbeContext): Promise<void> {
  ctx.loggedIn.settle(false);
  ctx.dataConnected.settle(false);
  // The late side checks' grace runs while QUIT is answered, not after it.
  await Promise.all([quit(ctx), settleLate(ctx)]);
  // A cleared timer, not sleep(): a pending budget-long timer kept the process (CLI) alive after the verdict.
  let sideWait: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(ctx.sideTasks),
    new Promise<void>((r) => (sideWait = setTimeout(r, Math.max(0, ctx.budget.remaining())))),
  ]);
  clearTimeout(sideWait);
  ctx.destroyAll();
  ctx.obs.durationMs = ctx.rec.now();
  ctx.rec.finish();
}
