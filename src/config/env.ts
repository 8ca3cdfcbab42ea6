import { z } from "zod";

/**
 * Environment settings shared by the worker, the queue client and the bot. Parsed once at
 * start-up from an `env` passed in (process.env by default), so tests hand in their own.
 */
export const RuntimeEnv = z.object({
  REDIS_URL: z.string().url("must be a redis:// URL").default("redis://127.0.0.1:6379"),
  /** Every Redis key ftp-doctor writes starts with this (several installations can share one Redis). */
  FTP_DOCTOR_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, "must be 1-64 letters, digits, '.', '-' or '_'")
    .default("ftp-doctor"),
  FTP_DOCTOR_CONFIG: z.string().optional(),
  /** Results are kept this many days for history and trends. */
  FTP_DOCTOR_RESULT_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /**
   * BullMQ stalled-job check interval and job lock, sized to the check budget (15 s + 1 s):
   * a worker killed mid-check loses its lock after 10 s (it renews every 5 s while alive) and
   * the next stalled check (every 5 s) hands the job to another worker, so the re-run ends
   * about 30 s after the crash — inside the CLI's 60 s and the bot's 120 s wait. BullMQ's own
   * defaults (30 s + 30 s) made recovery take up to a minute and the CLI gave up first.
   */
  FTP_DOCTOR_STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  FTP_DOCTOR_LOCK_MS: z.coerce.number().int().min(1_000).max(600_000).default(10_000),
  /** Serve /metrics and /healthz on this port (bot and worker). Off when unset. */
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type RuntimeEnv = z.infer<typeof RuntimeEnv>;

export class EnvError extends Error {
  override readonly name = "EnvError";
}

export function parseRuntimeEnv(env: NodeJS.ProcessEnv): RuntimeEnv {
  const r = RuntimeEnv.safeParse(env);
  if (r.success) return r.data;
  throw new EnvError(r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
}
