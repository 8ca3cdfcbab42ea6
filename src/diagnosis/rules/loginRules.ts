import { HOME_UNENTERABLE, oops, SERVER_FULL, says, TLS_REQUIRED_FOR_LOGIN } from "../wording.js";
import { Outcome, q, type RuleContext } from "./ruleKit.js";

/** USER/PASS: refused for a reason the server's words give, or accepted with something to report. */
export function loginRule({ obs, where, prior }: RuleContext): Outcome {
  const out = new Outcome();
  const login = obs.login;
  if (!login) {
    if (!prior.length && obs.tls && obs.tls.status !== "refused" && obs.tls.status !== "ok")
      out.scope.push("login not tested: TLS did not work");
    return out;
  }
  const user = login.user;
  if (login.status === "refused") {
    const u = login.userReply;
    const p = login.passReply;
    const last = p ?? u;
    const ev = [
      `USER ${user} → ${q(u)}`,
      ...(p ? [`PASS **** → ${q(p)}`] : []),
      `session ${login.encrypted ? "encrypted (TLS)" : "not encrypted"}`,
    ];
    const words = oops(last);
    if (words && /writable root inside chroot/i.test(words)) return out.fault("CHROOT_WRITABLE_ROOT", {}, ev);
    if (words && HOME_UNENTERABLE.test(words)) return out.fault("HOME_DIR_MISSING", { user, words }, ev);
    if (words) return out.fault("SERVER_CONFIG_ERROR", { where, words, stage: "login" }, ev);
    if (says(SERVER_FULL, last)) return out.fault("SERVER_BUSY", { where, when: "login" }, ev);
    if (!login.encrypted && says(TLS_REQUIRED_FOR_LOGIN, last)) return out.fault("FTPS_REQUIRED", { where, when: "login" }, ev);
    if (/home|directory/i.test(p?.text ?? "") && p && p.code !== 530) return out.fault("HOME_DIR_MISSING", { user }, ev);
    if (login.defaultAnonymous) {
      out.scope.push("anonymous login refused: pass --user and --password-env to test login and the data channel");
      return out;
    }
    if (!p && u && u.code >= 500) return out.fault("LOGIN_POLICY_DENIED", { where, user }, ev);
    return out.fault("AUTH_FAILED", { user, kind: "rejected" }, ev);
  }
  if (login.status === "error" && login.missingPassword)
    return out.fault("AUTH_FAILED", { user, kind: "no-password" }, [`USER ${user} → ${q(login.userReply)}`]);
  if (login.status === "ok") {
    if (login.anonymous) out.finding("ANON_ENABLED", login.defaultAnonymous ? "medium" : "info", {});
    else if (!login.encrypted) out.finding("CLEARTEXT_AUTH_ALLOWED", "high", {});
  }
  return out;
}
