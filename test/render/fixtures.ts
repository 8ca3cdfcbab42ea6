/**
 * Inputs for the picture tests and docs/: two frozen reports (a typical failure, and a worst
 * case with every side probe and 40 steps) and a generated week of stored results.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { CheckReport } from "../../src/check/run.js";
import type { Redis } from "ioredis";
import { type HistoryModel, loadHistory } from "../../src/queue/historyModel.js";
import { type StoredResult, storeResult } from "../../src/queue/results.js";
import { repoRoot } from "../harness/env.js";

export function reportFixture(name: "typical" | "worst"): CheckReport {
  return JSON.parse(readFileSync(path.join(repoRoot, "test", "fixtures", "reports", `${name}.json`), "utf8")) as CheckReport;
}

/** The end of the demo week: Monday 30 November 2026, 12:00 UTC. */
export const WEEK_END = Date.UTC(2026, 10, 30, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;

/**
 * A week of checks every 10 minutes from two zones: dmz sees an expired certificate for five
 * hours and a one-check banner blip; office loses its passive ports every day around 15:00
 * (a backup job saturating the link) and is failing right now.
 */
export function demoWeek(typical: CheckReport = reportFixture("typical")): StoredResult[] {
  const out: StoredResult[] = [];
  const title: Record<string, string> = {
    HEALTHY: "The server works",
    TLS_CERT_EXPIRED: "The certificate has expired",
    BANNER_TIMEOUT: "No greeting",
    PASV_PORTS_BLOCKED: "Passive data ports are blocked",
  };
  let id = 0;
  for (let t = WEEK_END - 7 * DAY - 30 * MIN; t <= WEEK_END; t += 10 * MIN) {
    const sinceStart = t - (WEEK_END - 7 * DAY);
    const hour = new Date(t).getUTCHours();
    const minute = new Date(t).getUTCMinutes();
    const day = Math.floor(sinceStart / DAY);
    const dmz =
      sinceStart >= 2 * DAY + 9 * 3_600_000 && sinceStart < 2 * DAY + 14 * 3_600_000
        ? "TLS_CERT_EXPIRED"
        : Math.round(sinceStart / MIN) === Math.round((4 * DAY + 3 * 3_600_000) / MIN)
          ? "BANNER_TIMEOUT"
          : "HEALTHY";
    const office = (hour === 15 && minute < 40 && day !== 4) || WEEK_END - t < 25 * MIN ? "PASV_PORTS_BLOCKED" : "HEALTHY";
    for (const [zone, code] of [
      ["dmz", dmz],
      ["office", office],
    ] as const) {
      // A ragged gap: office's worker was down for three hours on the fifth day.
      if (zone === "office" && sinceStart > 5 * DAY + 2 * 3_600_000 && sinceStart < 5 * DAY + 5 * 3_600_000) continue;
      out.push({
        jobId: `demo-${id++}`,
        zone,
        finishedAt: new Date(t).toISOString(),
        report: { ...typical, zone, verdict: { ...typical.verdict, code: code as CheckReport["verdict"]["code"], title: title[code]! } },
      });
    }
  }
  return out;
}

/**
 * The demo week stored through the real history (storeResult, each at its own time, shifted
 * by `shiftMs`) and read back as the 7-day model, as `ftp-doctor history` reads it.
 */
export async function demoHistory(redis: Redis, prefix: string, shiftMs = 0): Promise<HistoryModel> {
  await Promise.all(
    demoWeek().map((r) =>
      storeResult(redis, prefix, 30, { ...r, jobId: `${prefix}-${r.jobId}` }, { now: Date.parse(r.finishedAt) + shiftMs, transient: true }),
    ),
  );
  return loadHistory(redis, prefix, "ftp.example.com", 21, { now: WEEK_END + shiftMs });
}
