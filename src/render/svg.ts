/**
 * Small helpers shared by the picture renderers (waterfall, timeline): XML-safe text, text
 * widths in DejaVu Sans (the font we ship, src/render/fonts/), axis ticks, durations.
 * The SVG is built as a string: no DOM, no browser, the same bytes for the same input.
 */
import { type FontMetrics, loadFontMetrics } from "./fontMetrics.js";
import { FONT_FILES } from "./raster.js";

/** One neutral look for both Slack themes: an opaque light card with a visible border. */
export const THEME = {
  background: "#f6f8fa",
  border: "#8c959f",
  text: "#1f2328",
  muted: "#57606a",
  grid: "#d0d7de",
  band: "#eaeef2",
  font: "DejaVu Sans",
  /** Body text size in px at 100 % (Slack previews show the PNG at 1:1 on click). */
  size: 13,
  small: 12,
  title: 16,
} as const;

/**
 * Text for an SVG text node or attribute. Server-supplied text (banners, replies) passes
 * through here: XML metacharacters are escaped, and characters XML 1.0 forbids (C0 controls,
 * lone surrogates, U+FFFE/FFFF) are dropped, so a hostile banner cannot break the document.
 */
export function xml(text: string): string {
  return text
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

let fonts: { regular?: FontMetrics; bold?: FontMetrics } | undefined;

/**
 * Width of `text` in px in DejaVu Sans: the advances from the shipped font files
 * (src/render/fontMetrics.ts), and for a character they lack (or when they cannot be read) an
 * estimate that errs on the wide side, so a fitted label never runs into the next column.
 */
export function textWidth(text: string, size: number, bold = false): number {
  fonts ??= { regular: loadFontMetrics(FONT_FILES[0]!), bold: loadFontMetrics(FONT_FILES[1]!) };
  const m = bold ? fonts.bold : fonts.regular;
  let em = 0;
  for (const ch of text) {
    const known = m?.advance(ch.codePointAt(0)!);
    if (known !== undefined) em += known;
    else if (" .,:;'|!il()[]{}".includes(ch)) em += 0.36 * (bold ? 1.1 : 1);
    else if ("fjrt-".includes(ch)) em += 0.44 * (bold ? 1.1 : 1);
    else if ("mwMW@%".includes(ch)) em += 0.95 * (bold ? 1.1 : 1);
    else if (/[A-Z]/.test(ch)) em += 0.74 * (bold ? 1.1 : 1);
    else em += 0.64 * (bold ? 1.1 : 1);
  }
  return em * size;
}

/** Cut text to at most `maxPx` wide, ending in "…" when cut. */
export function fit(text: string, size: number, maxPx: number, bold = false): string {
  if (maxPx <= 0) return "";
  if (textWidth(text, size, bold) <= maxPx) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (textWidth(`${chars.slice(0, mid).join("")}…`, size, bold) <= maxPx) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? "" : `${chars.slice(0, lo).join("").trimEnd()}…`;
}

/** 0.5 ms, 412 ms, 3.05 s, 1 min 5 s. */
export function fmtMs(ms: number): string {
  if (ms < 10 && !Number.isInteger(ms)) return `${ms.toFixed(1)} ms`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Round tick step (1, 2, 5 × 10^n) giving about `count` ticks up to `max`. */
export function tickStep(max: number, count: number): number {
  const raw = Math.max(max, 1) / Math.max(count, 1);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const n = raw / pow;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * pow;
}

/** A number for an SVG attribute: at most two decimals, no "-0". */
export function n(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

export function text(
  x: number,
  y: number,
  content: string,
  o: { size?: number; fill?: string; weight?: "bold"; anchor?: "start" | "middle" | "end"; italic?: boolean } = {},
): string {
  const attrs = [
    `x="${n(x)}"`,
    `y="${n(y)}"`,
    `font-size="${o.size ?? THEME.size}"`,
    `fill="${o.fill ?? THEME.text}"`,
    o.weight ? `font-weight="${o.weight}"` : "",
    o.anchor && o.anchor !== "start" ? `text-anchor="${o.anchor}"` : "",
    o.italic ? `font-style="italic"` : "",
  ].filter(Boolean);
  return `<text ${attrs.join(" ")}>${xml(content)}</text>`;
}

export function rect(
  x: number,
  y: number,
  w: number,
  h: number,
  o: { fill?: string; stroke?: string; strokeWidth?: number; dash?: string; rx?: number; opacity?: number } = {},
): string {
  const attrs = [
    `x="${n(x)}"`,
    `y="${n(y)}"`,
    `width="${n(Math.max(w, 0))}"`,
    `height="${n(Math.max(h, 0))}"`,
    `fill="${o.fill ?? "none"}"`,
    o.stroke ? `stroke="${o.stroke}" stroke-width="${o.strokeWidth ?? 1}"` : "",
    o.dash ? `stroke-dasharray="${o.dash}"` : "",
    o.rx ? `rx="${o.rx}"` : "",
    o.opacity !== undefined ? `fill-opacity="${o.opacity}"` : "",
  ].filter(Boolean);
  return `<rect ${attrs.join(" ")}/>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, o: { stroke?: string; width?: number; dash?: string } = {}): string {
  return (
    `<line x1="${n(x1)}" y1="${n(y1)}" x2="${n(x2)}" y2="${n(y2)}" stroke="${o.stroke ?? THEME.grid}" ` +
    `stroke-width="${o.width ?? 1}"${o.dash ? ` stroke-dasharray="${o.dash}"` : ""}/>`
  );
}

/** The document: a fixed-size canvas with an opaque background (no transparency for dark themes to show through). */
export function document(width: number, height: number, body: string[], title: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${THEME.font}">`,
    `<title>${xml(title)}</title>`,
    rect(0, 0, width, height, { fill: THEME.background }),
    rect(0.5, 0.5, width - 1, height - 1, { stroke: THEME.border }),
    ...body,
    "</svg>",
  ].join("\n");
}
