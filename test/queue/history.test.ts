/**
 * History v2 on the real Redis: every result counts once, transitions and per-hour aggregates
 * instead of a report per check, incidents and recurring windows in the 7-day model.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { CheckReport } from "../../src/check/run.js";
import type { Layer } from "../../src/diagnosis/codes.js";
import { HISTORY_LIMITS, storedResult, storeResult } from "../../src/queue/results.js";
import { historyText, loadHistory, recurringWindows } from "../../src/queue/historyModel.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "./lib.js";

const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const prefixes: string[] = [];
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function prefix(): string {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
}

function fakeReport(host: string, port: number, code: string, layer: Layer, durationMs = 40): CheckReport {
  return {
    schemaVersion: 1,
    target: { input: `${host}:${port}`, host, port, tls: "auto" },
    startedAt: new Date().toISOString(),
    durationMs,
    verdict: { code, layer, title: `${code} title`, explanation: "", evidence: [], remediation: [] },
    secondary: [],
    findings: [],
    scope: [],
    server: { software: "unknown" },
    steps: [],
    transcript: [],
    summary: null,
  } as unknown as CheckReport;
}

let seq = 0;
async function record(p: string, zone: string, code: string, layer: Layer, now: number, jobId = `j${seq++}`, durationMs = 40) {
  return storeResult(
    redis,
    p,
    30,
    { jobId, zone, finishedAt: new Date(now).toISOString(), report: fakeReport("ftp.example.com", 21, code, layer, durationMs) },
    { now },
  );
}

after(async () => {
  for (const p of prefixes) await deletePrefix(redis, p);
  redis.disconnect();
});

describe("history v2", () => {
  test("a result counts once per job id; transitions carry from, to, when and the verdict", async () => {
    const p = prefix();
    const t0 = Date.UTC(2026, 10, 30, 10, 0, 0);
    assert.equal(await record(p, "dmz", "HEALTHY", "none", t0, "a"), "first");
    assert.equal(await record(p, "dmz", "HEALTHY", "none", t0 + 5 * MIN, "b"), "same");
    assert.equal(await record(p, "dmz", "HEALTHY", "none", t0 + 6 * MIN, "b"), "duplicate", "a re-run of the same job");
    assert.equal(await record(p, "dmz", "TCP_REFUSED", "tcp", t0 + 10 * MIN, "c", 3), "changed");
    assert.equal(await record(p, "dmz", "TCP_REFUSED", "tcp", t0 + 15 * MIN, "d", 3), "same");
    assert.equal(await record(p, "dmz", "HEALTHY", "none", t0 + 20 * MIN, "e", 300), "changed");
    const m = await loadHistory(redis, p, "ftp.example.com", 21, { now: t0 + 30 * MIN });
    const z = m.zones[0]!;
    assert.equal(z.checks, 5);
    assert.equal(z.failures, 2);
    assert.equal(z.uptimePct, 60);
    assert.deepEqual(
      z.transitions.map((t) => [t.from, t.to, t.at - t0, t.jobId]),
      [
        ["HEALTHY", "TCP_REFUSED", 10 * MIN, "c"],
        ["TCP_REFUSED", "HEALTHY", 20 * MIN, "e"],
      ],
    );
    assert.deepEqual(z.incidents, [{ start: t0 + 10 * MIN, end: t0 + 20 * MIN, durationMs: 10 * MIN, codes: ["TCP_REFUSED"] }]);
    assert.equal(z.current?.code, "HEALTHY");
    assert.equal(z.current?.since, t0 + 20 * MIN);
    assert.equal(z.hours.length, 1);
    assert.equal(z.hours[0]!.worst, "TCP_REFUSED");
    assert.equal(z.hours[0]!.p50Ms, 50);
    assert.equal(z.hours[0]!.p95Ms, 500);
    // Full reports: the transitions' and the latest; a plain "same" result's report has a TTL like any job's.
    assert.ok(await storedResult(redis, p, "c"));
    assert.ok((await redis.ttl(`${p}:report:c`)) > 29 * 86_400);
    assert.match(historyText(m), /zone dmz: now HEALTHY[\s\S]*uptime 60%[\s\S]*10 min {2}TCP_REFUSED/);
  });

  test("scheduled checks keep no report per job beyond pick-up; only the newest transitions keep theirs", async () => {
    const p = prefix();
    const t0 = Date.UTC(2026, 10, 30, 0, 0, 0);
    for (let i = 0; i < 30; i++)
      await storeResult(
        redis,
        p,
        30,
        {
          jobId: `m${i}`,
          zone: "dmz",
          finishedAt: "",
          report: fakeReport("ftp.example.com", 21, i % 2 ? "PASV_PORTS_BLOCKED" : "HEALTHY", i % 2 ? "data" : "none"),
        },
        { transient: true, now: t0 + i * MIN },
      );
    const longLived = [];
    for (let i = 0; i < 30; i++) if ((await redis.ttl(`${p}:report:m${i}`)) > HISTORY_LIMITS.transientReportSec) longLived.push(i);
    assert.deepEqual(longLived, [20, 21, 22, 23, 24, 25, 26, 27, 28, 29], "the newest 10 transitions keep their reports");
    const m = await loadHistory(redis, p, "ftp.example.com", 21, { now: t0 + HOUR });
    assert.equal(m.zones[0]!.transitions.length, 29);
    assert.equal(m.zones[0]!.incidents.length, 15);
  });

  test("failures every Wednesday around 15:00 for five weeks → a weekly window with the dates", async () => {
    const p = prefix();
    const end = Date.UTC(2026, 11, 1, 12, 0, 0); // Tuesday
    const start = end - 34 * DAY;
    const pipeline: Promise<unknown>[] = [];
    for (let t = start; t < end; t += 15 * MIN) {
      const d = new Date(t);
      const bad = d.getUTCDay() === 3 && d.getUTCHours() >= 15 && d.getUTCHours() < 17;
      pipeline.push(record(p, "office", bad ? "PASV_PORTS_BLOCKED" : "HEALTHY", bad ? "data" : "none", t));
      if (pipeline.length >= 200) await Promise.all(pipeline.splice(0));
    }
    await Promise.all(pipeline);
    const started = performance.now();
    const m = await loadHistory(redis, p, "ftp.example.com", 21, { now: end });
    const ms = performance.now() - started;
    const z = m.zones[0]!;
    assert.equal(z.recurring.length, 1, JSON.stringify(z.recurring));
    const w = z.recurring[0]!;
    assert.equal(w.kind, "weekly");
    assert.equal(w.weekday, 3);
    assert.equal(w.fromHour, 15);
    assert.equal(w.toHour, 16);
    assert.deepEqual(w.dates, ["2026-10-28", "2026-11-04", "2026-11-11", "2026-11-18", "2026-11-25"]);
    assert.match(w.text, /Wednesdays 15:00–17:00 UTC/);
    // Only the last 7 days in the view: one Wednesday → one incident of two hours.
    assert.equal(z.incidents.length, 1);
    assert.equal(z.incidents[0]!.durationMs, 2 * HOUR);
    assert.equal(z.checks, 7 * 24 * 4);
    assert.ok(ms < 1_000, `history took ${ms} ms`);
  });

  test("recurring windows: daily clusters, and outages are not windows", () => {
    const d0 = Date.UTC(2026, 10, 20);
    const daily = [0, 1, 2, 3, 4].map((d) => d0 + d * DAY + 3 * HOUR);
    assert.deepEqual(
      recurringWindows(daily).map((w) => [w.kind, w.fromHour, w.dates.length]),
      [["daily", 3, 5]],
    );
    const outage = Array.from({ length: 72 }, (_, i) => d0 + i * HOUR);
    assert.deepEqual(recurringWindows(outage), [], "a three-day outage fails every hour but is not a window");
    assert.deepEqual(recurringWindows(daily.slice(0, 2)), [], "two days are a coincidence");
  });

  test("an incident that started before the window and is still open", async () => {
    const p = prefix();
    const t0 = Date.UTC(2026, 10, 1);
    await record(p, "dmz", "HEALTHY", "none", t0);
    await record(p, "dmz", "TLS_CERT_EXPIRED", "tls", t0 + HOUR);
    await record(p, "dmz", "TLS_CERT_EXPIRED", "tls", t0 + 10 * DAY);
    const m = await loadHistory(redis, p, "ftp.example.com", 21, { now: t0 + 10 * DAY + HOUR });
    const z = m.zones[0]!;
    assert.equal(z.incidents.length, 1);
    assert.equal(z.incidents[0]!.end, null);
    assert.equal(z.incidents[0]!.start, t0 + HOUR);
    assert.equal(z.current?.code, "TLS_CERT_EXPIRED");
    assert.equal(z.uptimePct, 0);
  });
});
