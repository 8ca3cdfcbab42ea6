import type { RecurringWindow, TimelineInput, TimelineZone } from "../render/timeline.js";
import type { StoredResult } from "./results.js";

/**
 * Today's history (one stored report per check, src/queue/results.ts) as the timeline's input.
 * When the history keeps transitions and hourly aggregates instead (issue 12), this adapter is
 * what changes; the picture does not.
 */
export interface TimelineOptions {
  /** End of the range (epoch ms). */
  now: number;
  /** @defaultValue 7 */
  days?: number;
  /** A result stands for at most this long when no later one follows (then: no data). @defaultValue 1 h */
  maxGapMs?: number;
  /** Consecutive failing results that make an incident (the monitor's `failAfter`). @defaultValue 2 */
  failAfter?: number;
  /** Distinct days with failures in the same hour of the day that make a recurring window. @defaultValue 3 */
  recurAfterDays?: number;
}

const HOUR = 3_600_000;
const DAY = 86_400_000;

export function timelineFromHistory(target: string, results: StoredResult[], o: TimelineOptions): TimelineInput {
  const days = o.days ?? 7;
  const maxGap = o.maxGapMs ?? HOUR;
  const failAfter = o.failAfter ?? 2;
  const from = o.now - days * DAY;
  const byZone = new Map<string, { at: number; code: string }[]>();
  for (const r of results) {
    const at = Date.parse(r.finishedAt);
    if (!Number.isFinite(at) || at > o.now) continue;
    const list = byZone.get(r.zone) ?? [];
    list.push({ at, code: r.report.verdict.code });
    byZone.set(r.zone, list);
  }
  const zones: TimelineZone[] = [];
  const recurring: RecurringWindow[] = [];
  for (const [zone, list] of [...byZone].sort(([a], [b]) => a.localeCompare(b))) {
    list.sort((a, b) => a.at - b.at);
    const segments: TimelineZone["segments"] = [];
    const incidents: TimelineZone["incidents"] = [];
    let run: { from: number; count: number } | undefined;
    list.forEach((p, i) => {
      const next = list[i + 1]?.at ?? o.now;
      const end = Math.min(next, p.at + maxGap, o.now);
      if (end > from) {
        const last = segments.at(-1);
        const start = Math.max(p.at, from);
        if (last && last.code === p.code && last.to === start) last.to = end;
        else segments.push({ from: start, to: end, code: p.code });
      }
      if (p.code !== "HEALTHY") run = run ? { ...run, count: run.count + 1 } : { from: p.at, count: 1 };
      else {
        if (run && run.count >= failAfter && p.at > from) incidents.push({ from: Math.max(run.from, from), to: p.at });
        run = undefined;
      }
    });
    if (run && run.count >= failAfter) incidents.push({ from: Math.max(run.from, from) });
    zones.push({ zone, segments, incidents });
    const w = dailyWindow(
      zone,
      list.filter((p) => p.at >= from && p.code !== "HEALTHY"),
      o.recurAfterDays ?? 3,
    );
    if (w) recurring.push(w);
  }
  return { target, from, to: o.now, zones, recurring };
}

/** Failures in the same UTC hour of the day on several distinct days: a daily window. */
function dailyWindow(zone: string, failures: { at: number }[], minDays: number): RecurringWindow | undefined {
  const byHour = new Map<number, Set<number>>();
  for (const f of failures) {
    const hour = new Date(f.at).getUTCHours();
    const set = byHour.get(hour) ?? new Set<number>();
    set.add(Math.floor(f.at / DAY));
    byHour.set(hour, set);
  }
  let best: [number, Set<number>] | undefined;
  for (const e of byHour) if (e[1].size >= minDays && (!best || e[1].size > best[1].size)) best = e;
  if (!best) return undefined;
  const [hour, dayset] = best;
  const hh = String(hour).padStart(2, "0");
  return {
    zone,
    label: `fails daily around ${hh}:00–${String((hour + 1) % 24).padStart(2, "0")}:00 UTC, on ${dayset.size} days`,
    occurrences: [...dayset].sort((a, b) => a - b).map((d) => ({ from: d * DAY + hour * HOUR, to: d * DAY + (hour + 1) * HOUR })),
  };
}
