/**
 * The incident state machine of one monitored target (pure: state in, state and events out).
 * The runner (src/monitor/runner.ts) keeps the state in Redis, serialises evaluations per
 * target, and turns events into Slack messages exactly once.
 */
import type { Layer } from "../diagnosis/codes.js";
import type { Severity, SeverityCondition } from "../config/monitorSchema.js";

export interface ZoneState {
  code: string;
  layer: Layer;
  title: string;
  /** A problem: a fault, or a certificate about to expire. */
  problem: boolean;
  failStreak: number;
  okStreak: number;
  lastJobId: string;
  at: number;
  certDays?: number;
  /** When this zone turned from problem to no problem or back, within the flapping window. */
  changes: number[];
  /** The last problem code seen (a flapping target is healthy half the time). */
  lastProblem?: string;
}

export interface IncidentSnapshot {
  id: string;
  target: string;
  openedAt: number;
  severity: Severity;
  condition: SeverityCondition;
  cause: string;
  flapping: boolean;
  /** The cross-zone picture of the first post (title and explanation). */
  picture: { code: string; title: string; explanation: string; zones: { zone: string; code: string; error?: string }[] };
  /** The verdict that opened it (title, explanation, first fixes). */
  verdict: { code: string; title: string; explanation: string; remediation: string[]; zone: string };
  oncall?: string;
  channel: string;
  /** The parent message, once posted. */
  ts?: string;
  ack?: { user: string; at: number };
  mute?: { by: string; until: number | null };
  resolvedAt?: number;
}

export type IncidentEvent =
  | { id: string; kind: "open"; incident: IncidentSnapshot }
  | { id: string; kind: "cause"; from: string; to: string; incident: IncidentSnapshot }
  | { id: string; kind: "flapping"; changes: number; incident: IncidentSnapshot }
  | { id: string; kind: "recovered"; durationMs: number; incident: IncidentSnapshot }
  /** No message: the parent is re-rendered (ack, mute). */
  | { id: string; kind: "update"; incident: IncidentSnapshot };

export interface TargetState {
  target: string;
  zones: Record<string, ZoneState>;
  incident?: IncidentSnapshot;
  /** Events decided but not yet delivered to Slack. */
  outbox: IncidentEvent[];
  seq: number;
}

export interface Rules {
  failAfter: number;
  recoverAfter: number;
  flapChanges: number;
  flapWindowMs: number;
}

export interface ZoneResult {
  zone: string;
  jobId: string;
  code: string;
  layer: Layer;
  title: string;
  problem: boolean;
  at: number;
  certDays?: number;
}

export function emptyState(target: string): TargetState {
  return { target, zones: {}, outbox: [], seq: 0 };
}

/** The cause of a target: its distinct problem codes across zones, sorted. */
export function causeOf(s: TargetState): string {
  const codes = [
    ...new Set(
      Object.values(s.zones)
        .filter((z) => z.problem)
        .map((z) => problemCode(z.code)),
    ),
  ];
  return codes.sort().join(" + ");
}

/** A healthy verdict with a problem is a certificate about to expire. */
const problemCode = (code: string) => (code === "HEALTHY" ? "TLS_CERT_EXPIRING" : code);

/** What a flapping target flaps to: the last problem codes seen. */
function flappingCause(s: TargetState): string {
  return [...new Set(Object.values(s.zones).flatMap((z) => (z.lastProblem ? [z.lastProblem] : [])))].sort().join(" + ");
}

/** State changes of the most unstable zone within the window (one zone flapping is enough). */
export function flapCount(s: TargetState): number {
  return Math.max(0, ...Object.values(s.zones).map((z) => z.changes.length));
}

export function nextEventId(s: TargetState): string {
  s.seq++;
  return `${s.incident?.id ?? s.target}#${s.seq}`;
}

/**
 * Count one zone's result. Returns "open" when an incident should open (the caller gathers the
 * cross-zone picture first, then calls `openIncident`). Idempotent per job id.
 */
export function applyResult(s: TargetState, r: ZoneResult, rules: Rules): "none" | "open" | "duplicate" {
  const prev = s.zones[r.zone];
  if (prev?.lastJobId === r.jobId) return "duplicate";
  if (prev && prev.at > r.at) return "duplicate"; // an older result arriving late changes nothing
  const changes = [...(prev?.changes ?? []), ...(prev && prev.problem !== r.problem ? [r.at] : [])].filter(
    (t) => t > r.at - rules.flapWindowMs,
  );
  s.zones[r.zone] = {
    code: r.code,
    layer: r.layer,
    title: r.title,
    problem: r.problem,
    failStreak: r.problem ? (prev?.failStreak ?? 0) + 1 : 0,
    okStreak: r.problem ? 0 : (prev?.okStreak ?? 0) + 1,
    lastJobId: r.jobId,
    at: r.at,
    ...(r.certDays !== undefined ? { certDays: r.certDays } : {}),
    changes,
    ...(r.problem ? { lastProblem: problemCode(r.code) } : prev?.lastProblem ? { lastProblem: prev.lastProblem } : {}),
  };
  const flapping = flapCount(s) >= rules.flapChanges;
  const inc = s.incident;
  if (!inc) {
    if (flapping || Object.values(s.zones).some((z) => z.failStreak >= rules.failAfter)) return "open";
    return "none";
  }
  if (flapping && !inc.flapping) {
    inc.flapping = true;
    s.outbox.push({ id: nextEventId(s), kind: "flapping", changes: flapCount(s), incident: { ...inc } });
    return "none";
  }
  const zones = Object.values(s.zones);
  const healthy = zones.every((z) => !z.problem && z.okStreak >= rules.recoverAfter);
  if (healthy && !(inc.flapping && flapping)) {
    const resolvedAt = r.at;
    s.outbox.push({ id: nextEventId(s), kind: "recovered", durationMs: resolvedAt - inc.openedAt, incident: { ...inc, resolvedAt } });
    delete s.incident;
    return "none";
  }
  const cause = causeOf(s);
  if (!inc.flapping && cause && cause !== inc.cause) {
    const from = inc.cause;
    inc.cause = cause;
    const muted = inc.mute && (inc.mute.until === null || inc.mute.until > r.at);
    s.outbox.push(
      muted
        ? { id: nextEventId(s), kind: "update", incident: { ...inc } }
        : { id: nextEventId(s), kind: "cause", from, to: cause, incident: { ...inc } },
    );
  }
  return "none";
}

export function openIncident(
  s: TargetState,
  init: Omit<IncidentSnapshot, "id" | "target" | "cause" | "flapping" | "openedAt"> & { openedAt: number },
  rules: Rules,
): IncidentSnapshot {
  const flapping = flapCount(s) >= rules.flapChanges;
  const inc: IncidentSnapshot = {
    ...init,
    id: `${s.target}@${init.openedAt}`,
    target: s.target,
    cause: (flapping ? flappingCause(s) : causeOf(s)) || init.verdict.code,
    flapping,
  };
  s.incident = inc;
  s.outbox.push({ id: nextEventId(s), kind: "open", incident: { ...inc } });
  return inc;
}
