import { NO_SPACE, says } from "../wording.js";
import { err, Outcome, q, type RuleContext } from "./ruleKit.js";

/** The opt-in steps: the write test, active mode, the idle test. */
export function optionalRule({ obs }: RuleContext): Outcome {
  const out = new Outcome();
  const w = obs.write;
  if (w && w.status === "failed") {
    const r = w.storFinalReply && w.storFinalReply.code >= 400 ? w.storFinalReply : w.storReply;
    const ev = [`STOR ${w.fileName} → ${q(w.storReply)}${w.storFinalReply ? ` then ${q(w.storFinalReply)}` : ""}`];
    if (r && (r.code === 452 || r.code === 552 || says(NO_SPACE, r))) out.fault("STORAGE_FULL", { kind: "no-space" }, ev);
    else if (r && (r.code === 550 || r.code === 553 || r.code === 532 || r.code === 450))
      out.fault("PERMISSION_DENIED", { what: "upload" }, [...ev, ...(obs.pwd ? [`PWD → ${q(obs.pwd)}`] : [])]);
    else if (w.verified === false && w.storFinalReply && w.storFinalReply.code < 300)
      out.fault("STORAGE_FULL", { kind: "short-write" }, [...ev, `RETR → ${q(w.retrFinalReply)}`]);
    else if (w.error) out.fault("CONNECTION_RESET", { kind: "upload" }, [...ev, err(w.error)]);
  }
  const a = obs.active;
  if (a && a.status !== "ok" && a.status !== "not-run")
    out.fault("ACTIVE_MODE_BLOCKED", { refused: a.status === "refused" }, [
      `${a.command} → ${q(a.reply)}`,
      ...(a.listReply ? [`LIST → ${q(a.listReply)}`] : []),
      ...(a.error ? [err(a.error)] : []),
    ]);
  const idle = obs.idle;
  if (idle?.status === "dropped")
    out.fault("IDLE_TIMEOUT", { seconds: idle.seconds }, [
      idle.reply ? `after ${idle.seconds} s: ${q(idle.reply)}` : `after ${idle.seconds} s: ${err(idle.error)}`,
    ]);
  return out;
}
