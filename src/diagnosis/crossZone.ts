import type { CheckReport } from "../check/run.js";
import type { Layer } from "./codes.js";

export const CROSS_ZONE_CODES = ["CONSISTENT", "PATH_BLOCKED", "ZONE_SPECIFIC", "MIXED", "INCOMPLETE"] as const;
export type CrossZoneCode = (typeof CROSS_ZONE_CODES)[number];

export interface ZoneOutcome {
  zone: string;
  report?: CheckReport;
  /** Why there is no report (no worker, timed out, job failed). */
  error?: string;
}

export interface CrossZoneVerdict {
  code: CrossZoneCode;
  title: string;
  explanation: string;
  zones: { zone: string; code: string; layer?: Layer; durationMs?: number; error?: string }[];
}

/** Faults that live on the path between a zone and the server, not in the server. */
const PATH_LAYERS: ReadonlySet<Layer> = new Set(["dns", "tcp", "greeting"]);
const PATH_CODES = new Set([
  "PASV_PORTS_BLOCKED",
  "DATA_FOREIGN_IP",
  "EPSV_BROKEN",
  "TLS_HANDSHAKE_STALL",
  "CONNECTION_RESET",
  "ACTIVE_MODE_BLOCKED",
]);

/**
 * Compare the verdicts of the same check run from several zones. A fault seen from every
 * zone is the server's; a fault seen only from some, while others are healthy, is the path's.
 */
export function crossZoneVerdict(target: string, outcomes: ZoneOutcome[]): CrossZoneVerdict {
  const zones = outcomes.map((o) => ({
    zone: o.zone,
    code: o.report?.verdict.code ?? "NO_RESULT",
    ...(o.report ? { layer: o.report.verdict.layer, durationMs: o.report.durationMs } : {}),
    ...(o.error ? { error: o.error } : {}),
  }));
  const got = outcomes.filter((o): o is ZoneOutcome & { report: CheckReport } => !!o.report);
  const missing = outcomes.filter((o) => !o.report);
  const list = (xs: { zone: string }[]) => xs.map((x) => x.zone).join(", ");
  if (got.length < 2) {
    return {
      code: "INCOMPLETE",
      title: `Only ${got.length} of ${outcomes.length} zones answered for ${target}`,
      explanation: `No comparison possible: ${missing.map((m) => `${m.zone}: ${m.error ?? "no result"}`).join("; ")}.`,
      zones,
    };
  }
  const codes = new Set(got.map((g) => g.report.verdict.code));
  const healthy = got.filter((g) => g.report.verdict.code === "HEALTHY");
  const failing = got.filter((g) => g.report.verdict.code !== "HEALTHY");
  const suffix = missing.length ? ` (no result from ${list(missing)})` : "";
  if (codes.size === 1) {
    const code = got[0]!.report.verdict.code;
    return code === "HEALTHY"
      ? {
          code: "CONSISTENT",
          title: `${target} is healthy from every zone${suffix}`,
          explanation: `All ${got.length} zones (${list(got)}) get a healthy verdict.`,
          zones,
        }
      : {
          code: "CONSISTENT",
          title: `${target}: ${code} from every zone${suffix}`,
          explanation: `Every zone (${list(got)}) sees ${code}: the fault is the server's (or shared by all paths), not one zone's path.`,
          zones,
        };
  }
  if (healthy.length > 0 && failing.every((f) => PATH_LAYERS.has(f.report.verdict.layer) || PATH_CODES.has(f.report.verdict.code))) {
    const detail = failing.map((f) => `${f.report.verdict.code} from ${f.zone}`).join(", ");
    return {
      code: "PATH_BLOCKED",
      title: `${target} works from ${list(healthy)} but not from ${list(failing)}${suffix}`,
      explanation:
        `Healthy from ${list(healthy)}; ${detail}. The server is up: the path from ${list(failing)} to it ` +
        "is blocked or broken (firewall, security group, routing, NAT between that zone and the server).",
      zones,
    };
  }
  if (healthy.length > 0) {
    const detail = failing.map((f) => `${f.report.verdict.code} from ${f.zone}`).join(", ");
    return {
      code: "ZONE_SPECIFIC",
      title: `${target} behaves differently by zone: ${detail}${suffix}`,
      explanation:
        `Healthy from ${list(healthy)}, but ${detail}: the server treats these zones ` +
        "differently (per-IP policy, allow-lists, bans, a different server behind the same name).",
      zones,
    };
  }
  return {
    code: "MIXED",
    title: `${target} fails from every zone, differently${suffix}`,
    explanation: got.map((g) => `${g.zone}: ${g.report.verdict.code} (${g.report.verdict.title})`).join("; "),
    zones,
  };
}
