#!/usr/bin/env node
// Prints the scenario table (markdown) from the rows the scenarios append to
// FTP_DOCTOR_SCENARIO_LOG (test/scenarios/lib.ts expectVerdict):
//   FTP_DOCTOR_SCENARIO_LOG=/tmp/rows.jsonl node scripts/run-tests.mjs scenarios/
//   node scripts/scenario-table.mjs /tmp/rows.jsonl [daemon …]
import { readFileSync } from "node:fs";

const [file, ...daemons] = process.argv.slice(2);
if (file === undefined) {
  console.error("usage: node scripts/scenario-table.mjs <rows.jsonl> [daemon …]");
  process.exit(2);
}
const rows = readFileSync(file, "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l))
  .filter((r) => daemons.length === 0 || daemons.includes(r.daemon))
  .sort((a, b) => a.daemon.localeCompare(b.daemon));
console.log("| scenario | daemon | expected | observed | time to verdict |");
console.log("|---|---|---|---|---|");
for (const r of rows) {
  const observed = r.observed === r.expected ? r.observed : `**${r.observed}**`;
  console.log(`| ${r.scenario} | ${r.daemon} | ${r.expected} | ${observed} | ${(r.ms / 1000).toFixed(2)} s |`);
}
const wrong = rows.filter((r) => r.observed !== r.expected).length;
console.log(`\n${rows.length} scenarios, ${rows.length - wrong} right, ${wrong} wrong (bold).`);
