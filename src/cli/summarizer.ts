import type { CheckReport } from "../check/run.js";
import { UsageError } from "./usage.js";
import { createLogger } from "../log.js";
import { summaryConfigFromEnv } from "../summary/settings.js";
import { SummaryConfigError } from "../summary/failures.js";
import type { RedactionInput } from "../summary/redact.js";
import { summarizeReport, type SummaryLogger } from "../summary/summarize.js";

export interface CliSummaryOptions {
  env: NodeJS.ProcessEnv;
  stderr: NodeJS.WritableStream;
  /** --json: warnings as pino JSON lines on stderr; text mode: one readable line. */
  json: boolean;
}

/** The password, --password-env name, user and profile names of this run: never sent. */
export type CliRedaction = Omit<RedactionInput, "env">;

/**
 * `ftp-doctor check --summarize`: settings are checked before the probe runs (a bad OPENAI_BASE_URL
 * is bad usage, exit 2); the returned function never throws and resolves to the summary or null.
 */
export function cliSummarizer(opts: CliSummaryOptions): (report: CheckReport, redact?: CliRedaction) => Promise<CheckReport["summary"]> {
  let config;
  try {
    config = summaryConfigFromEnv(opts.env);
  } catch (err) {
    if (err instanceof SummaryConfigError) throw new UsageError(`--summarize: ${err.message}`);
    throw err;
  }
  if (!config.enabled) {
    if (!opts.json) opts.stderr.write("ftp-doctor: --summarize: no LLM configured (set OPENAI_BASE_URL or OPENAI_API_KEY); no summary\n");
    return async () => null;
  }
  const enabled = config;
  const logger: SummaryLogger = opts.json ? createLogger(logLevel(opts.env), opts.stderr) : textLogger(opts.stderr);
  return (report, redact = {}) => summarizeReport(report, { env: opts.env, logger, config: enabled, redact });
}

function logLevel(env: NodeJS.ProcessEnv): string {
  const l = env.LOG_LEVEL;
  return l && ["fatal", "error", "warn", "info", "debug", "trace", "silent"].includes(l) ? l : "warn";
}

/** Text mode: the warning as one line a person reads ("summary unavailable (timeout): …"). */
function textLogger(stderr: NodeJS.WritableStream): SummaryLogger {
  const warn = (obj: unknown, msg?: string) => {
    const o = (obj ?? {}) as { reason?: string; detail?: string };
    stderr.write(
      `ftp-doctor: ${msg ?? "warning"}${o.reason ? ` (${o.reason})` : ""}${o.detail ? `: ${o.detail}` : ""}; the verdict stands\n`,
    );
  };
  const quiet = () => undefined;
  return { warn, info: quiet, debug: quiet } as unknown as SummaryLogger;
}
