import { adaptive, LIMITS } from "../../config/defaults.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { PipeliningFailure } from "../net.js";
import { endForRetry, exchange } from "../pipeline.js";
import type { LoginObservation } from "../types.js";
import { featPlan, recordFeat } from "./feat.js";

const ANON_PASSWORD = "ftp-doctor@example.invalid";
/**
 * Longest deliberate delay before a login reply we know of, plus margin: Pure-FTPd sleeps 3-6 s
 * before "530 Login authentication failed"; ProFTPD's mod_delay (DelayEngine, on by default)
 * held the USER reply "550 SSL/TLS required on the control channel" (TLSRequired on) about 5.4 s
 * in the first sessions after start — pipelined or not.
 */
const LOGIN_DELAY_MS = 7_000;

// ---------------------------------------------------------------- login
/** Who the check logs in as: --user (or the URL's user) with its password, else anonymous. */
export function credentials(ctx: ProbeContext): { user: string; anonymous: boolean; password: string | undefined } {
  const explicitUser = ctx.options.anonymous ? undefined : (ctx.options.user ?? ctx.target.user);
  return explicitUser
    ? { user: explicitUser, anonymous: false, password: ctx.secrets.password }
    : { user: "anonymous", anonymous: true, password: ANON_PASSWORD };
}

export async function login(ctx: ProbeContext): Promise<boolean> {
  const ctl = ctx.ctl!;
  const step = ctx.rec.begin("login");
  const { user, anonymous, password } = credentials(ctx);
  const encrypted = ctx.obs.tls?.status === "ok";
  const login = (ctx.obs.login = {
    user,
    anonymous,
    defaultAnonymous: anonymous && !ctx.options.anonymous,
    encrypted,
    status: "not-run" as LoginObservation["status"],
  });
  // Never send a real password in clear text after TLS was attempted and broke.
  if (!anonymous && !encrypted && ctx.obs.tls && ctx.obs.tls.status !== "refused") {
    step.end("skip", "not sending the password: TLS is not working on this session");
    return false;
  }
  // Servers delay login replies on purpose: wait for that within the budget instead of timing out.
  const timeout = () => Math.max(ctx.budget.cap(adaptive(LIMITS.loginTimeoutMinMs, ctx.rtt, 10)), ctx.budget.cap(LOGIN_DELAY_MS));
  try {
    // FEAT rides along with USER when it was not sent with AUTH TLS (plain sessions).
    const feat = featPlan(ctx);
    const replies = await exchange(ctx, "USER", [...feat.send, `USER ${user}`], timeout, feat.owed);
    if (replies.length > 1) recordFeat(ctx, replies[0]!);
    const u = replies[replies.length - 1]!;
    Object.assign(login, { userReply: u });
    if (u.code === 331 || u.code === 332) {
      if (password === undefined) {
        Object.assign(login, { status: "error", missingPassword: true });
        step.end("fail", `server asks for a password for ${user} and none was given`, { reply: u });
        return false;
      }
      if (!anonymous && !encrypted && ctx.policy.passwordRequiresTls) {
        login.status = "blocked-cleartext";
        step.end("fail", `password for ${user} withheld: the target policy sends passwords over TLS only, and this session is plain`, {
          reply: u,
        });
        return false;
      }
      const pw = await ctl.command(`PASS ${password}`, timeout(), "PASS ****");
      Object.assign(login, { passReply: pw });
      if (pw.code >= 200 && pw.code < 300) {
        login.status = "ok";
        step.end("ok", `${user}: ${describe(pw)}`, { reply: pw });
        return true;
      }
      login.status = "refused";
      step.end(login.defaultAnonymous && !/OOPS/.test(pw.text) ? "skip" : "fail", `${user}: ${describe(pw)}`, { reply: pw });
      return false;
    }
    if (u.code >= 200 && u.code < 300) {
      login.status = "ok";
      step.end("ok", `${user}: ${describe(u)} (no password needed)`, { reply: u });
      return true;
    }
    login.status = "refused";
    step.end(login.defaultAnonymous && u.code === 530 ? "skip" : "fail", `${user}: ${describe(u)}`, { reply: u });
    return false;
  } catch (err) {
    ctx.lost("login", err);
    if (err instanceof PipeliningFailure) return endForRetry(step, err);
    const e = failureOf(err);
    login.status = "error";
    Object.assign(login, { error: e });
    step.end("fail", `login: ${e.message}`, { error: e });
    return false;
  }
}
