import type { CheckReport } from "../check/run.js";
import type { StepRecord } from "../probe/types.js";

export interface TextStyle {
  color: boolean;
  width: number;
}

const CODES = { red: 31, green: 32, yellow: 33, cyan: 36, dim: 2, bold: 1 } as const;

function paint(style: TextStyle, c: keyof typeof CODES, s: string): string {
  return style.color ? `\x1b[${CODES[c]}m${s}\x1b[0m` : s;
}

/** Greedy word wrap; long unbreakable tokens (URLs, fingerprints) are hard-split. */
export function wrap(text: string, width: number, indent = ""): string[] {
  const out: string[] = [];
  const max = Math.max(20, width - indent.length);
  for (const para of text.split("\n")) {
    let line = "";
    for (let word of para.split(/\s+/).filter(Boolean)) {
      while (word.length > max) {
        if (line) {
          out.push(indent + line);
          line = "";
        }
        out.push(indent + word.slice(0, max));
        word = word.slice(max);
      }
      if (!line) line = word;
      else if (line.length + 1 + word.length <= max) line += ` ${word}`;
      else {
        out.push(indent + line);
        line = word;
      }
    }
    out.push(indent + line);
  }
  return out;
}

const STEP_MARK: Record<StepRecord["status"], string> = { ok: "✓", warn: "!", fail: "✗", skip: "-" };
const STEP_COLOR: Record<StepRecord["status"], keyof typeof CODES> = { ok: "green", warn: "yellow", fail: "red", skip: "dim" };

/** One live progress line (written while the check runs, on a TTY). */
export function progressLine(step: Pick<StepRecord, "id" | "status" | "durationMs" | "detail">, style: TextStyle): string {
  const head = `  ${paint(style, STEP_COLOR[step.status], STEP_MARK[step.status])} ${step.id.padEnd(8)} ${String(step.durationMs).padStart(5)} ms  `;
  const room = Math.max(10, style.width - 25);
  const text = oneDuration(step.detail);
  const detail = text.length > room ? `${text.slice(0, room - 1)}…` : text;
  return head + detail;
}

/**
 * A detail that carries its own time ("TLSv1.3 … in 71 ms") beside the step's column (101 ms: the
 * handshake plus checking the chain) showed two durations; the column stays. Several sub-times
 * (upload and download) are kept: they say something the column does not.
 */
function oneDuration(detail: string): string {
  const own = / in \d+(?:\.\d+)? ms\b/g;
  return (detail.match(own) ?? []).length === 1 ? detail.replace(own, "") : detail;
}

export function renderText(report: CheckReport, style: TextStyle, opts: { showSteps?: boolean } = {}): string {
  const w = style.width;
  const v = report.verdict;
  const healthy = v.code === "HEALTHY";
  const lines: string[] = [];
  const mark = healthy ? paint(style, "green", "✔") : paint(style, "red", "✖");
  const code = paint(style, "bold", healthy ? paint(style, "green", v.code) : paint(style, "red", v.code));
  lines.push(`${mark} ${code}`);
  lines.push(...wrap(v.title, w, "  ").map((l) => paint(style, "bold", l)));
  const meta = [
    `${report.target.host}:${report.target.port}`,
    `tls ${report.target.tls}`,
    report.server.software !== "unknown"
      ? `${report.server.software}${report.server.version ? ` ${report.server.version}` : ""}`
      : undefined,
    v.layer !== "none" ? `layer ${v.layer}` : undefined,
    `${(report.durationMs / 1000).toFixed(2)} s`,
    report.zone ? `zone ${report.zone}` : undefined,
  ].filter(Boolean);
  lines.push(...wrap(meta.join(" · "), w, "  ").map((l) => paint(style, "dim", l)));
  lines.push("");
  lines.push(...wrap(v.explanation, w, "  "));
  if (report.summary) {
    lines.push("", paint(style, "cyan", "Summary"), ...wrap(report.summary.text, w, "  "));
  }
  if (v.evidence.length) {
    lines.push("", paint(style, "cyan", "Evidence"));
    for (const e of v.evidence) lines.push(...bullet(e, "•", w));
  }
  if (!healthy && v.remediation.length) {
    lines.push("", paint(style, "cyan", "Fix"));
    for (const [i, r] of v.remediation.entries()) lines.push(...bullet(r, `${i + 1}.`, w));
    if (v.perServer?.length) {
      lines.push(...wrap("Depending on the server software (do the one that applies):", w, "  "));
      for (const p of v.perServer) lines.push(...bullet(`${p.software}: ${p.steps.join(" ")}`, "•", w));
    }
  }
  if (report.secondary.length) {
    lines.push("", paint(style, "cyan", "Also found"));
    for (const s of report.secondary) lines.push(...bullet(`${s.code}: ${s.title}`, "•", w));
  }
  if (report.findings.length) {
    lines.push("", paint(style, "cyan", "Findings"));
    for (const f of report.findings)
      lines.push(
        ...bullet(
          `${f.code} (${f.severity}): ${f.message}`,
          f.severity === "high" ? paint(style, "red", "!") : paint(style, "yellow", "!"),
          w,
        ),
      );
  }
  if (report.scope.length) {
    lines.push("", paint(style, "cyan", "Not covered"));
    for (const s of report.scope) lines.push(...bullet(s, "-", w));
  }
  if (opts.showSteps) {
    lines.push("", paint(style, "cyan", "Steps"));
    for (const s of report.steps) lines.push(progressLine(s, style));
  }
  return `${lines.join("\n")}\n`;
}

function bullet(text: string, mark: string, width: number): string[] {
  const [first, ...rest] = wrap(text, width, "     ");
  return [`  ${mark} ${first!.trimStart()}`, ...rest];
}
