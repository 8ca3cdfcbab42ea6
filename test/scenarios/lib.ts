/**
 * Scenario plumbing: run the real check (probe → fault tree → report) against a real server,
 * assert the exact verdict code and the time budget, and keep a table row for the note.
 */
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, writeFileSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCheck, type CheckReport } from "../../src/check/run.js";
import { CheckOptionsInput, toCheckOptions } from "../../src/check/options.js";
import type { RootCauseCode, FindingCode } from "../../src/diagnosis/codes.js";
import type { Observations } from "../../src/probe/types.js";
import { forgetReuseAnswers } from "../../src/probe/reuseMemory.js";
import { parseTarget } from "../../src/target/parse.js";
import { repoRoot } from "../harness/env.js";

export interface ScenarioResult {
  report: CheckReport;
  observations: Observations;
  wallMs: number;
}

let caDir: string | undefined;
/** Write PEM text to a temp file (for --ca). */
export function pemFile(name: string, pem: string): string {
  caDir ??= mkdtempSync(path.join(os.tmpdir(), "ftpd-ca-"));
  const f = path.join(caDir, name);
  writeFileSync(f, pem);
  return f;
}

export async function check(target: string, opts: Record<string, unknown> = {}, password?: string): Promise<ScenarioResult> {
  // Every scenario asks afresh: a server started on a port an earlier one used must not inherit its answer.
  forgetReuseAnswers();
  const options = toCheckOptions(CheckOptionsInput.parse(opts));
  const t0 = performance.now();
  const { report, observations } = await runCheck(parseTarget(target), options, password !== undefined ? { password } : {});
  return { report, observations, wallMs: performance.now() - t0 };
}

/**
 * Assert the verdict, and that the check stayed inside its budget (+1 s); record a row for the
 * scenario table (FTP_DOCTOR_SCENARIO_LOG) and, with FTP_DOCTOR_RECORD_FIXTURES=1, the
 * observations as a fixture for the fault-tree unit tests.
 */
export function expectVerdict(
  scenario: string,
  daemon: string,
  result: ScenarioResult,
  expected: RootCauseCode,
  more: { findings?: FindingCode[]; budgetMs?: number } = {},
): void {
  const { report, wallMs } = result;
  const observed = report.verdict.code;
  const log = process.env.FTP_DOCTOR_SCENARIO_LOG;
  if (log)
    appendFileSync(
      log,
      `${JSON.stringify({ scenario, daemon, expected, observed, ms: Math.round(wallMs), findings: report.findings.map((f) => f.code) })}\n`,
    );
  if (process.env.FTP_DOCTOR_RECORD_FIXTURES && observed === expected) {
    const dir = path.join(repoRoot, "test", "fixtures", "observations");
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${scenario.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.json`);
    writeFileSync(file, `${JSON.stringify({ expected, at: report.startedAt, observations: result.observations }, null, 1)}\n`);
  }
  assert.equal(
    observed,
    expected,
    `${scenario}: expected ${expected}, got ${observed}: ${report.verdict.title}\n` +
      `${report.verdict.evidence.join("\n")}\n` +
      `${report.transcript.map((l) => `${l.t} ${l.conn} ${l.dir} ${l.text}`).join("\n")}`,
  );
  const budget = more.budgetMs ?? result.observations.budgetMs;
  assert.ok(wallMs <= budget + 1000, `${scenario}: took ${Math.round(wallMs)} ms, budget ${budget} ms`);
  for (const f of more.findings ?? []) {
    assert.ok(
      report.findings.some((x) => x.code === f),
      `${scenario}: expected finding ${f}, got ${report.findings.map((x) => x.code).join(", ") || "none"}`,
    );
  }
  // Redaction: no transcript line carries a password.
  for (const l of report.transcript) assert.ok(!/^PASS (?!\*\*\*\*)/.test(l.text), `unredacted PASS in transcript: ${l.text}`);
}

/**
 * Runs `run` up to `times` times and returns the first result whose verdict is not `expected`
 * (or the last one). For faults that show only now and then (a reply race inside the server):
 * one lucky check must not hide a false alarm that pages someone one night in three.
 */
export async function checkRepeatedly(times: number, expected: RootCauseCode, run: () => Promise<ScenarioResult>): Promise<ScenarioResult> {
  let last: ScenarioResult | undefined;
  for (let i = 0; i < times; i++) {
    last = await run();
    if (last.report.verdict.code !== expected) return last;
  }
  if (last === undefined) throw new RangeError("checkRepeatedly: times must be at least 1");
  return last;
}
