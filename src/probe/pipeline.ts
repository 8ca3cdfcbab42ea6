import { failureOf, type ProbeContext } from "./context.js";
import { PipeliningFailure } from "./net.js";
import type { StepHandle } from "./record.js";
import type { Observations, Reply } from "./types.js";

type Fallback = NonNullable<NonNullable<Observations["pipelining"]>["fallback"]>;

/**
 * Send `commands` and read their replies in order, after `owed` replies already on their way (a
 * FEAT sent while nudging a silent server). Pipelined — one write, one round trip — until this
 * server mishandles it; from then on lock-step, one command per round trip, for the rest of the check.
 *
 * What servers get wrong, and what happens then:
 * - ftp-srv answers pipelined commands concurrently and writes USER's `331` (or AUTH TLS's `234`)
 *   into its multi-line `211-` FEAT reply. ControlChannel takes such a reply out and hands it over
 *   in command order, so this connection goes on, in lock-step.
 * - Twisted stops reading commands after a PASV until its data connection is used (`ftp_PASV`
 *   returns the DTP deferred); ProFTPD 1.3.8 with `TLSRequired on` now and then leaves a USER
 *   pipelined behind FEAT unanswered. A burst answered in part and then silent: the connection is
 *   out of step (a late reply would be read as the next one's), so PipeliningFailure is thrown and
 *   the check starts again on a fresh connection, in lock-step (ctx.retryFresh).
 */
export async function exchange(ctx: ProbeContext, during: string, commands: string[], timeout: () => number, owed = 0): Promise<Reply[]> {
  const ctl = ctx.ctl!;
  const replies: Reply[] = [];
  if (ctx.obs.pipelining?.mode === "lockstep" || owed + commands.length < 2) {
    for (let i = 0; i < owed; i++) replies.push(await ctl.reply(timeout()));
    for (const c of commands) replies.push(await ctl.command(c, timeout()));
    return replies;
  }
  ctx.obs.pipelining ??= { mode: "pipelined" };
  const interleavedBefore = ctl.interleaved;
  for (const c of commands) ctl.send(c);
  const sent = [...Array(owed).fill("(earlier command)"), ...commands];
  try {
    while (replies.length < sent.length) replies.push(await ctl.reply(timeout()));
  } catch (err) {
    const e = failureOf(err);
    if (e.kind !== "timeout" || replies.length === 0) throw err;
    const missing = name(sent[replies.length]!);
    const detail = `${sent.length} pipelined commands (${sent.map(name).join(", ")}): no reply to ${missing} after ${replies.length} replies`;
    fallBack(ctx, { during, reason: "missing-reply", detail });
    ctx.retryFresh = true;
    throw new PipeliningFailure(`${detail}; retrying in lock-step on a fresh connection`, missing);
  }
  if (ctl.interleaved > interleavedBefore) {
    const detail = `${sent.length} pipelined commands (${sent.map(name).join(", ")}): a reply came inside another multi-line reply`;
    fallBack(ctx, { during, reason: "interleaved", detail });
  }
  return replies;
}

/** The command word only: arguments (user names) stay out of the observations' summary. */
function name(command: string): string {
  return command.startsWith("(") ? command : command.split(" ")[0]!;
}

/**
 * A server whose banner names software that mishandles pipelining in a way only a reply timeout
 * would show (Twisted): lock-step from the start, no detour.
 */
export function lockstepForBanner(ctx: ProbeContext, software: string): void {
  fallBack(ctx, {
    during: "greeting",
    reason: "banner",
    detail: `${software} reads no command after PASV until its data connection arrives`,
  });
}

function fallBack(ctx: ProbeContext, fallback: Fallback): void {
  ctx.obs.pipelining = { mode: "lockstep", fallback };
  ctx.rec.line("*", "ctl", `pipelining mishandled by the server (${fallback.reason}): lock-step from now on`);
}

/** End a step whose burst went unanswered: a warning that says a lock-step retry follows, not a failure. */
export function endForRetry(step: StepHandle, err: PipeliningFailure): false {
  step.end("warn", err.message);
  return false;
}
