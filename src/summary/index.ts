/**
 * The optional LLM summary: the fault tree decides, the model only explains. Import from here
 * (Slack, the worker, the digest); the files behind it are this folder's business.
 *
 * Typical use, never in the way of the verdict:
 *   post(report);                                        // the verdict first
 *   const summary = await summarizeReport(report, { env, logger });
 *   if (summary) update(report, summary);                // within its own deadline, else never
 */
export {
  summarizeReport,
  summarizeDigest,
  withSummary,
  summarizerFromEnv,
  type SummarizeOptions,
  type SummaryLogger,
  type SummaryMetrics,
  type SummaryOutcome,
} from "./summarize.js";
export { summaryConfigFromEnv, SUMMARY_DEFAULTS, type SummaryConfig } from "./config.js";
export { AUDIENCE_SEVERITIES, type AudienceSeverity, type Summary, type DigestEntry, type DigestOverview } from "./schema.js";
export { SUMMARY_FAILURES, SummaryConfigError, type SummaryFailure } from "./errors.js";
