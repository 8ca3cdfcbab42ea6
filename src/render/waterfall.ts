import type { CheckReport } from "../check/run.js";
import { document, fit, fmtMs, line, rect, text, textWidth, THEME, tickStep } from "./svg.js";

/**
 * The check as a waterfall (issue 15): a row per step and side probe on one time axis,
 * coloured by status, the failing step marked with the verdict, the control round-trip time
 * and the total on the axis, and a dashed line where a timed-out step hit its deadline.
 */
export type WaterfallInput = Pick<CheckReport, "target" | "startedAt" | "durationMs" | "verdict" | "steps" | "peer" | "zone">;
type Step = WaterfallInput["steps"][number];

export const STATUS_COLOURS = {
  ok: "#2da44e",
  warn: "#bf8700",
  fail: "#cf222e",
  timeout: "#bc4c00",
  skip: "#8c959f",
} as const;
type Look = keyof typeof STATUS_COLOURS;

const W = 960;
const PAD = 16;
const LABEL_W = 150;
const X0 = PAD + LABEL_W;
const X1 = W - PAD - 8;
const ROW = 24;
const BAR = 14;
/** More rows than any real check has (about 15): a report beyond it is cut, with a row saying so. */
const MAX_ROWS = 60;

/** The verdict layer names the step where the main path broke. */
const LAYER_STEPS: Record<string, string[]> = {
  dns: ["resolve"],
  tcp: ["connect"],
  greeting: ["greeting"],
  tls: ["tls"],
  auth: ["login"],
  data: ["data", "write", "active"],
  server: ["session", "login", "write", "idle", "data"],
};

/**
 * Timed out: the engine's step detail says so ("connect timeout", "no greeting within 2000 ms",
 * "TLS handshake stalled"). The step ended at its deadline, so the deadline is its end.
 */
export function timedOut(s: Step): boolean {
  return s.status === "fail" && /\btime(d)?[ -]?out\b|\bwithin \d+ ms\b|\bstalled\b|\bno (reply|progress|answer)\b/i.test(s.detail);
}

function look(s: Step): Look {
  if (timedOut(s)) return "timeout";
  return s.status;
}

/** The step the verdict is about: the first failing main-path step of the verdict's layer. */
export function failingStep(r: WaterfallInput): Step | undefined {
  if (r.verdict.code === "HEALTHY") return undefined;
  const main = r.steps.filter((s) => s.id !== "side");
  const layer = LAYER_STEPS[r.verdict.layer] ?? [];
  return (
    main.find((s) => s.status === "fail" && layer.includes(s.id)) ??
    main.find((s) => s.status === "fail") ??
    main.find((s) => s.status === "warn" && layer.includes(s.id)) ??
    main.filter((s) => s.id !== "quit").at(-1)
  );
}

/** Side probes have one step id; their detail says which one it was. */
function sideLabel(detail: string): string {
  if (/^(ports?|open:)/i.test(detail)) return "other ports";
  if (/legacy/i.test(detail)) return "legacy TLS";
  if (/plain session/i.test(detail)) return "plain FTP";
  if (/TLS/i.test(detail)) return "implicit TLS";
  return "side probe";
}

export function waterfallSvg(r: WaterfallInput): string {
  const byStart = (a: Step, b: Step) => a.startMs - b.startMs;
  const main = r.steps.filter((s) => s.id !== "side").sort(byStart);
  const side = r.steps.filter((s) => s.id === "side").sort(byStart);
  const failing = failingStep(r);
  const shownMain = main.slice(0, MAX_ROWS);
  const shownSide = side.slice(0, Math.max(0, MAX_ROWS - shownMain.length));
  const hidden = main.length + side.length - shownMain.length - shownSide.length;

  const end = Math.max(r.durationMs, ...r.steps.map((s) => s.startMs + s.durationMs), 1);
  const step = tickStep(end, 8);
  const axisMax = Math.ceil(end / step) * step;
  const x = (ms: number) => X0 + (Math.min(Math.max(ms, 0), axisMax) / axisMax) * (X1 - X0);

  const out: string[] = [];
  // Header: target, verdict, when and where.
  const healthy = r.verdict.code === "HEALTHY";
  const where = `${r.target.host}:${r.target.port}`;
  out.push(text(PAD, 28, fit(where, THEME.title, 420, true), { size: THEME.title, weight: "bold" }));
  const verdictX = PAD + Math.min(textWidth(where, THEME.title, true), 420) + 14;
  out.push(rect(verdictX, 15, 12, 12, { fill: healthy ? STATUS_COLOURS.ok : STATUS_COLOURS.fail, rx: 6 }));
  out.push(
    text(verdictX + 18, 27, fit(`${r.verdict.code} — ${r.verdict.title}`, THEME.size, X1 - verdictX - 18, true), {
      weight: "bold",
      fill: healthy ? THEME.text : STATUS_COLOURS.fail,
    }),
  );
  const meta = [
    r.startedAt.replace("T", " ").replace(/\.\d+Z$|Z$/, " UTC"),
    r.zone ? `zone ${r.zone}` : undefined,
    `TLS ${r.target.tls}`,
    `total ${fmtMs(r.durationMs)}`,
    r.peer ? `control RTT ${fmtMs(r.peer.rttMs)} (${r.peer.address})` : undefined,
  ].filter(Boolean);
  out.push(text(PAD, 50, fit(meta.join(" · "), THEME.size, X1 - PAD), { fill: THEME.muted }));

  // A band above the chart for the deadline labels, one line per timed-out step.
  const timeouts = [...shownMain, ...shownSide].filter((s) => look(s) === "timeout");
  let y = 62 + timeouts.length * 15;
  const chartTop = y;
  const rows: { s: Step; label: string; side: boolean }[] = [
    ...shownMain.map((s) => ({ s, label: s.id, side: false })),
    ...shownSide.map((s) => ({ s, label: sideLabel(s.detail), side: true })),
  ];
  // Grid first, so bars draw over it.
  const gridAt = out.length;
  let sideHeaderDone = false;
  rows.forEach((row, i) => {
    if (row.side && !sideHeaderDone) {
      sideHeaderDone = true;
      y += 4;
      out.push(text(PAD + 4, y + 14, "side probes (parallel connections)", { size: THEME.small, fill: THEME.muted, italic: true }));
      y += 20;
    }
    const s = row.s;
    if (i % 2 === 0) out.push(rect(PAD, y, W - 2 * PAD, ROW, { fill: THEME.band }));
    out.push(text(PAD + (row.side ? 16 : 6), y + 16, fit(row.label, THEME.size, LABEL_W - 24), { fill: THEME.text }));
    const lk = look(s);
    const bx = x(s.startMs);
    const bw = Math.max(x(s.startMs + s.durationMs) - bx, 3);
    const by = y + (ROW - BAR) / 2;
    if (lk === "skip") out.push(rect(bx, by, Math.max(bw, 6), BAR, { fill: THEME.background, stroke: STATUS_COLOURS.skip, dash: "3 2" }));
    else out.push(rect(bx, by, bw, BAR, { fill: STATUS_COLOURS[lk], rx: 2 }));
    if (s === failing) out.push(rect(bx - 3, by - 3, bw + 6, BAR + 6, { stroke: STATUS_COLOURS.fail, strokeWidth: 2, rx: 3 }));
    const word = lk === "ok" ? "" : lk === "timeout" ? " timed out" : lk === "fail" ? " failed" : lk === "warn" ? " warning" : " skipped";
    const label = `${fmtMs(s.durationMs)}${word} · ${s.detail}`;
    const after = bx + bw + (s === failing ? 8 : 5);
    const room = X1 - after;
    // The label goes where there is most room: after the bar, inside a long bar, or before it.
    const before = bx - X0 - 10;
    if (room >= 240 || (room >= before && room >= bw - 12))
      out.push(text(after, y + 16, fit(label, THEME.small, room), { size: THEME.small }));
    else if (bw - 12 >= before && lk !== "skip")
      out.push(text(bx + 6, y + 16, fit(label, THEME.small, bw - 12), { size: THEME.small, fill: "#ffffff", weight: "bold" }));
    else out.push(text(bx - 6, y + 16, fit(label, THEME.small, before), { size: THEME.small, anchor: "end" }));
    y += ROW;
    if (s === failing) {
      // The verdict, under the step it is about, starting at the bar (pulled left when it would not fit).
      const callout = `▲ ${r.verdict.code} — ${r.verdict.title}`;
      const width = Math.min(textWidth(callout, THEME.size, true) + 12, X1 - X0);
      const cx = Math.max(X0, Math.min(bx - 3, X1 - width));
      out.push(rect(cx, y + 1, width, 20, { fill: "#ffebe9", stroke: STATUS_COLOURS.fail, rx: 3 }));
      out.push(text(cx + 6, y + 16, fit(callout, THEME.size, width - 12, true), { weight: "bold", fill: STATUS_COLOURS.fail }));
      y += 24;
    }
  });
  if (hidden > 0) {
    out.push(text(PAD + 6, y + 16, `… ${hidden} more steps not shown`, { size: THEME.small, fill: THEME.muted, italic: true }));
    y += ROW;
  }
  const chartBottom = y + 4;

  // Axis: ticks, the total, the control round-trip time.
  const grid: string[] = [];
  for (let t = 0; t <= axisMax + 1e-9; t += step) {
    grid.push(line(x(t), chartTop, x(t), chartBottom, { stroke: THEME.grid }));
    grid.push(text(x(t), chartBottom + 16, fmtMs(t), { size: THEME.small, fill: THEME.muted, anchor: "middle" }));
  }
  grid.push(line(X0, chartBottom, X1, chartBottom, { stroke: THEME.muted }));
  timeouts.forEach((s, i) => {
    const dx = x(s.startMs + s.durationMs);
    const ly = 60 + (i + 1) * 15 - 3;
    grid.push(line(dx, ly + 3, dx, chartBottom, { stroke: STATUS_COLOURS.timeout, width: 1.5, dash: "6 4" }));
    const label = `${s.id === "side" ? sideLabel(s.detail) : s.id} hit its deadline after ${fmtMs(s.durationMs)}`;
    const anchorEnd = dx + 4 + textWidth(label, THEME.small) > X1;
    out.push(
      text(anchorEnd ? dx - 4 : dx + 4, ly, label, {
        size: THEME.small,
        fill: STATUS_COLOURS.timeout,
        anchor: anchorEnd ? "end" : "start",
      }),
    );
  });
  out.splice(gridAt, 0, ...grid);

  const totalX = x(r.durationMs);
  out.push(line(totalX, chartTop, totalX, chartBottom + 22, { stroke: THEME.text, width: 1.5 }));
  const totalLabel = `total ${fmtMs(r.durationMs)}`;
  const tw = textWidth(totalLabel, THEME.small, true);
  out.push(
    text(Math.min(totalX + 4, X1 - tw), chartBottom + 34, totalLabel, {
      size: THEME.small,
      weight: "bold",
      anchor: "start",
    }),
  );
  if (r.peer) {
    const rx = Math.max(x(r.peer.rttMs) - X0, 2);
    out.push(rect(X0, chartBottom - 3, rx, 6, { fill: "#0969da" }));
    out.push(
      text(X0, chartBottom + 34, `control RTT ${fmtMs(r.peer.rttMs)}`, {
        size: THEME.small,
        fill: "#0969da",
        weight: "bold",
      }),
    );
  }
  // Legend.
  let lx = PAD;
  const ly = chartBottom + 52;
  const legend: [Look, string][] = [
    ["ok", "ok"],
    ["warn", "warning"],
    ["fail", "failed"],
    ["timeout", "timed out"],
    ["skip", "skipped"],
  ];
  for (const [k, label] of legend) {
    out.push(
      k === "skip"
        ? rect(lx, ly - 10, 18, 10, { fill: THEME.background, stroke: STATUS_COLOURS.skip, dash: "3 2" })
        : rect(lx, ly - 10, 18, 10, { fill: STATUS_COLOURS[k], rx: 2 }),
    );
    out.push(text(lx + 24, ly, label, { size: THEME.small, fill: THEME.muted }));
    lx += 24 + textWidth(label, THEME.small) + 18;
  }
  out.push(line(lx, ly - 5, lx + 22, ly - 5, { stroke: STATUS_COLOURS.timeout, width: 1.5, dash: "6 4" }));
  out.push(text(lx + 28, ly, "deadline hit", { size: THEME.small, fill: THEME.muted }));
  out.push(text(X1, ly, "ftp-doctor", { size: THEME.small, fill: THEME.muted, anchor: "end" }));

  return document(W, ly + 14, out, `ftp-doctor waterfall: ${where} ${r.verdict.code}`);
}
