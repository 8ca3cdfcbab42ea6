/** The `monitor:` section of the configuration file (issue 12): what is watched, how often, who is paged. */
import { z } from "zod";
import { ROOT_CAUSE_CODES } from "../diagnosis/codes.js";
import { parseTarget, TargetParseError } from "../target/parse.js";

/** "5m", "30s", "1h", "90s": down to 1 s (labs and tests), up to a day. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})\s*(ms|s|m|h)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"];
  return ms >= 1_000 && ms <= 86_400_000 ? ms : undefined;
}

const Duration = z.string().refine((s) => parseDuration(s) !== undefined, {
  message: "must be a duration such as 5m, 30s or 1h (from 1s to 24h)",
  params: { fix: "write a number followed by s, m or h, e.g. 5m" },
});

/** One monitored target as written: `host[:port] [from zone,zone|all] [as profile] [every 1m]`. */
export interface MonitorLine {
  /** The target as typed (no password: refused). */
  target: string;
  host: string;
  port: number;
  /** Zones named after `from`; "all" for every configured zone; empty: the target's default zone. */
  zones: string[] | "all";
  profile?: string;
  intervalMs?: number;
}

export function parseMonitorLine(line: string): MonitorLine | string {
  const words = line.trim().split(/\s+/);
  const out: Partial<MonitorLine> & { zones: string[] | "all" } = { zones: [] };
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const next = words[i + 1];
    if (i === 0) {
      try {
        const t = parseTarget(w);
        if (t.urlHadPassword) return "must not contain a password (use `as <profile>`)";
        Object.assign(out, { target: t.input, host: t.host, port: t.port });
      } catch (err) {
        if (err instanceof TargetParseError) return err.message;
        throw err;
      }
    } else if (w === "from" && next) {
      out.zones = next === "all" ? "all" : next.split(",").filter(Boolean);
      if (out.zones !== "all" && out.zones.some((z) => !/^[a-z0-9][a-z0-9_-]{0,31}$/i.test(z))) return `bad zone list "${next}"`;
      i++;
    } else if (w === "as" && next) {
      out.profile = next;
      i++;
    } else if (w === "every" && next) {
      const ms = parseDuration(next);
      if (ms === undefined) return `"every ${next}": must be a duration such as 1m or 30s (from 1s to 24h)`;
      out.intervalMs = ms;
      i++;
    } else return `I don't understand "${w}" (write host[:port] [from zone,zone|all] [as profile] [every 1m])`;
  }
  return out as MonitorLine;
}

export const SEVERITIES = ["P1", "P2", "P3"] as const;
const Severity = z.enum(SEVERITIES);

/** The conditions of the severity table (src/monitor/severity.ts), each mapped to a severity. */
export const SEVERITY_CONDITIONS = ["unreachable", "degraded", "everyZone", "someZones", "flapping", "expiring"] as const;

export const MonitorConfig = z
  .object({
    /** Where incidents open. */
    channel: z.string().regex(/^[CG][A-Z0-9]{4,20}$/, "must be a Slack channel id such as C0123INCIDENTS (not a #name)"),
    /** Default interval per target. @defaultValue 5m */
    interval: Duration.default("5m"),
    /** Consecutive failing checks (in any zone) before an incident opens. @defaultValue 2 */
    failAfter: z.number().int().min(1).max(100).default(2),
    /** Consecutive healthy checks before it resolves. @defaultValue 2 */
    recoverAfter: z.number().int().min(1).max(100).default(2),
    /** User group mentioned on P1 (S…). */
    oncall: z
      .string()
      .regex(/^S[A-Z0-9]{4,20}$/, "must be a Slack user group id such as S0123ONCALL")
      .optional(),
    /** State changes within `window` that make a target "flapping". @defaultValue 4 in 1h */
    flapping: z
      .object({ changes: z.number().int().min(2).max(1_000).default(4), window: Duration.default("1h") })
      .strict()
      .default({ changes: 4, window: "1h" }),
    /** A certificate expiring within this many days is a P3 incident. @defaultValue 7 */
    certDays: z.number().int().min(0).max(365).default(7),
    /** Override the severity table: a condition → P1/P2/P3, and per verdict code. */
    severity: z
      .object({
        unreachable: Severity.optional(),
        degraded: Severity.optional(),
        everyZone: Severity.optional(),
        someZones: Severity.optional(),
        flapping: Severity.optional(),
        expiring: Severity.optional(),
        codes: z.partialRecord(z.enum(ROOT_CAUSE_CODES), Severity).optional(),
      })
      .strict()
      .optional(),
    targets: z
      .array(
        z.string().superRefine((s, ctx) => {
          const r = parseMonitorLine(s);
          if (typeof r === "string")
            ctx.addIssue({
              code: "custom",
              message: r,
              params: {
                fix: "write host[:port] [from zone,zone|all] [as profile] [every 1m], e.g. ftp.example.com from dmz,office every 1m",
              },
            });
        }),
      )
      .max(100_000)
      .default([]),
  })
  .strict();
export type MonitorConfig = z.infer<typeof MonitorConfig>;
export type Severity = (typeof SEVERITIES)[number];
export type SeverityCondition = (typeof SEVERITY_CONDITIONS)[number];
