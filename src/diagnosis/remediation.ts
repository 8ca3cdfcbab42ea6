import { CAUSES } from "./causes.js";
import type { RootCauseCode, ServerSoftware } from "./codes.js";
import { SOFTWARE_LABEL } from "./software.js";
import type { Verdict } from "./verdict.js";

/**
 * The fix for a code. Known server software: its own settings first, then the steps that apply
 * whatever the software. Unknown software: those general steps, and each daemon's own setting as
 * alternatives (`perServer`), never as further numbered steps.
 */
export function remediationFor(code: RootCauseCode, software: ServerSoftware): Pick<Verdict, "remediation" | "perServer"> {
  const fix = CAUSES[code].fix;
  if (!fix.server) return { remediation: [...fix.any] };
  if (software !== "unknown") return { remediation: [...(fix.server[software] ?? []), ...fix.any] };
  const perServer = Object.entries(fix.server).map(([name, steps]) => ({
    software: SOFTWARE_LABEL[name as keyof typeof SOFTWARE_LABEL],
    steps,
  }));
  return { remediation: [...fix.any], perServer };
}
