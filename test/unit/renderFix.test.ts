import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { buildReport } from "../../src/check/run.js";
import { verdictBlocks } from "../../src/render/slack.js";
import { renderText } from "../../src/render/text.js";
import type { Observations } from "../../src/probe/types.js";

// A recorded real-server run whose daemon cannot be told from the wire (a refused port: no banner).
const fixture = (name: string): Observations =>
  (
    JSON.parse(readFileSync(new URL(`../../../test/fixtures/observations/${name}`, import.meta.url), "utf8")) as {
      observations: Observations;
    }
  ).observations;

test("unknown server software: the fix is numbered steps, then each daemon's setting as unnumbered alternatives", () => {
  const report = buildReport(fixture("closed-port-loopback-.json"));
  assert.equal(report.server.software, "unknown");
  const text = renderText(report, { color: false, width: 200 });
  const fix = text.slice(text.indexOf("\nFix\n"));
  const numbered = fix.split("\n").filter((l) => /^\s+\d+\. /.test(l));
  assert.equal(numbered.length, report.verdict.remediation.length, "only the general steps are numbered");
  assert.ok(!numbered.some((l) => /vsftpd|ProFTPD|Pure-FTPd/.test(l)), "no daemon-specific step among the numbered ones");
  assert.match(fix, /Depending on the server software \(do the one that applies\):\n\s+• vsftpd: /);
  assert.match(fix, /• ProFTPD: /);

  const blocks = JSON.stringify(verdictBlocks(report, { resultId: "r1" }).blocks);
  assert.match(blocks, /\*Depending on the server software\*\\n• vsftpd: /);
  assert.ok(!/\d\. vsftpd/.test(blocks), "Slack does not number the alternatives either");
});

test("known server software: its own setting is step 1, no alternatives", () => {
  const report = buildReport(fixture("too-many-connections-from-this-ip.json"));
  assert.notEqual(report.server.software, "unknown");
  assert.equal(report.verdict.perServer, undefined);
  const text = renderText(report, { color: false, width: 200 });
  assert.ok(!text.includes("Depending on the server software"));
  assert.match(text, /1\. Raise `max_clients=` and\/or `max_per_ip=`/);
});

test("--verbose steps print one duration per line: the column, not also the detail's own time", () => {
  const report = buildReport(fixture("wrong-password.json"));
  const text = renderText(report, { color: false, width: 200 }, { showSteps: true });
  const steps = text
    .slice(text.indexOf("\nSteps\n"))
    .split("\n")
    .filter((l) => /^\s+[✓!✗-] /.test(l));
  assert.ok(steps.length >= 5, text);
  for (const line of steps) assert.equal(line.match(/\d ms\b/g)?.length, 1, line);
  const tls = steps.find((l) => /TLSv1\.[23]/.test(l));
  assert.ok(tls && !/ in \d+ ms/.test(tls), tls);
  // The detail itself is unchanged in the report (JSON consumers, evidence).
  assert.ok(report.steps.some((s) => / in \d+(\.\d+)? ms/.test(s.detail)));
});
