import type { RecurringWindow, TimelineInput, TimelineZone } from "../render/timeline.js";
import type { HistoryModel, ZoneHistory } from "./historyModel.js";

/**
 * The history model (src/queue/historyModel.ts: transitions, per-hour aggregates, incidents,
 * recurring windows) as the timeline's input. The picture knows nothing of the storage.
 *
 * Colour per moment: the state the transitions say the zone was in. Coverage per hour: an
 * hour without checks is "no data" (a worker that was down), whatever the state was.
 */
const HOUR = 3_600_000;

export function timelineFromHistory(m: HistoryModel): TimelineInput {
  const zones: TimelineZone[] = [];
  const recurring: RecurringWindow[] = [];
  for (const z of m.zones) {
    zones.push({
      zone: z.zone,
      segments: segmentsOf(z, m.from, m.to),
      incidents: z.incidents.map((i) => ({ from: i.start, ...(i.end !== null ? { to: i.end } : {}) })),
      // The same figure as the history text (share of checks), not a second one from the picture.
      uptimePct: z.uptimePct,
    });
    for (const w of z.recurring) {
      const occurrences = w.dates
        .map((d) => Date.parse(`${d}T00:00:00Z`))
        .map((day) => ({ from: day + w.fromHour * HOUR, to: day + (w.toHour + 1) * HOUR }))
        .filter((o) => o.to > m.from && o.from < m.to);
      if (occurrences.length) recurring.push({ zone: z.zone, label: w.text, occurrences });
    }
  }
  return { target: m.target, from: m.from, to: m.to, zones, recurring };
}

/** State intervals from the transitions, cut to the hours that had checks. */
export function segmentsOf(z: ZoneHistory, from: number, to: number): TimelineZone["segments"] {
  const tr = [...z.transitions].sort((a, b) => a.at - b.at);
  // The state at the start of the window: what the first transition in it left, else the current state.
  const states: { at: number; code: string }[] = [{ at: from, code: tr[0]?.from ?? z.current?.code ?? "HEALTHY" }];
  for (const t of tr) states.push({ at: t.at, code: t.to });
  const covered = z.hours.filter((h) => h.checks > 0).map((h) => ({ from: Math.max(h.hour, from), to: Math.min(h.hour + HOUR, to) }));
  // The current hour may not be aggregated yet when the last check ran just now.
  if (z.current && z.current.lastCheck >= to - HOUR && !covered.some((c) => c.to >= z.current!.lastCheck))
    covered.push({ from: Math.max(z.current.lastCheck - (z.current.lastCheck % HOUR), from), to });
  const out: TimelineZone["segments"] = [];
  for (const c of covered) {
    for (let i = 0; i < states.length; i++) {
      const a = Math.max(states[i]!.at, c.from);
      const b = Math.min(states[i + 1]?.at ?? to, c.to);
      if (b <= a) continue;
      const code = states[i]!.code;
      const last = out.at(-1);
      if (last && last.code === code && last.to === a) last.to = b;
      else out.push({ from: a, to: b, code });
    }
  }
  return out;
}
