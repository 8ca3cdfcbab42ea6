import { randomBytes } from "node:crypto";
import type net from "node:net";
import { LIMITS } from "../../config/defaults.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { ControlChannel } from "../control.js";
import { connectTcp, tlsHandshake } from "../net.js";
import type { Observations } from "../types.js";
import { openForTls } from "./tlsSide.js";

type AnonymousSide = NonNullable<Observations["anonymousSide"]>;

/** Longest deliberate delay before a login reply we know of (login.ts), for the side login too. */
const LOGIN_DELAY_MS = 7_000;

/**
 * Off the critical path: the main login used credentials, so would anonymous login work too
 * (ANON_ENABLED), and may that session write? A side connection within the control-connection
 * cap, the same TLS mode as the main session; writing is tested with MKD + RMD of a unique
 * directory (no data connection), removed again.
 */
export function startAnonymousSide(ctx: ProbeContext): void {
  const login = ctx.obs.login;
  if (!login || login.anonymous || login.status === "not-run" || ctx.obs.anonymousSide) return;
  if (!ctx.canOpenConnection()) {
    ctx.obs.anonymousSide = { status: "not-run", detail: `not tried: ${LIMITS.maxControlConnections} control connections in use` };
    return;
  }
  ctx.obs.controlConnections++;
  const side: AnonymousSide = (ctx.obs.anonymousSide = { status: "not-run" });
  const step = ctx.rec.begin("side");
  const channel: AnonChannel = {};
  const done = tryAnonymous(ctx, side, channel)
    .catch((err) => {
      if (!channel.abandoned) Object.assign(side, { status: "error", detail: `anonymous login check: ${failureOf(err).message}` });
    })
    .finally(() => step.end(side.status === "error" ? "warn" : "ok", side.detail ?? `anonymous login ${side.status}`));
  ctx.lateTasks.push({
    done,
    // An accepted login answers PASS at once; one unanswered for longer is a refusal being delayed.
    answerDueAt: () => (channel.passSentAt === undefined ? undefined : channel.passSentAt + ctx.lateGraceMs()),
    abandon: () => {
      // Still unanswered when the main check is done: refused logins are delayed on purpose. An
      // accepted session finishes (its MKD'd directory must be removed again).
      if (side.status !== "not-run") return;
      channel.abandoned = true;
      if (side.status === "not-run") side.detail = "anonymous login not answered before the check ended (servers delay refused logins)";
      channel.ch?.destroy();
    },
  });
  ctx.sideTasks.push(done);
}

interface AnonChannel {
  ch?: ControlChannel;
  abandoned?: boolean;
  /** When PASS went out (ctx.rec.now()). */
  passSentAt?: number;
}

async function tryAnonymous(ctx: ProbeContext, side: AnonymousSide, channel: AnonChannel): Promise<void> {
  const ch = await openSide(ctx);
  channel.ch = ch;
  if (channel.abandoned) ch.destroy();
  try {
    const wait = () => Math.max(ctx.replyTimeout(), ctx.budget.cap(LOGIN_DELAY_MS));
    const u = await ch.command("USER anonymous", wait());
    if (u.code === 331) channel.passSentAt = ctx.rec.now();
    const r = u.code === 331 ? await ch.command("PASS ftp-doctor@example.invalid", wait(), "PASS ****") : u;
    if (channel.abandoned) return;
    side.reply = r;
    if (r.code < 200 || r.code >= 300) {
      Object.assign(side, { status: "refused", detail: `anonymous login refused: ${describe(r)}` });
      return;
    }
    side.status = "accepted";
    const dir = `.ftp-doctor-anon-${randomBytes(6).toString("hex")}`;
    const mkd = await ch.command(`MKD ${dir}`, ctx.replyTimeout());
    side.canWrite = mkd.code === 257;
    if (!side.canWrite) {
      side.detail = `anonymous login accepted; cannot write (MKD: ${describe(mkd)})`;
      return;
    }
    const rmd = await ch.command(`RMD ${dir}`, ctx.replyTimeout()).catch(() => undefined);
    const removed = !!rmd && rmd.code >= 200 && rmd.code < 300;
    side.detail =
      `anonymous login accepted and can write: MKD ${dir} ` +
      `${removed ? "worked (removed again)" : `worked, RMD refused (${describe(rmd)}): remove it by hand`}`;
  } finally {
    await ch.quit(200);
  }
}

/** Greeted (and, like the main session, under TLS) side control connection. */
async function openSide(ctx: ProbeContext): Promise<ControlChannel> {
  const mode = ctx.obs.tls?.status === "ok" ? ctx.obs.tls.mode : undefined;
  if (!mode) {
    const { socket } = await connectTcp(ctx.obs.peer!.address, ctx.target.port, ctx.budget.cap(LIMITS.connectTimeoutMs));
    const ch = new ControlChannel(ctx.track(socket), ctx.rec, "anon");
    await ch.reply(ctx.greetingTimeout());
    return ch;
  }
  const raw = await openForTls(ctx, mode, "anon");
  const { socket: t } = await tlsHandshake({ socket: raw, ...ctx.tlsNames() }, ctx.tlsTimeout());
  const ch = new ControlChannel(ctx.track(t) as unknown as net.Socket, ctx.rec, "anon");
  if (mode === "implicit") await ch.reply(ctx.greetingTimeout());
  return ch;
}
