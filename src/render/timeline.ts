import { document, fit, fmtMs, line, rect, text, textWidth, THEME } from "./svg.js";

/**
 * A target's last days as a timeline (issue 15): a strip per zone coloured by verdict,
 * incidents outlined, recurring windows highlighted. The input is this plain shape, not the
 * history storage: src/queue/timeline.ts adapts today's stored results to it.
 */
export interface TimelineInput {
  /** What the picture is about, e.g. "ftp.example.com:21". */
  target: string;
  /** The range shown, epoch milliseconds. */
  from: number;
  to: number;
  zones: TimelineZone[];
  recurring: RecurringWindow[];
}

export interface TimelineZone {
  zone: string;
  /** What the checks said, in time order; gaps between segments are "no data". */
  segments: { from: number; to: number; code: string }[];
  /** Incidents; `to` absent while one is still open. */
  incidents: { from: number; to?: number }[];
  /** Healthy share of checks in %, as the history text states it; absent: computed from the segments' time. */
  uptimePct?: number | null;
}

/** Failures that cluster at the same time of day or week: each occurrence in range is highlighted. */
export interface RecurringWindow {
  /** The zone it was seen in; absent: every zone. */
  zone?: string;
  /** Said in words, with the dates: "fails daily around 15:00–16:00 UTC (2026-11-23, …)". */
  label: string;
  occurrences: { from: number; to: number }[];
}

const HEALTHY = "#2da44e";
/** Fault colours, handed out in code order so a code keeps its colour within a picture. */
const PALETTE = [
  "#cf222e",
  "#bc4c00",
  "#8250df",
  "#0969da",
  "#bf3989",
  "#1b7c83",
  "#953800",
  "#4d2d00",
  "#54aeff",
  "#ff8182",
  "#c297ff",
  "#fb8f44",
];
const RECURRING = "#d4a72c";
const NO_DATA = "#d8dee4";

const W = 960;
const PAD = 16;
const LABEL_W = 130;
const X0 = PAD + LABEL_W;
const X1 = W - PAD - 4;
const STRIP = 26;
const ZONE_GAP = 22;
const MAX_ZONES = 12;
const DAY = 86_400_000;

export function codeColours(input: TimelineInput): Map<string, string> {
  const codes = [...new Set(input.zones.flatMap((z) => z.segments.map((s) => s.code)))].filter((c) => c !== "HEALTHY").sort();
  return new Map<string, string>([["HEALTHY", HEALTHY], ...codes.map((c, i): [string, string] => [c, PALETTE[i % PALETTE.length]!])]);
}

/** Healthy share of the time that has data, per zone. */
export function uptime(z: TimelineZone): number | undefined {
  let total = 0;
  let ok = 0;
  for (const s of z.segments) {
    const d = Math.max(0, s.to - s.from);
    total += d;
    if (s.code === "HEALTHY") ok += d;
  }
  return total > 0 ? ok / total : undefined;
}

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const dayLabel = (t: number) => {
  const d = new Date(t);
  return `${DAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
};
const stamp = (t: number) => new Date(t).toISOString().slice(0, 16).replace("T", " ");

export function timelineSvg(input: TimelineInput): string {
  const span = Math.max(input.to - input.from, 60_000);
  const x = (t: number) => X0 + ((Math.min(Math.max(t, input.from), input.to) - input.from) / span) * (X1 - X0);
  const colours = codeColours(input);
  const zones = input.zones.slice(0, MAX_ZONES);
  const out: string[] = [];

  out.push(text(PAD, 28, fit(input.target, THEME.title, 460, true), { size: THEME.title, weight: "bold" }));
  const hx = PAD + Math.min(textWidth(input.target, THEME.title, true), 460) + 12;
  out.push(text(hx, 27, `last ${Math.round(span / DAY)} days`, { weight: "bold", fill: THEME.muted }));
  out.push(text(PAD, 50, `${stamp(input.from)} → ${stamp(input.to)} UTC · one strip per zone, coloured by verdict`, { fill: THEME.muted }));

  // Day columns and 6-hour ticks.
  const top = 80;
  const bottom = top + Math.max(zones.length, 1) * (STRIP + ZONE_GAP) - ZONE_GAP + 8;
  const firstDay = Math.ceil(input.from / DAY) * DAY;
  for (let t = Math.ceil(input.from / (DAY / 4)) * (DAY / 4); t <= input.to; t += DAY / 4) {
    const midnight = t % DAY === 0;
    out.push(
      line(x(t), top - (midnight ? 14 : 4), x(t), bottom, { stroke: midnight ? THEME.muted : THEME.grid, width: midnight ? 1 : 0.8 }),
    );
  }
  for (let d = firstDay - DAY; d < input.to; d += DAY) {
    const a = Math.max(d, input.from);
    const b = Math.min(d + DAY, input.to);
    if (x(b) - x(a) < 70) continue;
    out.push(text((x(a) + x(b)) / 2, top - 8, dayLabel(d), { size: THEME.small, anchor: "middle", fill: THEME.text }));
  }

  zones.forEach((z, i) => {
    const y = top + i * (STRIP + ZONE_GAP);
    const up = uptime(z);
    const upText =
      z.uptimePct != null
        ? `${z.uptimePct} % healthy`
        : up === undefined
          ? "no data"
          : `${(Math.floor(up * 1000) / 10).toFixed(1)} % healthy`;
    out.push(text(PAD + 4, y + 12, fit(z.zone, THEME.size, LABEL_W - 12, true), { weight: "bold" }));
    out.push(
      text(PAD + 4, y + 27, upText, {
        size: THEME.small,
        fill: THEME.muted,
      }),
    );
    out.push(rect(X0, y, X1 - X0, STRIP, { fill: NO_DATA }));
    // Recurring windows behind the strip's faults, above and below it, so they show on any colour.
    for (const w of input.recurring.filter((w) => !w.zone || w.zone === z.zone))
      for (const o of w.occurrences) {
        const ox = x(o.from);
        const ow = Math.max(x(o.to) - ox, 3);
        out.push(rect(ox, y - 6, ow, STRIP + 12, { fill: RECURRING, opacity: 0.45 }));
      }
    // Healthy first, faults over it with a minimum width: a 5-minute outage in a week is under a pixel.
    for (const s of z.segments.filter((s) => s.code === "HEALTHY"))
      out.push(rect(x(s.from), y + 3, Math.max(x(s.to) - x(s.from), 0.5), STRIP - 6, { fill: HEALTHY }));
    for (const s of z.segments.filter((s) => s.code !== "HEALTHY"))
      out.push(rect(x(s.from), y + 3, Math.max(x(s.to) - x(s.from), 2), STRIP - 6, { fill: colours.get(s.code) ?? PALETTE[0] }));
    for (const inc of z.incidents) {
      const ix = x(inc.from);
      const iw = Math.max(x(inc.to ?? input.to) - ix, 4);
      out.push(rect(ix - 1, y, iw + 2, STRIP, { stroke: THEME.text, strokeWidth: 2, ...(inc.to === undefined ? { dash: "5 3" } : {}) }));
    }
  });
  if (input.zones.length === 0)
    out.push(text((X0 + X1) / 2, top + 18, "no stored results in this range", { anchor: "middle", fill: THEME.muted }));
  if (input.zones.length > MAX_ZONES)
    out.push(text(PAD, bottom + 14, `… ${input.zones.length - MAX_ZONES} more zones not shown`, { size: THEME.small, fill: THEME.muted }));

  // Legend: verdict colours with the time spent in each, incidents, recurring windows.
  let y = bottom + 34;
  const time = new Map<string, number>();
  for (const z of zones) for (const s of z.segments) time.set(s.code, (time.get(s.code) ?? 0) + Math.max(0, s.to - s.from));
  let lx = PAD;
  const items: [string, string, string][] = [...colours]
    .filter(([c]) => time.has(c))
    .map(([c, col]) => [c, col, durationWords(time.get(c)!)]);
  for (const [code, col, dur] of items) {
    const label = `${code} ${dur}`;
    const w = 22 + textWidth(label, THEME.small) + 16;
    if (lx + w > X1) {
      lx = PAD;
      y += 20;
    }
    out.push(rect(lx, y - 10, 16, 11, { fill: col, rx: 2 }));
    out.push(text(lx + 22, y, label, { size: THEME.small }));
    lx += w;
  }
  y += 22;
  out.push(rect(PAD, y - 11, 22, 12, { stroke: THEME.text, strokeWidth: 2 }));
  out.push(text(PAD + 28, y, "incident (dashed: still open)", { size: THEME.small, fill: THEME.muted }));
  out.push(rect(PAD + 250, y - 11, 22, 12, { fill: NO_DATA }));
  out.push(text(PAD + 278, y, "no data", { size: THEME.small, fill: THEME.muted }));
  const incidents = zones.reduce((a, z) => a + z.incidents.length, 0);
  out.push(
    text(X1, y, `${incidents} incident${incidents === 1 ? "" : "s"} · ftp-doctor`, { size: THEME.small, fill: THEME.muted, anchor: "end" }),
  );
  for (const w of input.recurring.slice(0, 6)) {
    y += 20;
    out.push(rect(PAD, y - 11, 22, 12, { fill: RECURRING, opacity: 0.45 }));
    out.push(
      text(PAD + 28, y, fit(`recurring${w.zone ? ` in ${w.zone}` : ""}: ${w.label}`, THEME.small, X1 - PAD - 28), {
        size: THEME.small,
      }),
    );
  }
  return document(W, y + 14, out, `ftp-doctor timeline: ${input.target}`);
}

function durationWords(ms: number): string {
  if (ms < 3_600_000) return fmtMs(ms).replace(/ \d+ s$/, "");
  const h = ms / 3_600_000;
  return h < 48 ? `${h.toFixed(h < 10 ? 1 : 0)} h` : `${(h / 24).toFixed(1)} d`;
}
