import { z } from "zod";
import { SUMMARY_DEFAULTS } from "./settings.js";

/**
 * Audience-level severity: how much a manager should care, not the finding severities of the
 * fault tree. `none` is only right for a healthy server.
 */
export const AUDIENCE_SEVERITIES = ["none", "low", "medium", "high", "critical"] as const;
export type AudienceSeverity = (typeof AUDIENCE_SEVERITIES)[number];

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
/** Slack mention and link syntax: a model must not be able to page a channel or hide a link. */
const SLACK_MARKUP = /<[!@#]|<https?:|<mailto:/i;

const plain = (max: number) =>
  z
    .string()
    .transform((s) => s.trim())
    .pipe(
      z
        .string()
        .min(1, "empty")
        .max(max, `longer than ${max} characters`)
        .refine((s) => !CONTROL.test(s.replace(/\n/g, "")), "contains control characters")
        .refine((s) => !SLACK_MARKUP.test(s), "contains Slack mention or link markup"),
    );

const summaryText = plain(SUMMARY_DEFAULTS.maxTextChars).refine(
  (s) => s.split("\n").length <= SUMMARY_DEFAULTS.maxTextLines,
  `more than ${SUMMARY_DEFAULTS.maxTextLines} lines`,
);

/** What the model must answer for one check (the LLM output boundary). */
export const SummaryOutput = z
  .object({
    text: summaryText,
    severity: z.enum(AUDIENCE_SEVERITIES),
    nextAction: plain(SUMMARY_DEFAULTS.maxActionChars).refine((s) => !s.includes("\n"), "must be one line"),
  })
  .strict();
export type SummaryOutput = z.infer<typeof SummaryOutput>;

/** The summary as it lands in CheckReport.summary (severity narrowed to the audience levels). */
export type Summary = SummaryOutput;

/** What the model must answer for the daily digest. */
export const DigestOverviewOutput = z.object({ text: summaryText }).strict();
export type DigestOverview = z.infer<typeof DigestOverviewOutput>;

/**
 * JSON Schemas sent as `response_format: { type: "json_schema", json_schema: { strict: true } }`.
 * Strict mode wants every property required and no additional ones; length limits are left to
 * zod because not every server supports them in a schema.
 */
export const SUMMARY_JSON_SCHEMA = {
  type: "object",
  properties: {
    text: { type: "string", description: "At most 3 short lines for a non-technical reader." },
    severity: { type: "string", enum: [...AUDIENCE_SEVERITIES] },
    nextAction: { type: "string", description: "One line: who should do what next." },
  },
  required: ["text", "severity", "nextAction"],
  additionalProperties: false,
} as const;

export const DIGEST_JSON_SCHEMA = {
  type: "object",
  properties: { text: { type: "string", description: "At most 3 short lines." } },
  required: ["text"],
  additionalProperties: false,
} as const;

/** The part of an OpenAI-compatible chat completion we read; anything else from the server is ignored. */
export const ChatCompletionBody = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional(), refusal: z.string().nullable().optional() }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1, "no choices"),
});

/** One entry of the daily digest: a target whose verdict changed (or stayed bad) today. */
export const DigestEntry = z.object({
  target: z.string().min(1).max(300),
  zone: z.string().min(1).max(64),
  code: z.string().min(1).max(64),
  title: z.string().max(500),
  changedFrom: z.string().min(1).max(64).optional(),
});
export type DigestEntry = z.infer<typeof DigestEntry>;
