import { formatHostPort } from "../../target/parse.js";
import { Outcome, type RuleContext } from "./ruleKit.js";

/** TCP: no address accepted the connection. */
export function tcpRule({ obs, where }: RuleContext): Outcome {
  const out = new Outcome();
  if (obs.connects.length === 0 || obs.connects.some((c) => c.status === "ok")) return out;
  const bad = obs.connects;
  const port = obs.target.port;
  const kinds = new Set(bad.map((c) => c.status));
  const ev = [
    ...bad.map((c) => `${formatHostPort(c.address, port)}: ${c.status} after ${c.durationMs} ms (${c.error?.code ?? "-"})`),
    ...obs.side.filter((s) => s.status === "open").map((s) => `port ${s.port} is open${s.banner ? `: "${s.banner}"` : ""}`),
  ];
  const sshHint = obs.side.some((s) => s.status === "open" && /^SSH-/.test(s.banner ?? ""));
  if (kinds.has("timeout") && !kinds.has("refused")) out.fault("TCP_TIMEOUT", { where, port, deadlineMs: bad[0]!.durationMs, sshHint }, ev);
  else if (kinds.has("unreachable")) out.fault("TCP_UNREACHABLE", { where }, ev);
  else out.fault("TCP_REFUSED", { where, port, sshHint }, ev);
  out.stop = true;
  return out;
}
