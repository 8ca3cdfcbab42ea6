/**
 * The 7-day history of a target, per zone: uptime, incidents, current state and recurring
 * windows. `loadHistory` reads it from Redis; `buildZoneHistory` is the pure part (tested alone).
 * The CLI, `/ftp-check history` and the timeline renderer all consume this one model.
 */
import type { Redis } from "ioredis";
import { DURATION_BUCKETS_MS, type StoredResult } from "./results.js";
import { keys, targetKey } from "./keys.js";

const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

export interface HourAggregate {
  /** Start of the hour (ms since the epoch, UTC). */
  hour: number;
  checks: number;
  failures: number;
  /** The worst verdict of the hour ("" when none failed). */
  worst: string;
  /** Duration percentiles (upper bound of the histogram bucket, ms; null above the last bound). */
  p50Ms: number | null;
  p95Ms: number | null;
}

export interface Transition {
  at: number;
  from: string;
  to: string;
  jobId: string;
  title: string;
}

export interface Incident {
  start: number;
  /** null: still open. */
  end: number | null;
  durationMs: number;
  /** Every failing verdict seen during the incident, in order. */
  codes: string[];
}

export interface RecurringWindow {
  kind: "daily" | "weekly";
  /** 0 = Sunday (weekly only). */
  weekday?: number;
  /** First and last hour of day (UTC) of the window. */
  fromHour: number;
  toHour: number;
  /** The days (YYYY-MM-DD) with failures in the window. */
  dates: string[];
  text: string;
}

export interface ZoneHistory {
  zone: string;
  current: { code: string; since: number; lastCheck: number; title: string } | null;
  checks: number;
  failures: number;
  /** null without checks in the window. */
  uptimePct: number | null;
  hours: HourAggregate[];
  transitions: Transition[];
  incidents: Incident[];
  recurring: RecurringWindow[];
}

export interface HistoryModel {
  target: string;
  from: number;
  to: number;
  zones: ZoneHistory[];
}

export interface ZoneRaw {
  zone: string;
  state: string | null;
  latest: StoredResult | null;
  /** day index → hash of hour-of-day → aggregate string */
  days: Map<number, Record<string, string>>;
  /** Transition members, oldest first (including the newest one before the window, if any). */
  transitions: string[];
  failingHours: number[];
}

function percentile(hist: Map<number, number>, total: number, q: number): number | null {
  if (total === 0) return null;
  let seen = 0;
  for (let b = 0; b <= DURATION_BUCKETS_MS.length; b++) {
    seen += hist.get(b) ?? 0;
    if (seen >= q * total) return DURATION_BUCKETS_MS[b] ?? null;
  }
  return null;
}

export function parseAggregate(hour: number, raw: string): HourAggregate {
  const [c, f, , w, h] = raw.split("|");
  const hist = new Map<number, number>();
  for (const pair of (h ?? "").split(",").filter(Boolean)) {
    const [b, n] = pair.split(":");
    hist.set(Number(b), Number(n));
  }
  const checks = Number(c);
  return {
    hour,
    checks,
    failures: Number(f),
    worst: w ?? "",
    p50Ms: percentile(hist, checks, 0.5),
    p95Ms: percentile(hist, checks, 0.95),
  };
}

function parseTransition(m: string): Transition {
  const [at, from, to, jobId, ...title] = m.split("|");
  return { at: Number(at), from: from!, to: to!, jobId: jobId!, title: title.join("|") };
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const hh = (h: number) => `${String(h).padStart(2, "0")}:00`;

/**
 * Failures that cluster at the same time of day (≥ 3 days) or the same weekday and hour
 * (≥ 3 weeks). Days that fail for more than half their hours are outages, not windows, and
 * are left out. Adjacent hours merge into one window.
 */
export function recurringWindows(failingHours: number[], minOccurrences = 3): RecurringWindow[] {
  const perDay = new Map<number, number>();
  for (const h of failingHours) perDay.set(Math.floor(h / DAY), (perDay.get(Math.floor(h / DAY)) ?? 0) + 1);
  const hours = failingHours.filter((h) => (perDay.get(Math.floor(h / DAY)) ?? 0) <= 12);
  const slotDates = (key: (h: number) => number | undefined) => {
    const m = new Map<number, Set<string>>();
    for (const h of hours) {
      const k = key(h);
      if (k === undefined) continue;
      const set = m.get(k) ?? new Set<string>();
      set.add(isoDate(h));
      m.set(k, set);
    }
    return m;
  };
  const merge = (slots: Map<number, Set<string>>, span: number): { from: number; to: number; dates: Set<string> }[] => {
    const hit = [...slots.entries()].filter(([, d]) => d.size >= minOccurrences).sort((a, b) => a[0] - b[0]);
    const out: { from: number; to: number; dates: Set<string> }[] = [];
    for (const [k, d] of hit) {
      const last = out.at(-1);
      if (last && k === last.to + 1 && Math.floor(k / span) === Math.floor(last.to / span)) {
        last.to = k;
        for (const x of d) last.dates.add(x);
      } else out.push({ from: k, to: k, dates: new Set(d) });
    }
    return out;
  };
  const weekly = merge(
    slotDates((h) => new Date(h).getUTCDay() * 24 + new Date(h).getUTCHours()),
    24,
  ).map((w): RecurringWindow => {
    const weekday = Math.floor(w.from / 24);
    const dates = [...w.dates].sort();
    return {
      kind: "weekly",
      weekday,
      fromHour: w.from % 24,
      toHour: w.to % 24,
      dates,
      text: `fails on ${WEEKDAYS[weekday]}s ${hh(w.from % 24)}–${hh((w.to % 24) + 1)} UTC (${dates.join(", ")})`,
    };
  });
  // A daily window must span more weekdays than a weekly one explains.
  const daily = merge(
    slotDates((h) => new Date(h).getUTCHours()),
    24,
  )
    .filter((w) => new Set([...w.dates].map((d) => new Date(d).getUTCDay())).size >= minOccurrences)
    .map((w): RecurringWindow => {
      const dates = [...w.dates].sort();
      return {
        kind: "daily",
        fromHour: w.from,
        toHour: w.to,
        dates,
        text: `fails daily around ${hh(w.from)}–${hh(w.to + 1)} UTC (${dates.join(", ")})`,
      };
    });
  return [...weekly, ...daily];
}

/** Incidents from transitions: a failing stretch from "not HEALTHY" until "HEALTHY" again. */
export function incidentsOf(transitions: Transition[], current: ZoneHistory["current"], from: number, to: number): Incident[] {
  const out: Incident[] = [];
  let open: Incident | undefined;
  const sorted = [...transitions].sort((a, b) => a.at - b.at);
  // The state before the first transition is its `from`.
  if (sorted[0] && sorted[0].from !== "HEALTHY")
    open = { start: Number.NEGATIVE_INFINITY, end: null, durationMs: 0, codes: [sorted[0].from] };
  for (const t of sorted) {
    if (t.to !== "HEALTHY") {
      if (!open) open = { start: t.at, end: null, durationMs: 0, codes: [t.to] };
      else if (open.codes.at(-1) !== t.to) open.codes.push(t.to);
    } else if (open) {
      open.end = t.at;
      out.push(open);
      open = undefined;
    }
  }
  if (!open && sorted.length === 0 && current && current.code !== "HEALTHY")
    open = { start: current.since, end: null, durationMs: 0, codes: [current.code] };
  if (open) out.push(open);
  return out
    .map((i) => {
      const start = Number.isFinite(i.start) ? i.start : Math.min(current?.since ?? from, from);
      return { ...i, start, durationMs: (i.end ?? to) - start };
    })
    .filter((i) => (i.end ?? to) >= from && i.start <= to);
}

export function buildZoneHistory(raw: ZoneRaw, from: number, to: number): ZoneHistory {
  const hours: HourAggregate[] = [];
  for (const [day, fields] of raw.days)
    for (const [h, v] of Object.entries(fields)) {
      const hour = day * DAY + Number(h) * HOUR;
      if (hour + HOUR > from && hour <= to) hours.push(parseAggregate(hour, v));
    }
  hours.sort((a, b) => a.hour - b.hour);
  const checks = hours.reduce((s, h) => s + h.checks, 0);
  const failures = hours.reduce((s, h) => s + h.failures, 0);
  let current: ZoneHistory["current"] = null;
  if (raw.state) {
    const [code, since, last] = raw.state.split("|");
    current = { code: code!, since: Number(since), lastCheck: Number(last), title: raw.latest?.report.verdict.title ?? "" };
  }
  const all = raw.transitions.map(parseTransition);
  return {
    zone: raw.zone,
    current,
    checks,
    failures,
    uptimePct: checks ? Math.round(((checks - failures) / checks) * 10_000) / 100 : null,
    hours,
    transitions: all.filter((t) => t.at >= from && t.at <= to),
    incidents: incidentsOf(all, current, from, to),
    recurring: recurringWindows(raw.failingHours),
  };
}

/** The zones a target has history in. */
async function zonesOf(redis: Redis, prefix: string, t: string): Promise<string[]> {
  return (await redis.hkeys(keys.history.state(prefix, t))).sort();
}

/**
 * The last `days` days (default 7) of a target, per zone. A handful of Redis round trips per
 * zone, independent of how many checks ran.
 */
export async function loadHistory(
  redis: Redis,
  prefix: string,
  host: string,
  port: number,
  opts: { now?: number; days?: number } = {},
): Promise<HistoryModel> {
  const to = opts.now ?? Date.now();
  const from = to - (opts.days ?? 7) * DAY;
  const t = targetKey(host, port);
  const zones = await zonesOf(redis, prefix, t);
  const firstDay = Math.floor(from / DAY);
  const lastDay = Math.floor(to / DAY);
  const p = redis.pipeline();
  p.hgetall(keys.history.state(prefix, t));
  p.hgetall(keys.history.latest(prefix, t));
  for (const z of zones) {
    for (let d = firstDay; d <= lastDay; d++) p.hgetall(keys.history.day(prefix, t, z, d));
    p.zrangebyscore(keys.history.transitions(prefix, t, z), from, to);
    p.zrevrangebyscore(keys.history.transitions(prefix, t, z), `(${from}`, "-inf", "LIMIT", 0, 1);
    p.zrangebyscore(keys.history.failingHours(prefix, t, z), "-inf", "+inf");
  }
  const res = (await p.exec()) ?? [];
  const val = (i: number) => {
    const [err, v] = res[i] ?? [];
    if (err) throw err;
    return v;
  };
  const state = val(0) as Record<string, string>;
  const latest = val(1) as Record<string, string>;
  let i = 2;
  const out: ZoneHistory[] = [];
  for (const z of zones) {
    const days = new Map<number, Record<string, string>>();
    for (let d = firstDay; d <= lastDay; d++) days.set(d, val(i++) as Record<string, string>);
    const inWindow = val(i++) as string[];
    const before = val(i++) as string[];
    const failing = (val(i++) as string[]).map(Number);
    out.push(
      buildZoneHistory(
        {
          zone: z,
          state: state[z] ?? null,
          latest: latest[z] ? (JSON.parse(latest[z]) as StoredResult) : null,
          days,
          transitions: [...before, ...inWindow],
          failingHours: failing,
        },
        from,
        to,
      ),
    );
  }
  return { target: t, from, to, zones: out };
}

const dur = (ms: number) => {
  const m = Math.round(ms / 60_000);
  if (m < 60) return `${Math.max(m, ms > 0 ? 1 : 0)} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
};
const when = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace("T", " ");

/** Plain-text rendering (CLI; Slack wraps it in a code block). */
export function historyText(m: HistoryModel): string {
  if (m.zones.length === 0) return `no history for ${m.target}\n`;
  const lines = [`${m.target}: ${when(m.from)} – ${when(m.to)} UTC`];
  for (const z of m.zones) {
    const cur = z.current ? `${z.current.code} since ${when(z.current.since)} (${dur(m.to - z.current.since)})` : "no result";
    lines.push(
      "",
      `zone ${z.zone}: now ${cur}`,
      `  uptime ${z.uptimePct === null ? "–" : `${z.uptimePct}%`} (${z.checks - z.failures}/${z.checks} checks healthy)`,
    );
    if (z.incidents.length === 0) lines.push("  incidents: none");
    else {
      lines.push(`  incidents: ${z.incidents.length}`);
      for (const i of z.incidents)
        lines.push(`  - ${when(i.start)} → ${i.end === null ? "ongoing" : when(i.end)}  ${dur(i.durationMs)}  ${i.codes.join(" → ")}`);
    }
    for (const r of z.recurring) lines.push(`  recurring: ${r.text}`);
  }
  return `${lines.join("\n")}\n`;
}
