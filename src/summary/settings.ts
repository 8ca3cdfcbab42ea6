import { z } from "zod";
import { SummaryConfigError } from "./failures.js";

/** Every bound of the optional LLM summary, in one place. */
export const SUMMARY_DEFAULTS = {
  /** How long a caller waits for a summary before the verdict goes out without one. @defaultValue 20000 */
  deadlineMs: 20_000,
  /** Model used when OPENAI_MODEL is not set. Self-hosted servers usually need OPENAI_MODEL. @defaultValue "gpt-4o-mini" */
  model: "gpt-4o-mini",
  /**
   * `json_schema` (Structured Outputs) is the most reliable; `json_object` is the older JSON mode
   * that more self-hosted servers accept. Either way our zod schema has the last word.
   * @defaultValue "json_schema"
   */
  responseFormat: "json_schema",
  /** At most one retry of our own (the SDK's are off), and only if it fits before the deadline. */
  maxRetries: 1,
  /** Backoff before that retry when the server sends no retry-after. */
  retryBackoffMs: 500,
  /** A retry is only worth it with at least this much time left after the wait. */
  minAttemptMs: 1_000,
  /** Output bounds: a manager reads three lines, not an essay. */
  maxTextChars: 600,
  maxTextLines: 3,
  maxActionChars: 200,
} as const;

/**
 * The summary's environment. It is on when OPENAI_API_KEY or OPENAI_BASE_URL is set (any
 * OpenAI-compatible server: vLLM, llama.cpp, Ollama… for teams that keep logs in-house), off otherwise.
 */
export const SummaryEnv = z.object({
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: z.string().refine(isHttpUrl, "must be an http:// or https:// URL such as http://127.0.0.1:8000/v1").optional(),
  OPENAI_MODEL: z.string().min(1).max(200).optional(),
  FTP_DOCTOR_SUMMARY_DEADLINE_MS: z.coerce
    .number()
    .int()
    .min(500, "must be at least 500 ms")
    .max(120_000, "must be at most 120000 ms")
    .optional(),
  FTP_DOCTOR_SUMMARY_FORMAT: z.enum(["json_schema", "json_object"]).optional(),
});

function isHttpUrl(u: string): boolean {
  try {
    return /^https?:$/.test(new URL(u).protocol);
  } catch {
    return false;
  }
}

export type SummaryConfig =
  | { enabled: false }
  | {
      enabled: true;
      model: string;
      /** Undefined: the SDK's default (api.openai.com). */
      baseURL: string | undefined;
      /** Self-hosted servers often need none; the SDK insists on one, so a placeholder is sent. */
      apiKey: string;
      deadlineMs: number;
      responseFormat: "json_schema" | "json_object";
    };

/** Read the summary settings from an env passed in (process.env by default); empty strings count as unset. */
export function summaryConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SummaryConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([k, v]) => k in SummaryEnv.shape && v !== undefined && v !== ""));
  const r = SummaryEnv.safeParse(present);
  if (!r.success)
    throw new SummaryConfigError(
      `LLM summary settings: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")} ` +
        "(unset OPENAI_API_KEY and OPENAI_BASE_URL to turn the summary off)",
    );
  const e = r.data;
  if (!e.OPENAI_API_KEY && !e.OPENAI_BASE_URL) return { enabled: false };
  return {
    enabled: true,
    model: e.OPENAI_MODEL ?? SUMMARY_DEFAULTS.model,
    baseURL: e.OPENAI_BASE_URL,
    apiKey: e.OPENAI_API_KEY ?? "not-needed",
    deadlineMs: e.FTP_DOCTOR_SUMMARY_DEADLINE_MS ?? SUMMARY_DEFAULTS.deadlineMs,
    responseFormat: e.FTP_DOCTOR_SUMMARY_FORMAT ?? SUMMARY_DEFAULTS.responseFormat,
  };
}
