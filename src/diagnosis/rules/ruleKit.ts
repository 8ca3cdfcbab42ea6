import type { NetError, Observations, Reply } from "../../probe/types.js";
import { CAUSES, type CauseFacts } from "../causes.js";
import type { FindingCode, RootCauseCode, Severity } from "../codes.js";
import { FINDING_TEXT, type FindingFacts } from "../findings.js";
import type { Diagnosis, Fault, Finding } from "../verdict.js";

/** What every rule reads: the observations and a few facts derived once. Rules never mutate it. */
export interface RuleContext {
  obs: Observations;
  now: Date;
  /** host:port as typed. */
  where: string;
  /** "control round trip 1.9 ms", when a session was made. */
  rtt?: string;
  /** The TLS mode in force (the URL scheme wins over `auto`). */
  mode: Observations["options"]["tls"];
  /** The server software, from its greeting, SYST and signature messages. */
  server: Diagnosis["server"];
  /** Faults found by the rules that ran before (layers a client meets earlier). */
  prior: readonly Fault[];
}

/** What a rule found in its layer; `stop` when nothing past this layer could have run. */
export class Outcome {
  readonly faults: Fault[] = [];
  readonly findings: Finding[] = [];
  readonly scope: string[] = [];
  stop = false;

  fault<C extends RootCauseCode>(code: C, facts: CauseFacts[C], evidence: string[]): this {
    const cause = CAUSES[code];
    this.faults.push({ code, title: cause.title(facts), explanation: cause.explanation(facts), evidence });
    return this;
  }

  finding<C extends FindingCode>(code: C, severity: Severity, facts: FindingFacts[C]): this {
    this.findings.push({ code, severity, message: FINDING_TEXT[code](facts) });
    return this;
  }
}

export type Rule = (ctx: RuleContext) => Outcome;

/** A reply quoted for evidence: its first three lines, capped. */
export const q = (r: Reply | undefined): string => (r ? `"${r.text.split("\n").slice(0, 3).join(" | ").slice(0, 240)}"` : "no reply");

export const err = (e: NetError | undefined): string =>
  e ? `${e.code}${e.message && e.message !== e.code ? ` (${e.message})` : ""}` : "unknown error";
