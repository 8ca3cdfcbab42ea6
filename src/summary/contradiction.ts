import { ROOT_CAUSE_CODES, type RootCauseCode, type Severity } from "../diagnosis/codes.js";
import type { AudienceSeverity, DigestOverview, SummaryOutput } from "./outputSchema.js";

/**
 * The fault tree decides; the model only explains. These pure checks reject a model answer that
 * disagrees with the verdict. They err on the side of rejecting: a dropped summary costs a
 * manager three lines, a wrong one sends an engineer after the wrong fault.
 */
export type Check = { ok: true } | { ok: false; reason: string };

const ok: Check = { ok: true };
const no = (reason: string): Check => ({ ok: false, reason });

/** Root-cause codes written as codes (TCP_REFUSED, tcp_refused). HEALTHY is prose-checked instead. */
export function codesMentioned(text: string): RootCauseCode[] {
  return ROOT_CAUSE_CODES.filter((c) => c !== "HEALTHY" && new RegExp(`(?<![A-Za-z0-9_])${c}(?![A-Za-z0-9_])`, "i").test(text));
}

/** "The server is healthy", "no issues found", "all good": a claim that nothing is wrong. */
const HEALTHY_CLAIMS: RegExp[] = [
  new RegExp(
    String.raw`\b((server|service|host|site|system|endpoint|target)s?|everything|it|all)` +
      "('s| is| are| looks?| appears?| seems?| remains?)( to be)?( (all|fully|perfectly|completely))? " +
      String.raw`(healthy|fine|ok|okay|operational|up and running|working (fine|normally|correctly|properly|as expected))\b`,
    "i",
  ),
  /\bno (issues?|problems?|faults?|errors?)( (were|was|have been|has been))? (found|detected|seen)\b/i,
  /\bno (action|changes?|fix) (is |are )?(needed|required|necessary)\b/i,
  /\b(all|everything) (good|green|clear|healthy|ok|okay|fine)\b/i,
  /\bnothing (is )?wrong\b/i,
  /\b(operating|running|working) (normally|as expected)\b/i,
  /\b(HEALTHY)\b/,
];

/** "The server is down", "users cannot connect": a claim of an outage, in the present tense. */
const OUTAGE_CLAIMS: RegExp[] = [
  new RegExp(
    String.raw`\b(is|are|remains?|still|currently|went)( (completely|fully|currently|still))? ` +
      String.raw`(down|offline|unreachable|unavailable|not reachable|not responding|not working|broken|failing)\b`,
    "i",
  ),
  /\b(ongoing|current|active|major|total|complete) outage\b/i,
  /\boutage (is )?(ongoing|in progress)\b/i,
  /\b(cannot|can't|can ?not|unable to|could not|couldn't) (connect|log ?in|reach|access)\b/i,
];

const firstMatch = (text: string, res: RegExp[]) => res.map((re) => re.exec(text)).find((m) => m)?.[0];

const FINDING_TO_AUDIENCE: Record<Severity, AudienceSeverity> = { info: "low", low: "low", medium: "medium", high: "high" };
const RANK: Record<AudienceSeverity, number> = { none: 0, low: 1, medium: 2, high: 3, critical: 4 };

/** Check one check's summary against its verdict. */
export function checkSummary(out: SummaryOutput, verdict: { code: RootCauseCode }, findings: { severity: Severity }[] = []): Check {
  const all = `${out.text}\n${out.nextAction}`;
  const others = codesMentioned(all).filter((c) => c !== verdict.code);
  if (others.length) return no(`names another root cause: ${others.join(", ")} (verdict ${verdict.code})`);
  if (verdict.code === "HEALTHY") {
    const outage = firstMatch(all, OUTAGE_CLAIMS);
    if (outage) return no(`claims an outage for a healthy server: "${outage}"`);
    // A healthy server can still carry findings (cleartext logins: high); never "critical".
    const ceiling = findings.reduce<AudienceSeverity>(
      (m, f) => (RANK[FINDING_TO_AUDIENCE[f.severity]] > RANK[m] ? FINDING_TO_AUDIENCE[f.severity] : m),
      "low",
    );
    if (RANK[out.severity] > RANK[ceiling]) return no(`severity ${out.severity} for a healthy server (highest finding allows ${ceiling})`);
    return ok;
  }
  if (out.severity === "none") return no(`severity none for ${verdict.code}`);
  const healthy = firstMatch(all, HEALTHY_CLAIMS);
  if (healthy) return no(`claims the server is healthy under ${verdict.code}: "${healthy}"`);
  return ok;
}

/** Check the digest overview against the day's entries. */
export function checkDigestOverview(out: DigestOverview, entries: { code: string; changedFrom?: string }[]): Check {
  const known = new Set(entries.flatMap((e) => [e.code, ...(e.changedFrom ? [e.changedFrom] : [])]));
  const unknown = codesMentioned(out.text).filter((c) => !known.has(c));
  if (unknown.length) return no(`names a root cause not in the digest: ${unknown.join(", ")}`);
  const failing = entries.filter((e) => e.code !== "HEALTHY");
  if (failing.length === 0) {
    const outage = firstMatch(out.text, OUTAGE_CLAIMS);
    if (outage) return no(`claims an outage while every target is healthy: "${outage}"`);
  } else {
    // Prose only: the HEALTHY code itself is fine in a digest that lists recoveries.
    const healthy = firstMatch(out.text, HEALTHY_CLAIMS.slice(0, -1));
    if (healthy) return no(`claims all is well while ${failing.length} target(s) fail: "${healthy}"`);
  }
  return ok;
}
