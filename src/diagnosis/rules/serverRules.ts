import { VULNERABLE_VERSIONS } from "../software.js";
import { Outcome, type RuleContext } from "./ruleKit.js";

/** The greeting announces a version with a known backdoor or remote hole (matched, never exploited). */
export function versionRule({ server }: RuleContext): Outcome {
  const out = new Outcome();
  const v = server.version;
  const vuln = v ? VULNERABLE_VERSIONS.find((x) => x.software === server.software && x.version.test(v)) : undefined;
  if (vuln && v) out.finding("VULNERABLE_VERSION", "high", { why: vuln.why, software: server.software, version: v });
  return out;
}
