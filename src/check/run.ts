import { diagnose, type Diagnosis } from "../diagnosis/faultTree.js";
import { probe, type ProbeHooks, type ProbeSecrets } from "../probe/engine.js";
import type { CheckOptions, Observations, ProbePolicy, StepRecord, TranscriptLine } from "../probe/types.js";
import type { Target } from "../target/parse.js";

/** The one result shape every front shares: CLI `--json`, worker results, Slack rendering. */
export interface CheckReport {
  schemaVersion: 1;
  target: { input: string; host: string; port: number; tls: CheckOptions["tls"] };
  startedAt: string;
  durationMs: number;
  verdict: Diagnosis["verdict"];
  secondary: Diagnosis["secondary"];
  findings: Diagnosis["findings"];
  scope: string[];
  server: Diagnosis["server"];
  steps: Pick<StepRecord, "id" | "status" | "startMs" | "durationMs" | "detail" | "reply">[];
  peer?: Observations["peer"];
  tls?: { protocol?: string; cipher?: string; chain: NonNullable<Observations["tls"]>["chain"] };
  transcript: TranscriptLine[];
  /** Filled by the optional LLM summary; null when disabled or unavailable. */
  summary: null | { text: string; severity: string; nextAction: string };
  /** Set when the check ran through the queue. */
  zone?: string;
}

export function buildReport(obs: Observations, diagnosis: Diagnosis = diagnose(obs)): CheckReport {
  const mode = obs.target.schemeTls && obs.options.tls === "auto" ? obs.target.schemeTls : obs.options.tls;
  return {
    schemaVersion: 1,
    target: { input: obs.target.input, host: obs.target.host, port: obs.target.port, tls: mode },
    startedAt: obs.startedAt,
    durationMs: obs.durationMs,
    verdict: diagnosis.verdict,
    secondary: diagnosis.secondary,
    findings: diagnosis.findings,
    scope: diagnosis.scope,
    server: diagnosis.server,
    steps: obs.steps.map(({ id, status, startMs, durationMs, detail, reply }) => ({
      id,
      status,
      startMs,
      durationMs,
      detail,
      ...(reply ? { reply } : {}),
    })),
    ...(obs.peer ? { peer: obs.peer } : {}),
    ...(obs.tls && obs.tls.status === "ok"
      ? {
          tls: {
            ...(obs.tls.protocol ? { protocol: obs.tls.protocol } : {}),
            ...(obs.tls.cipher ? { cipher: obs.tls.cipher } : {}),
            chain: obs.tls.chain,
          },
        }
      : {}),
    transcript: obs.transcript,
    summary: null,
  };
}

/**
 * Probe, diagnose, report: the whole check, as the CLI and the worker run it. `policy`: the
 * target policy's hooks (src/policy: which resolved addresses and PASV hosts may be connected
 * to, passwords over TLS only); without it the CLI's own rules apply.
 */
export async function runCheck(
  target: Target,
  options: CheckOptions,
  secrets: ProbeSecrets = {},
  hooks: ProbeHooks = {},
  policy: ProbePolicy = {},
): Promise<{ report: CheckReport; observations: Observations }> {
  const observations = await probe(target, options, secrets, hooks, policy);
  return { report: buildReport(observations), observations };
}
