import { CAUSES } from "./causes.js";
import type { RootCauseCode, ServerSoftware } from "./codes.js";
import type { Verdict } from "./verdict.js";

/** Remediation steps for a code: the detected server's own settings first, then the general ones. */
export function remediationFor(code: RootCauseCode, software: ServerSoftware): Pick<Verdict, "remediation"> {
  const fix = CAUSES[code].fix;
  if (!fix.server) return { remediation: [...fix.any] };
  if (software !== "unknown" && fix.server[software]) return { remediation: [...fix.server[software]!, ...fix.any] };
  const per = Object.entries(fix.server).map(([name, steps]) => `${name}: ${steps.join(" ")}`);
  return { remediation: [...fix.any, ...per] };
}
