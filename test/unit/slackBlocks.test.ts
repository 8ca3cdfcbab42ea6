/** Slack message limits: a verdict that would pass 50 blocks keeps its context and buttons. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { fitBlocks, hostPort, verdictBlocks } from "../../src/render/slack.js";
import { authFailedReport } from "../summary/fixtures.js";

test("a verdict with too many findings: 50 blocks, the middle cut, header, context and buttons kept", () => {
  const report = authFailedReport();
  // Long findings and scope lists: each becomes one or more sections.
  report.findings = Array.from({ length: 150 }, (_, i) => ({
    code: "ANON_ENABLED",
    severity: "medium",
    message: `finding ${i} ${"x".repeat(2_900)}`,
  })) as typeof report.findings;
  report.scope = Array.from({ length: 60 }, (_, i) => `scope ${i} ${"y".repeat(2_900)}`);
  const { blocks } = verdictBlocks(report, { resultId: "chk-1" });
  assert.equal(blocks.length, 50);
  assert.equal(blocks[0]!.type, "header");
  assert.equal(blocks.at(-1)!.type, "actions", "buttons survive");
  assert.equal(blocks.at(-2)!.type, "context", "the target/zone/time line survives");
  assert.ok(blocks.some((b) => JSON.stringify(b).includes("more sections not shown")));
});

test("fitBlocks leaves a message within the limit untouched", () => {
  const blocks = Array.from({ length: 50 }, (_, i) => ({ type: "section", i }));
  assert.equal(fitBlocks(blocks), blocks);
  const cut = fitBlocks(Array.from({ length: 51 }, (_, i) => ({ type: "section", i })));
  assert.equal(cut.length, 50);
  assert.deepEqual(cut.at(-1), { type: "section", i: 50 });
});

test("hostPort keeps the port and brackets IPv6", () => {
  assert.equal(hostPort("ftp.example.com", 21), "ftp.example.com");
  assert.equal(hostPort("ftp.example.com", 2121), "ftp.example.com:2121");
  assert.equal(hostPort("2001:db8::5", 2121), "[2001:db8::5]:2121");
});
