/**
 * The one severity table (issue 12). Rows are tried in order; the first that applies names
 * the severity. Operators remap a condition or a verdict code with `monitor.severity`.
 */
import type { CheckReport } from "../check/run.js";
import type { Layer } from "../diagnosis/codes.js";
import type { MonitorConfig, Severity, SeverityCondition } from "../config/monitorSchema.js";

/** What the severity is decided from: the latest result per zone. */
export interface ZonePicture {
  zone: string;
  code: string;
  layer: Layer;
  /** Days until the leaf certificate expires (negative: expired), when TLS was seen. */
  certDays?: number;
}

export interface SeverityInput {
  zones: ZonePicture[];
  flapping: boolean;
  certDays: number;
}

const UNREACHABLE: ReadonlySet<Layer> = new Set(["dns", "tcp", "greeting"]);
const failing = (i: SeverityInput) => i.zones.filter((z) => z.code !== "HEALTHY");

export const SEVERITY_TABLE: readonly {
  condition: SeverityCondition;
  severity: Severity;
  means: string;
  applies(i: SeverityInput): boolean;
}[] = [
  {
    condition: "flapping",
    severity: "P2",
    means: "the target changed state too often to page on every change",
    applies: (i) => i.flapping,
  },
  {
    condition: "unreachable",
    severity: "P1",
    means: "no zone can reach the service (name, TCP or greeting fails everywhere)",
    applies: (i) => failing(i).length === i.zones.length && i.zones.length > 0 && i.zones.every((z) => UNREACHABLE.has(z.layer)),
  },
  {
    condition: "degraded",
    severity: "P2",
    means: "logins work but transfers do not (a data-channel fault such as blocked passive ports)",
    applies: (i) => failing(i).length > 0 && failing(i).every((z) => z.layer === "data"),
  },
  {
    condition: "everyZone",
    severity: "P1",
    means: "failing from every zone that answered",
    applies: (i) => i.zones.length > 0 && failing(i).length === i.zones.length,
  },
  {
    condition: "someZones",
    severity: "P2",
    means: "failing from some zones, healthy from others",
    applies: (i) => failing(i).length > 0,
  },
  {
    condition: "expiring",
    severity: "P3",
    means: "healthy, but the certificate expires within monitor.certDays",
    applies: (i) => i.zones.some((z) => z.certDays !== undefined && z.certDays <= i.certDays),
  },
];

/** Severity order: P1 is the most urgent. */
const rank = (s: Severity) => Number(s.slice(1));

export function severityOf(
  input: SeverityInput,
  overrides?: MonitorConfig["severity"],
): { severity: Severity; condition: SeverityCondition } | undefined {
  const row = SEVERITY_TABLE.find((r) => r.applies(input));
  if (!row) return undefined;
  let severity: Severity = (overrides?.[row.condition] as Severity | undefined) ?? row.severity;
  // A per-code override replaces the condition's severity (several codes: the most urgent one).
  const codes = (overrides?.codes ?? {}) as Partial<Record<string, Severity>>;
  const byCode = failing(input)
    .map((z) => codes[z.code])
    .filter((s): s is Severity => s !== undefined)
    .sort((a, b) => rank(a) - rank(b));
  if (byCode[0] && row.condition !== "flapping") severity = byCode[0];
  return { severity, condition: row.condition };
}

/** Days until the leaf certificate of a report expires. */
export function certDaysOf(report: CheckReport, now: number): number | undefined {
  const leaf = report.tls?.chain[0];
  if (!leaf) return undefined;
  return Math.floor((Date.parse(leaf.validTo) - now) / 86_400_000);
}
