import type { CheckReport } from "../check/run.js";
import { formatHostPort } from "../target/parse.js";
import type { DigestEntry } from "./outputSchema.js";
import { MASK, usersIn, type Redactor } from "./redact.js";

/**
 * What the model sees of a report: a whitelist, never the report itself. Left out on purpose:
 * the transcript and steps (raw protocol text, USER lines), target.input (may hold user@),
 * the banner, peer and certificate details, zone and profile names.
 */
export interface SummaryInput {
  target: string;
  verdict: { code: string; layer: string; title: string; explanation: string; evidence: string[]; remediation: string[] };
  secondary: { code: string; title: string }[];
  findings: { code: string; severity: string; message: string }[];
  server: { software: string; version?: string };
  durationMs: number;
}

export function summaryInput(report: CheckReport, redact: Redactor): SummaryInput {
  const v = report.verdict;
  // Names the probe logged in with appear in titles ("Login failed for alice"): learn them from
  // the USER lines first, so the free text below is scrubbed of them too.
  redact.addNames(usersIn([...report.transcript.filter((l) => l.dir === ">").map((l) => l.text), ...v.evidence]));
  const r = (s: string) => redact(s);
  return {
    target: formatHostPort(report.target.host, report.target.port),
    verdict: {
      code: v.code,
      layer: v.layer,
      title: r(v.title),
      explanation: r(v.explanation),
      evidence: v.evidence.map(r),
      remediation: v.remediation.map(r),
    },
    secondary: report.secondary.map((s) => ({ code: s.code, title: r(s.title) })),
    findings: report.findings.map((f) => ({ code: f.code, severity: f.severity, message: r(f.message) })),
    server: { software: report.server.software, ...(report.server.version ? { version: r(report.server.version) } : {}) },
    durationMs: report.durationMs,
  };
}

/** A digest target as the model sees it: no user@ and nothing the redactor hides. */
export function digestInput(entries: DigestEntry[], redact: Redactor): DigestEntry[] {
  return entries.map((e) => ({
    target: redact(e.target.replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/@\s]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ""}${MASK}@`)),
    zone: e.zone,
    code: e.code,
    title: redact(e.title),
    ...(e.changedFrom ? { changedFrom: e.changedFrom } : {}),
  }));
}
