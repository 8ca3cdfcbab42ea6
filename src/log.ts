import { pino, type Logger } from "pino";

/**
 * Structured JSON logs: one line per event, a fixed message and fields. Passwords never reach
 * a log: we never put them in a log call, and these paths are censored in case someone does.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { app: "ftp-doctor" },
      redact: {
        paths: ["password", "*.password", "*.*.password", "secrets", "*.secrets", "headers.authorization", "token", "*.token"],
        censor: "****",
      },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? process.stdout,
  );
}

export type { Logger };
