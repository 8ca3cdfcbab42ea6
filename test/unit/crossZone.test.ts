import { test } from "node:test";
import assert from "node:assert/strict";
import type { CheckReport } from "../../src/check/run.js";
import { CAUSES } from "../../src/diagnosis/causes.js";
import type { RootCauseCode } from "../../src/diagnosis/codes.js";
import { type CrossZoneCode, crossZoneVerdict, type ZoneOutcome } from "../../src/diagnosis/crossZone.js";

function report(code: RootCauseCode, durationMs = 100): CheckReport {
  return {
    schemaVersion: 1,
    target: { input: "ftp.example.com", host: "ftp.example.com", port: 21, tls: "auto" },
    startedAt: "2026-06-01T00:00:00.000Z",
    durationMs,
    verdict: { code, layer: CAUSES[code].layer, title: `title of ${code}`, explanation: "", evidence: [], remediation: [] },
    secondary: [],
    findings: [],
    scope: [],
    server: { software: "unknown" },
    steps: [],
    transcript: [],
    summary: null,
  };
}

const ok = (zone: string, code: RootCauseCode): ZoneOutcome => ({ zone, report: report(code) });
const lost = (zone: string, error: string): ZoneOutcome => ({ zone, error });

const CASES: [string, ZoneOutcome[], CrossZoneCode][] = [
  ["healthy everywhere", [ok("dmz", "HEALTHY"), ok("office", "HEALTHY")], "CONSISTENT"],
  ["the same fault everywhere is the server's", [ok("dmz", "AUTH_FAILED"), ok("office", "AUTH_FAILED")], "CONSISTENT"],
  ["firewall drops one zone (tcp layer)", [ok("dmz", "HEALTHY"), ok("office", "TCP_TIMEOUT")], "PATH_BLOCKED"],
  [
    "passive ports blocked from one zone (a path code in the data layer)",
    [ok("dmz", "HEALTHY"), ok("office", "PASV_PORTS_BLOCKED")],
    "PATH_BLOCKED",
  ],
  ["MTU black hole on one path", [ok("dmz", "HEALTHY"), ok("vpn", "TLS_HANDSHAKE_STALL")], "PATH_BLOCKED"],
  ["name missing in one zone's DNS", [ok("dmz", "HEALTHY"), ok("office", "DNS_NXDOMAIN")], "PATH_BLOCKED"],
  ["per-IP ban: login refused from one zone only", [ok("dmz", "HEALTHY"), ok("office", "AUTH_FAILED")], "ZONE_SPECIFIC"],
  ["a server fault seen from one zone only", [ok("dmz", "HEALTHY"), ok("office", "HOME_DIR_MISSING")], "ZONE_SPECIFIC"],
  [
    "path and server faults mixed with a healthy zone",
    [ok("a", "HEALTHY"), ok("b", "TCP_TIMEOUT"), ok("c", "AUTH_FAILED")],
    "ZONE_SPECIFIC",
  ],
  ["fails everywhere, differently", [ok("dmz", "TCP_TIMEOUT"), ok("office", "AUTH_FAILED")], "MIXED"],
  ["one zone answered", [ok("dmz", "HEALTHY"), lost("office", "no live worker")], "INCOMPLETE"],
  ["no zone answered", [lost("dmz", "timed out"), lost("office", "no live worker")], "INCOMPLETE"],
  ["two answered, a third did not: still compared", [ok("a", "HEALTHY"), ok("b", "HEALTHY"), lost("c", "timed out")], "CONSISTENT"],
];

for (const [name, outcomes, expected] of CASES)
  test(`cross-zone: ${name} → ${expected}`, () => {
    const v = crossZoneVerdict("ftp.example.com:21", outcomes);
    assert.equal(v.code, expected);
    assert.equal(v.zones.length, outcomes.length, "every zone is listed, answered or not");
    for (const o of outcomes) if (o.error) assert.ok(v.zones.find((z) => z.zone === o.zone)?.error === o.error);
  });

test("cross-zone: the verdict names the zones on each side and the missing ones", () => {
  const blocked = crossZoneVerdict("ftp.example.com:21", [ok("dmz", "HEALTHY"), ok("office", "TCP_TIMEOUT"), lost("lab", "timed out")]);
  assert.match(blocked.title, /works from dmz but not from office/);
  assert.match(blocked.title, /no result from lab/);
  assert.match(blocked.explanation, /TCP_TIMEOUT from office/);
  const inc = crossZoneVerdict("ftp.example.com:21", [ok("dmz", "HEALTHY"), lost("office", "no live worker")]);
  assert.match(inc.explanation, /office: no live worker/);
});
