import { oops } from "../wording.js";
import { err, Outcome, q, type RuleContext } from "./ruleKit.js";

/**
 * Session-level symptoms: the control connection lost, a malformed reply, a server that stopped
 * answering. They come after every layer's definite faults: a symptom never buries a cause seen earlier.
 */
export function sessionRule({ obs, where, rtt }: RuleContext): Outcome {
  const out = new Outcome();
  const lost = obs.controlLost;
  if (lost) {
    const words = oops(lost.lastReply);
    const during = `during ${lost.during}`;
    if (words)
      out.fault("SERVER_CONFIG_ERROR", { where, words, stage: "session", during: lost.during }, [
        `${during}: ${q(lost.lastReply)}`,
        `then: ${err(lost.error)}`,
      ]);
    else if (lost.error.kind === "oversize")
      out.fault("PROTOCOL_VIOLATION", { kind: "oversized-reply", during: lost.during }, [err(lost.error)]);
    else
      out.fault("CONNECTION_RESET", { kind: "control", closed: lost.error.kind !== "reset", during: lost.during }, [
        `${during}: ${err(lost.error)}`,
      ]);
  }
  const pv = obs.protocolViolation;
  if (pv) out.fault("PROTOCOL_VIOLATION", { kind: "malformed-reply", during: pv.during }, [pv.detail]);
  const rt = obs.replyTimeout;
  if (rt)
    out.fault("REPLY_TIMEOUT", { during: rt.during }, [
      `no reply during ${rt.during}`,
      ...(rt.unfinished
        ? [
            `${rt.unfinished.bytes} byte${rt.unfinished.bytes === 1 ? "" : "s"} of a reply arrived without completing it ("${rt.unfinished.text}"): ` +
              "the server trickles (slowloris) or stalled mid-reply",
          ]
        : []),
      ...(rtt ? [rtt] : []),
    ]);
  return out;
}
