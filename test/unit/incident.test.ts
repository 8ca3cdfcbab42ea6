/** The severity table and the incident state machine, alone (pure: no Redis, no Slack). */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { applyResult, emptyState, openIncident, type Rules, type ZoneResult } from "../../src/monitor/incident.js";
import { severityOf } from "../../src/monitor/severity.js";

const rules: Rules = { failAfter: 2, recoverAfter: 2, flapChanges: 4, flapWindowMs: 3_600_000 };
let job = 0;
const r = (zone: string, code: string, at: number, layer: ZoneResult["layer"] = code === "HEALTHY" ? "none" : "tcp"): ZoneResult => ({
  zone,
  jobId: `j${job++}`,
  code,
  layer,
  title: code,
  problem: code !== "HEALTHY",
  at,
});
const open = (s: ReturnType<typeof emptyState>, at: number) =>
  openIncident(
    s,
    {
      openedAt: at,
      severity: "P1",
      condition: "unreachable",
      picture: { code: "CONSISTENT", title: "", explanation: "", zones: [] },
      verdict: { code: "TCP_REFUSED", title: "", explanation: "", remediation: [], zone: "dmz" },
      channel: "C0INC",
    },
    rules,
  );

describe("severity table", () => {
  const z = (zone: string, code: string, layer: ZoneResult["layer"], certDays?: number) => ({
    zone,
    code,
    layer,
    ...(certDays !== undefined ? { certDays } : {}),
  });
  test("rows in order, and operator overrides", () => {
    const cases: [Parameters<typeof severityOf>[0], string, string][] = [
      [{ zones: [z("dmz", "TCP_REFUSED", "tcp"), z("office", "TCP_TIMEOUT", "tcp")], flapping: false, certDays: 7 }, "P1", "unreachable"],
      [
        { zones: [z("dmz", "PASV_PORTS_BLOCKED", "data"), z("office", "PASV_PORTS_BLOCKED", "data")], flapping: false, certDays: 7 },
        "P2",
        "degraded",
      ],
      [
        { zones: [z("dmz", "TLS_CERT_EXPIRED", "tls"), z("office", "TLS_CERT_EXPIRED", "tls")], flapping: false, certDays: 7 },
        "P1",
        "everyZone",
      ],
      [{ zones: [z("dmz", "TCP_TIMEOUT", "tcp"), z("office", "HEALTHY", "none")], flapping: false, certDays: 7 }, "P2", "someZones"],
      [{ zones: [z("dmz", "HEALTHY", "none", 5)], flapping: false, certDays: 7 }, "P3", "expiring"],
      [{ zones: [z("dmz", "HEALTHY", "none")], flapping: true, certDays: 7 }, "P2", "flapping"],
    ];
    for (const [input, sev, cond] of cases) assert.deepEqual(severityOf(input), { severity: sev, condition: cond }, cond);
    assert.equal(severityOf({ zones: [z("dmz", "HEALTHY", "none", 30)], flapping: false, certDays: 7 }), undefined);
    const degraded = { zones: [z("dmz", "PASV_PORTS_BLOCKED", "data")], flapping: false, certDays: 7 };
    assert.equal(severityOf(degraded, { degraded: "P1" })?.severity, "P1");
    assert.equal(severityOf(degraded, { codes: { PASV_PORTS_BLOCKED: "P3" } })?.severity, "P3");
  });
});

describe("incident state machine", () => {
  test("opens after failAfter, one event per cause change, recovers after recoverAfter; a result counts once", () => {
    const s = emptyState("ftp:21");
    assert.equal(applyResult(s, r("dmz", "HEALTHY", 1), rules), "none");
    assert.equal(applyResult(s, r("dmz", "TCP_REFUSED", 2), rules), "none");
    const again = r("dmz", "TCP_REFUSED", 3);
    assert.equal(applyResult(s, again, rules), "open");
    assert.equal(applyResult(s, again, rules), "duplicate", "a retried evaluation of the same check");
    open(s, 3);
    assert.deepEqual(
      s.outbox.map((e) => e.kind),
      ["open"],
    );
    applyResult(s, r("dmz", "TCP_REFUSED", 4), rules);
    applyResult(s, r("dmz", "BANNER_TIMEOUT", 5, "greeting"), rules);
    applyResult(s, r("dmz", "BANNER_TIMEOUT", 6, "greeting"), rules);
    assert.deepEqual(
      s.outbox.map((e) => e.kind),
      ["open", "cause"],
    );
    applyResult(s, r("dmz", "HEALTHY", 7), rules);
    assert.ok(s.incident, "one healthy check is not a recovery");
    applyResult(s, r("dmz", "HEALTHY", 9), rules);
    assert.equal(s.incident, undefined);
    const rec = s.outbox.at(-1)!;
    assert.equal(rec.kind, "recovered");
    assert.equal(rec.kind === "recovered" && rec.durationMs, 6);
  });

  test("a zone that flips four times makes one flapping incident; a muted incident gets no cause replies", () => {
    const s = emptyState("ftp:21");
    let t = 0;
    let action = "none";
    for (const code of ["HEALTHY", "SERVER_BUSY", "HEALTHY", "SERVER_BUSY", "HEALTHY"])
      action = applyResult(s, r("dmz", code, ++t, "greeting"), rules);
    assert.equal(action, "open", "four changes, never two failures in a row");
    const inc = open(s, t);
    assert.equal(inc.flapping, true);
    assert.equal(inc.cause, "SERVER_BUSY");
    for (const code of ["SERVER_BUSY", "HEALTHY", "TCP_REFUSED", "HEALTHY"]) applyResult(s, r("dmz", code, ++t), rules);
    assert.deepEqual(
      s.outbox.map((e) => e.kind),
      ["open"],
      "no stream of messages while flapping",
    );
    const m = emptyState("ftp:22");
    applyResult(m, r("dmz", "TCP_REFUSED", 1), rules);
    applyResult(m, r("dmz", "TCP_REFUSED", 2), rules);
    open(m, 2).mute = { by: "U1", until: null };
    applyResult(m, r("dmz", "BANNER_TIMEOUT", 3, "greeting"), rules);
    assert.deepEqual(
      m.outbox.map((e) => e.kind),
      ["open", "update"],
    );
  });
});
