import type { CheckReport } from "../check.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";

/**
 * The optional LLM summary as the bot uses it. Replaced by src/summary when that lands:
 * until then no summary is produced and nothing else changes.
 */
export function summarizerFromEnv(_env: NodeJS.ProcessEnv, _logger: Logger, _metrics?: Metrics): {
  report?: (r: CheckReport) => Promise<CheckReport["summary"]>;
  digest?: (changes: { target: string; zone: string; code: string; title: string; changedFrom?: string }[]) => Promise<string | null>;
} {
  return {};
}
