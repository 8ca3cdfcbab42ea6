import type { FindingCode, Layer, RootCauseCode, Severity } from "./codes.js";
import type { ServerIdentity } from "./software.js";

export interface Verdict {
  code: RootCauseCode;
  layer: Layer;
  title: string;
  explanation: string;
  evidence: string[];
  /** Steps in order; with an unknown server, only the steps that apply whatever the software. */
  remediation: string[];
  /**
   * When the server software is unknown: each daemon's own setting for this fault. These are
   * alternatives (do the one for your server), not further steps.
   */
  perServer?: { software: string; steps: string[] }[];
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
}

export interface Diagnosis {
  verdict: Verdict;
  /** Other faults seen on the way, less fundamental than the root cause. */
  secondary: { code: RootCauseCode; title: string }[];
  findings: Finding[];
  server: ServerIdentity & { banner?: string };
  /** What the check could not cover (e.g. no credentials: data channel untested). */
  scope: string[];
}

/** A fault a rule found: the code, its wording from the cause table, and the evidence that proves it. */
export interface Fault {
  code: RootCauseCode;
  title: string;
  explanation: string;
  evidence: string[];
}
