import { EnvError } from "../config/env.js";

/**
 * Why a summary was dropped. These codes appear in the "summary unavailable" warning's `reason`
 * field; operators and tests branch on them, never on message text. Added, never renamed.
 */
export const SUMMARY_FAILURES = [
  /** Our own deadline passed (slow model, hung server, retry-after longer than the time left). */
  "timeout",
  /** 429 from the model server. */
  "rate_limited",
  /** Any other 4xx/5xx from the model server. */
  "http_error",
  /** No HTTP answer at all: refused, reset, DNS. */
  "connection_error",
  /** The answer is not the JSON object we asked for (bad JSON, wrong fields, oversized). */
  "malformed",
  /** Well-formed, but it contradicts the verdict (another root cause, "healthy" for a fault…). */
  "contradiction",
  /** OPENAI_* / FTP_DOCTOR_SUMMARY_* settings that cannot work. */
  "config",
  /** A prompt file is missing or does not match the variables we supply (a packaging bug). */
  "prompt_error",
  /** Anything else; the verdict still stands. */
  "internal",
] as const;
export type SummaryFailure = (typeof SUMMARY_FAILURES)[number];

/** Thrown inside the summary path only; summarizeReport/summarizeDigest turn it into `null` and a warning. */
export class SummaryError extends Error {
  override readonly name = "SummaryError";
  constructor(
    readonly reason: SummaryFailure,
    message: string,
    /** HTTP status from the model server, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A prompt file that does not fit its declared variables: fix prompts/, not the caller. */
export class PromptError extends Error {
  override readonly name = "PromptError";
}

/**
 * OPENAI_* / FTP_DOCTOR_SUMMARY_* settings that cannot work; the message says which and how to
 * fix it. An EnvError, so every command's start-up reports it as bad configuration (exit 2).
 */
export class SummaryConfigError extends EnvError {}
