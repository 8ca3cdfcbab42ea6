import { LIMITS } from "../../config/defaults.js";
import { oops, SERVER_FULL, says } from "../wording.js";
import { Outcome, q, type RuleContext } from "./ruleKit.js";

/** The greeting: silence, a close, another protocol, or a refusal instead of 220. */
export function greetingRule({ obs, where, rtt }: RuleContext): Outcome {
  const out = new Outcome();
  const g = obs.greeting;
  if (!g) return out;
  if (g.status === "ok") {
    if (g.late) out.finding("SLOW_GREETING", "medium", { ms: g.durationMs });
    return out;
  }
  out.stop = true;
  const ev = [`${rtt ?? "connected"}`, `greeting wait ${g.durationMs} ms`];
  // Silence to plain FTP (the port may even close on our nudge), but TLS works: implicit FTPS.
  // The TLS probe only runs after silence, so any later reply was provoked by our nudge.
  const status = g.tlsProbe?.status === "ok" && g.status !== "ssh" ? "timeout" : g.status;
  switch (status) {
    case "ssh":
      return out.fault("NOT_FTP_SSH", { where }, [`banner: "${g.raw}"`]);
    case "http":
      return out.fault("NOT_FTP_HTTP", { where, kind: "http" }, [`answer: "${g.raw ?? g.nudge?.answer}"`, ...ev]);
    case "garbage":
      return out.fault("NOT_FTP_HTTP", { where, kind: "garbage" }, [`first line: "${g.raw}"`]);
    case "oversize":
      return out.fault("PROTOCOL_VIOLATION", { where, kind: "oversized-greeting" }, [
        `cut after the limit of ${LIMITS.maxReplyBytes} bytes / ${LIMITS.maxLineBytes}-byte lines`,
      ]);
    case "timeout":
      if (g.tlsProbe?.status === "ok")
        return out.fault("IMPLICIT_TLS_PORT", { where }, [
          ...ev,
          `TLS handshake on a second connection: ${g.tlsProbe.protocol}`,
          ...(g.tlsProbe.greeting ? [`greeting inside TLS: ${q(g.tlsProbe.greeting)}`] : []),
        ]);
      return out.fault("BANNER_TIMEOUT", { where }, [
        ...ev,
        `TLS ClientHello on a second connection: ${g.tlsProbe?.status === "failed" ? `no handshake (${g.tlsProbe.detail})` : "not tried"}`,
        `text sent (FEAT): ${g.nudge?.answer ? `answered "${g.nudge.answer}"` : "no answer"}`,
        ...(g.unfinished
          ? [
              `${g.unfinished.bytes} byte${g.unfinished.bytes === 1 ? "" : "s"} arrived without completing a line ("${g.unfinished.text}"): ` +
                "the server trickles its greeting (slowloris) or stalled mid-line",
            ]
          : []),
      ]);
    case "closed":
    case "reset":
      return out.fault("CONNECTION_CLOSED", { where, kind: "silent" }, [...ev, `connection ${g.status} after ${g.durationMs} ms`]);
    case "reply": {
      const r = g.reply;
      const words = oops(r);
      if (says(SERVER_FULL, r)) return out.fault("SERVER_BUSY", { where, when: "greeting" }, [`greeting: ${q(r)}`]);
      if (words) return out.fault("SERVER_CONFIG_ERROR", { where, words, stage: "greeting" }, [`greeting: ${q(r)}`]);
      return out.fault("CONNECTION_CLOSED", { where, kind: "refusal" }, [`greeting: ${q(r)}`]);
    }
  }
  return out;
}
