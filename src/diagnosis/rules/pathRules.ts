import { ACCESS_DENIED, NO_SUCH_DIRECTORY, says } from "../wording.js";
import { Outcome, q, type RuleContext } from "./ruleKit.js";

/**
 * The directory from the URL (`ftp://host/upload/`): missing or forbidden is its own verdict,
 * before anything listed or written there. The engine's status is read together with the
 * server's words (vsftpd says "550 Failed to change directory." for both).
 */
export function pathRule({ obs }: RuleContext): Outcome {
  const out = new Outcome();
  const p = obs.path;
  if (!p || p.status === "ok") return out;
  const ev = [`CWD ${p.requested} → ${q(p.reply)}`, ...(obs.pwd ? [`login directory: PWD → ${q(obs.pwd)}`] : [])];
  const denied = p.status === "denied" || (p.status !== "missing" && says(ACCESS_DENIED, p.reply));
  const missing = p.status === "missing" || (!denied && says(NO_SUCH_DIRECTORY, p.reply));
  if (missing) return out.fault("PATH_NOT_FOUND", { path: p.requested }, ev);
  if (denied) return out.fault("PATH_DENIED", { path: p.requested }, ev);
  // A refusal that says neither: the directory cannot be used; vsftpd's one wording covers both.
  if (p.reply && p.reply.code >= 500)
    return out.fault("PATH_NOT_FOUND", { path: p.requested }, [...ev, "the reply does not say whether it is missing or forbidden"]);
  return out;
}
