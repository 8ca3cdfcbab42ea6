import {
  CHROOT_WRITABLE,
  HOME_AT_PASS,
  HOME_FALLBACK,
  HOME_UNENTERABLE,
  oops,
  SERVER_FULL,
  says,
  TLS_REQUIRED_FOR_LOGIN,
} from "../wording.js";
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
  // Anonymous access goes unnoticed when the check logs in with credentials: a side connection tried it.
  const anon = obs.anonymousSide;
  if (anon?.status === "accepted" && !login.anonymous)
    out.finding("ANON_ENABLED", anon.canWrite ? "high" : "medium", { side: { user, canWrite: anon.canWrite === true } });
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
    if (words && CHROOT_WRITABLE.test(words)) return out.fault("CHROOT_WRITABLE_ROOT", {}, ev);
    if (words && HOME_UNENTERABLE.test(words)) return out.fault("HOME_DIR_MISSING", { user, words }, ev);
    if (words) return out.fault("SERVER_CONFIG_ERROR", { where, words, stage: "login" }, ev);
    if (says(SERVER_FULL, last)) return out.fault("SERVER_BUSY", { where, when: "login" }, ev);
    if (!login.encrypted && says(TLS_REQUIRED_FOR_LOGIN, last)) return out.fault("FTPS_REQUIRED", { where, when: "login" }, ev);
    if (p && p.code !== 530 && HOME_AT_PASS.test(p.text)) return out.fault("HOME_DIR_MISSING", { user }, ev);
    if (login.defaultAnonymous) {
      out.scope.push("anonymous login refused: pass --user and --password-env to test login and the data channel");
      return out;
    }
    if (!p && u && u.code >= 500) return out.fault("LOGIN_POLICY_DENIED", { where, user }, ev);
    return out.fault("AUTH_FAILED", { user, kind: "rejected" }, ev);
  }
  if (login.status === "blocked-cleartext") {
    const t = obs.tls;
    const why = t?.status === "refused" ? "tls-refused" : t && t.status !== "ok" && t.status !== "not-run" ? "tls-failed" : "plain-mode";
    return out.fault("CLEARTEXT_PASSWORD_BLOCKED", { where, user, why }, [
      `USER ${user} → ${q(login.userReply)}`,
      "PASS not sent: the session is not encrypted and the profile does not say `tls: off`",
      ...(t?.authReply ? [`AUTH TLS → ${q(t.authReply)}`] : []),
    ]);
  }
  if (login.status === "error" && login.missingPassword)
    return out.fault("AUTH_FAILED", { user, kind: "no-password" }, [`USER ${user} → ${q(login.userReply)}`]);
  if (login.status === "ok") {
    // inetutils/netkit ftpd: "230- No directory! Logging in with home=/": in, but in the wrong place.
    const fallback = login.passReply ?? login.userReply;
    if (says(HOME_FALLBACK, fallback))
      out.fault("HOME_DIR_MISSING", { user, words: fallback!.text.split("\n")[0]!.replace(/^230-?\s*/, "") }, [
        `USER ${user} → ${q(login.userReply)}`,
        ...(login.passReply ? [`PASS **** → ${q(login.passReply)}`] : []),
        ...(obs.pwd ? [`PWD → ${q(obs.pwd)}`] : []),
      ]);
    if (login.anonymous) out.finding("ANON_ENABLED", login.defaultAnonymous ? "medium" : "info", {});
    else if (!login.encrypted) out.finding("CLEARTEXT_AUTH_ALLOWED", "high", {});
  }
  return out;
}
