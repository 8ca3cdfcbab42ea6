/**
 * Hostile-peer plumbing: run the real CLI as a child (so a crash, a hang or a memory blow-up is
 * the child's and is measured, not the test runner's), and the servers that misbehave on purpose.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { CheckReport } from "../../src/check/run.js";
import { repoRoot } from "../harness/env.js";

const BIN = path.join(repoRoot, "bin", "ftp-doctor.js");
const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), "hwm-preload.js");

/** Peak RSS a CLI check may reach against any hostile peer (a bare `check` run is about 110 MB). */
export const MAX_HWM_KB = 150 * 1024;
/** …and at most this much above the same CLI checking a closed port (measured once per file). */
export const MAX_HWM_GROWTH_KB = 40 * 1024;

let baseline: Promise<number> | undefined;
/** Peak RSS of `ftp-doctor check 127.0.0.1:1 --json` (refused at once): the CLI's own footprint. */
export function baselineHwmKb(): Promise<number> {
  baseline ??= runCheckCli("127.0.0.1:1").then((r) => {
    rows.push({
      case: "baseline: closed port",
      code: r.report?.verdict.code ?? "?",
      checkMs: r.report?.durationMs ?? -1,
      wallMs: Math.round(r.wallMs),
      hwmMb: Math.round(r.hwmKb / 102.4) / 10,
    });
    return r.hwmKb;
  });
  return baseline;
}
/** Node start-up and exit around the check itself (loading every module takes ~0.6 s, more on a busy 2-core box). */
export const PROCESS_OVERHEAD_MS = 2_500;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Spawn to exit. */
  wallMs: number;
  /** Peak RSS of the child (VmHWM), kB; NaN when it could not be read. */
  hwmKb: number;
  /** Parsed `--json` output, when asked for and printed. */
  report?: CheckReport;
}

/** `ftp-doctor check <target> ...args` as a child process, with its peak memory. */
export async function runCheckCli(
  target: string,
  args: string[] = [],
  opts: { json?: boolean; env?: Record<string, string>; killAfterMs?: number } = {},
): Promise<CliRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "ftpd-hwm-"));
  const hwmFile = path.join(dir, "hwm");
  const json = opts.json ?? true;
  const argv = ["--import", PRELOAD, BIN, "check", target, ...args, ...(json ? ["--json"] : [])];
  const t0 = performance.now();
  const child = spawn(process.execPath, argv, {
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", FTPD_HWM_FILE: hwmFile, ...opts.env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  // A hung child must not hang the test: far past any budget, kill it (and the assertions say so).
  const killer = setTimeout(() => child.kill("SIGKILL"), opts.killAfterMs ?? 60_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on("close", (c, s) => resolve([c, s])),
  );
  clearTimeout(killer);
  const wallMs = performance.now() - t0;
  let hwmKb = Number.NaN;
  try {
    hwmKb = Number(readFileSync(hwmFile, "utf8")) || Number.NaN;
  } catch {
    // killed before its exit hook ran
  }
  rmSync(dir, { recursive: true, force: true });
  let report: CheckReport | undefined;
  if (json && stdout.trim().startsWith("{")) report = JSON.parse(stdout) as CheckReport;
  return { code, signal, stdout, stderr, wallMs, hwmKb, ...(report ? { report } : {}) };
}

export interface HostileRow {
  case: string;
  code: string;
  checkMs: number;
  wallMs: number;
  hwmMb: number;
}

const rows: HostileRow[] = [];
/** The rows asserted so far (printed as a table by each file's `after`). */
export function hostileRows(): HostileRow[] {
  return rows;
}

/**
 * The common contract for every hostile peer: the process ends on its own with exit 1 (a fault),
 * prints no stack trace, names the expected code, ends within the budget (+1 s; process start-up
 * on top), and its peak memory stays bounded.
 */
export async function expectContained(name: string, run: CliRun, expected: string, budgetMs: number): Promise<CheckReport> {
  const why = `${name}: exit ${run.code} signal ${run.signal}\nstderr: ${run.stderr.slice(0, 2000)}\nstdout: ${run.stdout.slice(0, 2000)}`;
  assert.equal(run.signal, null, `killed: ${why}`);
  assert.equal(run.code, 1, why);
  assert.ok(!/\n\s+at .+:\d+:\d+\)?/.test(run.stderr + run.stdout), `stack trace printed: ${why}`);
  const report = run.report;
  assert.ok(report, `no JSON report: ${why}`);
  const transcript = report.transcript.map((l) => `${l.t} ${l.conn} ${l.dir} ${l.text}`).join("\n");
  assert.equal(
    report.verdict.code,
    expected,
    `${name}: expected ${expected}, got ${report.verdict.code}: ${report.verdict.title}\n${report.verdict.evidence.join("\n")}\n${transcript}`,
  );
  assert.ok(report.durationMs <= budgetMs + 1000, `${name}: the check took ${report.durationMs} ms, budget ${budgetMs} ms`);
  assert.ok(
    run.wallMs <= budgetMs + 1000 + PROCESS_OVERHEAD_MS,
    `${name}: the process took ${Math.round(run.wallMs)} ms (check ${report.durationMs} ms), budget ${budgetMs} ms`,
  );
  assert.ok(Number.isFinite(run.hwmKb), `${name}: peak memory not recorded`);
  assert.ok(run.hwmKb < MAX_HWM_KB, `${name}: peak RSS ${(run.hwmKb / 1024).toFixed(1)} MB ≥ ${MAX_HWM_KB / 1024} MB`);
  const base = await baselineHwmKb();
  assert.ok(
    run.hwmKb - base < MAX_HWM_GROWTH_KB,
    `${name}: peak RSS ${(run.hwmKb / 1024).toFixed(1)} MB, ${((run.hwmKb - base) / 1024).toFixed(1)} MB above the closed-port baseline`,
  );
  rows.push({
    case: name,
    code: report.verdict.code,
    checkMs: report.durationMs,
    wallMs: Math.round(run.wallMs),
    hwmMb: Math.round(run.hwmKb / 102.4) / 10,
  });
  return report;
}

export function printRows(title: string): void {
  if (rows.length === 0) return;
  const lines = [`# ${title}`, "# | case | verdict | check ms | process ms | peak RSS MB |", "# |---|---|---|---|---|"];
  for (const r of rows) lines.push(`# | ${r.case} | ${r.code} | ${r.checkMs} | ${r.wallMs} | ${r.hwmMb} |`);
  console.log(lines.join("\n"));
}

/** A listener that must never be connected to (a third host named by a hostile PASV reply). */
export async function trapListener(
  host: string,
  port = 0,
): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let n = 0;
  const srv = net.createServer((s) => {
    n++;
    s.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    srv.once("error", reject);
    srv.listen({ host, port, exclusive: true }, () => resolve());
  });
  return {
    port: (srv.address() as net.AddressInfo).port,
    connections: () => n,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

/** Every C0 control except LF (and TAB), DEL, every C1 control. */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
