import type { CheckReport } from "../check/run.js";
import type { Logger } from "../log.js";
import { completeJson, type EnabledSummaryConfig } from "./client.js";
import { SUMMARY_DEFAULTS, summaryConfigFromEnv, type SummaryConfig } from "./settings.js";
import { checkDigestOverview, checkSummary, type Check } from "./contradiction.js";
import { PromptError, SummaryConfigError, SummaryError, type SummaryFailure } from "./failures.js";
import { digestInput, summaryInput } from "./input.js";
import { loadPrompt, renderPrompt, type PromptName } from "./prompts.js";
import { createRedactor, type RedactionInput } from "./redact.js";
import {
  DIGEST_JSON_SCHEMA,
  DigestEntry,
  DigestOverviewOutput,
  SUMMARY_JSON_SCHEMA,
  SummaryOutput,
  type DigestOverview,
  type Summary,
} from "./outputSchema.js";

export type { Summary, DigestOverview, DigestEntry };

/** The logger calls the summary makes (a pino Logger fits). */
export type SummaryLogger = Pick<Logger, "warn" | "info" | "debug">;

export interface SummarizeOptions {
  /** Where OPENAI_* settings and secret-named variables are read. @defaultValue process.env */
  env?: NodeJS.ProcessEnv;
  logger: SummaryLogger;
  /** Overrides FTP_DOCTOR_SUMMARY_DEADLINE_MS. @defaultValue 20000 */
  deadlineMs?: number;
  /** Already parsed settings (else parsed from `env`). */
  config?: SummaryConfig;
  /** More things never to send: the password in use, its variable name, user and profile names. */
  redact?: Omit<RedactionInput, "env">;
  /** Where the prompt files are (tests). @defaultValue <package>/prompts/ */
  promptsDir?: URL;
  /** Called once per attempt that was not simply disabled: "added" or the failure reason (metrics). */
  onOutcome?: (outcome: SummaryOutcome) => void;
}

export type SummaryOutcome = "added" | SummaryFailure;

/**
 * Explain a report in three lines for a manager. Never in the way: resolves within the deadline,
 * never throws; `null` when disabled, late, refused, malformed or contradicting the verdict
 * (with a "summary unavailable" warning, except when simply disabled). The verdict is never touched.
 */
export async function summarizeReport(report: CheckReport, opts: SummarizeOptions): Promise<Summary | null> {
  return run<Summary>("summary.v1", opts, { code: report.verdict.code }, (redact) => {
    const input = summaryInput(report, redact);
    return {
      vars: {
        verdict_code: report.verdict.code,
        report_json: JSON.stringify(input, null, 2),
        max_text_chars: String(SUMMARY_DEFAULTS.maxTextChars),
        max_action_chars: String(SUMMARY_DEFAULTS.maxActionChars),
      },
      schemaName: "ftp_doctor_summary",
      jsonSchema: SUMMARY_JSON_SCHEMA,
      accept: (raw) => {
        const out = SummaryOutput.safeParse(raw);
        if (!out.success) return { malformed: out.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ") };
        return { value: out.data, check: checkSummary(out.data, report.verdict, report.findings) };
      },
    };
  });
}

/** The report with its summary filled in (a copy; `summary: null` when there is none). */
export async function withSummary(report: CheckReport, opts: SummarizeOptions): Promise<CheckReport> {
  return { ...report, summary: await summarizeReport(report, opts) };
}

/**
 * A short model-written overview of the day's changes for the daily digest, under the same rules:
 * never throws, `null` on any problem, rejected when it names a code not in the list or calls a
 * failing day fine (or a healthy day an outage).
 */
export async function summarizeDigest(entries: DigestEntry[], opts: SummarizeOptions): Promise<DigestOverview | null> {
  const valid = DigestEntry.array().max(200).safeParse(entries);
  if (!valid.success || valid.data.length === 0) {
    if (!valid.success)
      opts.logger.warn({ reason: "internal", prompt: "digest.v1", detail: valid.error.issues[0]?.message }, "summary unavailable");
    return null;
  }
  const list = valid.data;
  return run<DigestOverview>("digest.v1", opts, { entries: list.length }, (redact) => ({
    vars: { changes_json: JSON.stringify(digestInput(list, redact), null, 2), max_text_chars: String(SUMMARY_DEFAULTS.maxTextChars) },
    schemaName: "ftp_doctor_digest",
    jsonSchema: DIGEST_JSON_SCHEMA,
    accept: (raw) => {
      const out = DigestOverviewOutput.safeParse(raw);
      if (!out.success) return { malformed: out.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ") };
      return { value: out.data, check: checkDigestOverview(out.data, list) };
    },
  }));
}

/** The counter the bot's metrics expose (ftp_doctor_summary_outcomes_total{outcome}). */
export interface SummaryMetrics {
  summaries: { inc(labels: { outcome: string }): void };
}

/**
 * The summary as the Slack bot wires it (src/cli/bot.ts wires it): `{}` when off,
 * so the bot posts verdicts exactly as before; otherwise a report summarizer and a digest
 * overview that resolve within the deadline and never throw. Bad OPENAI_* settings throw a
 * SummaryConfigError (an EnvError: start-up fails with the fix in the message).
 */
export function summarizerFromEnv(
  env: NodeJS.ProcessEnv,
  logger: SummaryLogger,
  metrics?: SummaryMetrics,
  extra: Pick<SummarizeOptions, "deadlineMs" | "redact" | "promptsDir"> = {},
): {
  report?: (r: CheckReport) => Promise<CheckReport["summary"]>;
  digest?: (changes: DigestEntry[]) => Promise<string | null>;
} {
  const config = summaryConfigFromEnv(env);
  if (!config.enabled) return {};
  const opts: SummarizeOptions = {
    env,
    logger,
    config,
    ...extra,
    ...(metrics ? { onOutcome: (outcome) => metrics.summaries.inc({ outcome }) } : {}),
  };
  return {
    report: (r) => summarizeReport(r, opts),
    digest: async (changes) => (await summarizeDigest(changes, opts))?.text ?? null,
  };
}

interface Plan<T> {
  vars: Record<string, string>;
  schemaName: string;
  jsonSchema: Record<string, unknown>;
  accept: (raw: unknown) => { malformed: string } | { value: T; check: Check };
}

async function run<T>(
  prompt: PromptName,
  opts: SummarizeOptions,
  logFields: Record<string, unknown>,
  plan: (redact: ReturnType<typeof createRedactor>) => Plan<T>,
): Promise<T | null> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const env = opts.env ?? process.env;
  let config: EnabledSummaryConfig;
  try {
    const c = opts.config ?? summaryConfigFromEnv(env);
    if (!c.enabled) {
      opts.logger.debug({ prompt }, "summary disabled");
      return null;
    }
    config = c;
  } catch (err) {
    opts.logger.warn(
      { reason: "config", prompt, detail: err instanceof SummaryConfigError ? err.message : String(err) },
      "summary unavailable",
    );
    opts.onOutcome?.("config");
    return null;
  }
  const deadlineMs = opts.deadlineMs ?? config.deadlineMs;
  try {
    const redact = createRedactor({ ...opts.redact, env });
    const p = plan(redact);
    const { system, user } = renderPrompt(loadPrompt(prompt, opts.promptsDir), p.vars);
    // Last line of defence: the input is whitelisted and scrubbed; if a known secret still made it
    // into the request, send nothing.
    if (redact.leaks(system) || redact.leaks(user)) throw new SummaryError("internal", "a secret value reached the request; not sent");
    opts.logger.debug({ prompt, model: config.model, ...logFields }, "summary requested");
    const answer = await completeJson(config, { system, user, schemaName: p.schemaName, jsonSchema: p.jsonSchema }, deadlineMs);
    let raw: unknown;
    try {
      raw = JSON.parse(stripFence(answer.content));
    } catch {
      throw new SummaryError("malformed", `the answer is not JSON (${answer.content.length} characters)`);
    }
    const result = p.accept(raw);
    if ("malformed" in result) throw new SummaryError("malformed", result.malformed.slice(0, 300));
    if (!result.check.ok) throw new SummaryError("contradiction", result.check.reason.slice(0, 300));
    opts.logger.info({ prompt, model: config.model, durationMs: ms(), attempts: answer.attempts, ...logFields }, "summary added");
    opts.onOutcome?.("added");
    return result.value;
  } catch (err) {
    const e =
      err instanceof SummaryError
        ? err
        : new SummaryError(err instanceof PromptError ? "prompt_error" : "internal", (err as Error)?.message ?? String(err));
    opts.logger.warn(
      {
        reason: e.reason,
        ...(e.status ? { status: e.status } : {}),
        prompt,
        model: config.model,
        durationMs: ms(),
        detail: e.message,
        ...logFields,
      },
      "summary unavailable",
    );
    opts.onOutcome?.(e.reason);
    return null;
  }
}

/** Self-hosted models without JSON mode like to wrap JSON in a ```json fence; accept exactly that. */
function stripFence(s: string): string {
  const m = /^\s*```(?:json)?\s*\n([\s\S]*?)\n?```\s*$/i.exec(s);
  return m ? m[1]! : s;
}
