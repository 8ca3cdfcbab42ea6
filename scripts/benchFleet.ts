/**
 * `npm run bench -- --only fleet`: monitoring at fleet scale (issue 12).
 *
 * history  10,000 monitored targets at a 5-minute interval over 30 days with a realistic mix
 *          (94 % always healthy, 5 % with incidents — half of them a weekly window —, 1 %
 *          flapping for a few hours a day). A sample per class is simulated check by check
 *          through the real storeResult with real reports (captured from a real vsftpd and a
 *          closed port), keys whose TTL would have run out in 30 days are removed, and the
 *          sample is cloned (DUMP/RESTORE) to 10,000 targets. Figures: Redis memory of the
 *          history keys (sum of MEMORY USAGE), `loadHistory` latency for random targets.
 * drift    10,000 targets in one zone at 5 min, one worker (concurrency 32), fast local FTP
 *          servers, the real monitor (job-scheduler tick, claims, flows, evaluations) for one
 *          interval and a bit: how late each check started after its due time.
 */
import { Redis } from "ioredis";
import net from "node:net";
import { WebClient } from "@slack/web-api";
import { runCheck, type CheckReport } from "../src/check/run.js";
import { CheckOptionsInput, toCheckOptions } from "../src/check/options.js";
import { ConfigFile } from "../src/config/fileSchema.js";
import { createLogger } from "../src/log.js";
import { startMonitor } from "../src/monitor/runner.js";
import { CheckQueue } from "../src/queue/producer.js";
import { HISTORY_LIMITS, storeResult } from "../src/queue/results.js";
import { loadHistory } from "../src/queue/historyModel.js";
import { Poster } from "../src/slack/poster.js";
import { parseTarget } from "../src/target/parse.js";
import { freePortRange, startVsftpd } from "../test/harness/index.js";
import { deletePrefix, REDIS_URL, spawnWorker, stopWorker, uniquePrefix } from "../test/queue/lib.js";
import { startFakeSlack } from "../test/slack/fakeSlack.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], q: number) => {
  if (!xs.length) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

type Log = (msg: string) => void;

async function templates(): Promise<{ healthy: CheckReport; down: CheckReport }> {
  const vs = await startVsftpd({});
  try {
    const opts = toCheckOptions(CheckOptionsInput.parse({}));
    const healthy = (await runCheck(parseTarget(`127.0.0.1:${vs.port}`), opts)).report;
    const closed = vs.port;
    await vs.stop();
    const down = (await runCheck(parseTarget(`127.0.0.1:${closed}`), opts)).report;
    return { healthy, down };
  } finally {
    await vs.stop().catch(() => undefined);
  }
}

/** Is a target of this class failing at time t? (deterministic per sample) */
function failingAt(kind: "healthy" | "incidents" | "flapping", i: number, t: number, start: number): boolean {
  if (kind === "healthy") return false;
  if (kind === "incidents") {
    // Three incidents of 15 min – 4 h at fixed points of the month, plus, for half of them, every Wednesday 15:00–16:00.
    for (let k = 0; k < 3; k++) {
      const s = start + (((i * 7 + k * 11) % 29) + 0.3) * DAY + ((i * 13 + k * 5) % 20) * HOUR;
      const len = (15 + ((i * 37 + k * 53) % 225)) * MIN;
      if (t >= s && t < s + len) return true;
    }
    const d = new Date(t);
    return i % 2 === 0 && d.getUTCDay() === 3 && d.getUTCHours() === 15;
  }
  // Flapping: three hours a day (a different hour per sample), alternating every check.
  const h = new Date(t).getUTCHours();
  const from = (i * 5) % 21;
  return h >= from && h < from + 3 && Math.floor(t / (5 * MIN)) % 2 === 0;
}

async function benchHistory(log: Log) {
  const prefix = uniquePrefix();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    const { healthy, down } = await templates();
    const sizes = { healthy: JSON.stringify(healthy).length, down: JSON.stringify(down).length };
    log(`fleet/history: report templates ${sizes.healthy} B (HEALTHY) and ${sizes.down} B (${down.verdict.code})`);
    const mix = { healthy: 9_400, incidents: 500, flapping: 100 } as const;
    const samples = { healthy: 20, incidents: 10, flapping: 6 } as const;
    const sampleTargets = (Object.keys(samples) as (keyof typeof samples)[]).flatMap((kind) =>
      Array.from({ length: samples[kind] }, (_, i) => ({ kind, i, host: `${kind[0]}${i}.sample.fleet.test` })),
    );
    const end = Date.now();
    const start = end - 30 * DAY;
    const t0 = performance.now();
    let n = 0;
    for (let t = start; t < end; t += 5 * MIN) {
      await Promise.all(
        sampleTargets.map((s) => {
          const bad = failingAt(s.kind, s.i, t, start);
          const tpl = bad ? down : healthy;
          const report: CheckReport = {
            ...tpl,
            target: { ...tpl.target, input: s.host, host: s.host, port: 21 },
            durationMs: Math.round(tpl.durationMs * (0.5 + ((n + s.i) % 10) / 10)),
            startedAt: new Date(t).toISOString(),
            zone: "dmz",
          };
          n++;
          return storeResult(
            redis,
            prefix,
            30,
            { jobId: `${s.host}-${t}`, zone: "dmz", finishedAt: report.startedAt, report },
            { transient: true, now: t },
          );
        }),
      );
    }
    const simMs = performance.now() - t0;
    log(`fleet/history: ${n} results stored in ${(simMs / 1000).toFixed(1)} s (${Math.round(n / (simMs / 1000))}/s)`);
    // What 30 days of real time would have expired: day aggregates past their 8 days, per-job reports past pick-up.
    const today = Math.floor(end / DAY);
    let cursor = "0";
    const expired: string[] = [];
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 2000);
      cursor = next;
      for (const k of batch) {
        const agg = /:h:agg:.*:(\d+)$/.exec(k);
        if (agg && Number(agg[1]) < today - (HISTORY_LIMITS.aggregateDays - 1)) expired.push(k);
      }
      const reports = batch.filter((k) => k.includes(":report:"));
      const ttls = await Promise.all(reports.map((k) => redis.ttl(k)));
      reports.forEach((k, j) => {
        if (ttls[j]! <= HISTORY_LIMITS.transientReportSec) expired.push(k);
      });
    } while (cursor !== "0");
    for (let i = 0; i < expired.length; i += 500) await redis.del(...expired.slice(i, i + 500));
    // Clone the samples to 10,000 targets (keys renamed, TTLs kept).
    const sampleKeys = new Map<string, string[]>();
    cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 2000);
      cursor = next;
      for (const k of batch) {
        const m = /([a-z]\d+)\.sample\.fleet\.test/.exec(k);
        if (m) sampleKeys.set(m[1]!, [...(sampleKeys.get(m[1]!) ?? []), k]);
      }
    } while (cursor !== "0");
    const fleet: string[] = [];
    let clone = 0;
    for (const kind of Object.keys(mix) as (keyof typeof mix)[]) {
      for (let j = 0; j < mix[kind]; j++) {
        const sample = `${kind[0]}${j % samples[kind]}`;
        const host = `t${clone++}.fleet.test`;
        fleet.push(host);
        const ks = sampleKeys.get(sample) ?? [];
        const p = redis.pipeline();
        for (const k of ks) p.dumpBuffer(k).pttl(k);
        const res = (await p.exec()) ?? [];
        const w = redis.pipeline();
        ks.forEach((k, x) => {
          const dump = res[x * 2]?.[1] as Buffer | null;
          const ttl = Number(res[x * 2 + 1]?.[1]);
          if (dump) w.restore(k.replace(`${sample}.sample.fleet.test`, host), Math.max(ttl, 0), dump, "REPLACE");
        });
        await w.exec();
      }
    }
    // Delete the samples: what remains is exactly 10,000 targets.
    for (const ks of sampleKeys.values()) for (let i = 0; i < ks.length; i += 500) await redis.del(...ks.slice(i, i + 500));
    let bytes = 0;
    let keys = 0;
    cursor = "0";
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 5000);
      cursor = next;
      const p = redis.pipeline();
      for (const k of batch) p.memory("USAGE", k, "SAMPLES", 0);
      for (const [, v] of (await p.exec()) ?? []) bytes += Number(v ?? 0);
      keys += batch.length;
    } while (cursor !== "0");
    log(`fleet/history: ${keys} keys, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
    const lat: number[] = [];
    const kinds: Record<string, number[]> = { healthy: [], incidents: [], flapping: [] };
    for (let i = 0; i < 300; i++) {
      const idx = (i * 7919) % fleet.length;
      const t1 = performance.now();
      const m = await loadHistory(redis, prefix, fleet[idx]!, 21);
      const ms = performance.now() - t1;
      lat.push(ms);
      kinds[idx < mix.healthy ? "healthy" : idx < mix.healthy + mix.incidents ? "incidents" : "flapping"]!.push(ms);
      if (!m.zones.length) throw new Error(`no history for ${fleet[idx]}`);
    }
    // One flapping and one incident target, read whole.
    const flap = await loadHistory(redis, prefix, fleet[fleet.length - 1]!, 21);
    const inc = await loadHistory(redis, prefix, fleet[mix.healthy]!, 21);
    return {
      targets: fleet.length,
      mix,
      samplesSimulated: samples,
      resultsSimulated: n,
      simulateSeconds: Math.round(simMs / 100) / 10,
      reportBytes: sizes,
      keys,
      memoryMiB: Math.round((bytes / 2 ** 20) * 10) / 10,
      bytesPerTarget: Math.round(bytes / fleet.length),
      latencyMs: {
        p50: pct(lat, 0.5),
        p99: pct(lat, 0.99),
        max: Math.max(...lat),
        byClassP99: Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, pct(v, 0.99)])),
      },
      exampleFlapping: {
        transitions: flap.zones[0]?.transitions.length,
        incidents: flap.zones[0]?.incidents.length,
        uptimePct: flap.zones[0]?.uptimePct,
      },
      exampleIncidents: {
        incidents: inc.zones[0]?.incidents.length,
        uptimePct: inc.zones[0]?.uptimePct,
        recurring: inc.zones[0]?.recurring.map((r) => r.text),
      },
    };
  } finally {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
}

async function benchDrift(log: Log, targetsN: number, intervalMs: number, runMs: number) {
  const prefix = uniquePrefix();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const servers: net.Server[] = [];
  const slack = await startFakeSlack();
  const [portLo] = await freePortRange(100);
  const addrs = Math.ceil(targetsN / 100);
  // Fast local FTP servers: greet, refuse logins (an anonymous check of such a server is HEALTHY).
  const handler = (sock: net.Socket) => {
    sock.on("error", () => undefined);
    sock.write("220 fleet ready\r\n");
    let buf = "";
    sock.on("data", (d) => {
      buf += d;
      let i = buf.indexOf("\n");
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (!sock.destroyed) sock.write(/^QUIT/i.test(line) ? "221 Bye.\r\n" : "530 Not logged in.\r\n");
        if (/^QUIT/i.test(line)) sock.end();
        i = buf.indexOf("\n");
      }
    });
  };
  const targets: string[] = [];
  for (let a = 0; a < addrs; a++)
    for (let p = 0; p < 100 && targets.length < targetsN; p++) {
      const host = `127.0.${1 + Math.floor(a / 250)}.${1 + (a % 250)}`;
      const s = net.createServer(handler);
      await new Promise<void>((res, rej) => s.once("error", rej).listen(portLo + p, host, () => res()));
      servers.push(s);
      targets.push(`${host}:${portLo + p}`);
    }
  log(`fleet/drift: ${targets.length} local FTP servers listening`);
  const config = ConfigFile.parse({
    targets: { allow: ["127.0.0.0/8"] },
    zones: [{ name: "fleet" }],
    monitor: { channel: "C0FLEET", interval: `${Math.round(intervalMs / 1000)}s`, targets: targets.map((t) => `${t} from fleet`) },
  });
  const worker = spawnWorker({ zone: "fleet", prefix, concurrency: 32, env: { LOG_LEVEL: "warn" } });
  await sleep(2_000);
  const queue = new CheckQueue(REDIS_URL, prefix);
  await queue.connect();
  const logger = createLogger("error", process.stderr);
  const poster = new Poster(new WebClient("xoxb-bench", { slackApiUrl: slack.url }), logger, 0);
  const drift: number[] = [];
  const codes = new Map<string, number>();
  const t0 = Date.now();
  const monitor = await startMonitor({
    prefix,
    redisUrl: REDIS_URL,
    config,
    monitor: config.monitor!,
    queue,
    redis,
    poster,
    logger,
    onEvaluated: (e) => {
      drift.push(e.startedAt - e.due);
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    },
  });
  const rss: number[] = [];
  while (Date.now() - t0 < runMs) {
    await sleep(10_000);
    log(`fleet/drift: ${drift.length} checks evaluated, p99 drift so far ${(pct(drift, 0.99) / 1000).toFixed(2)} s`);
    rss.push(process.memoryUsage().rss);
  }
  await monitor.close();
  await stopWorker(worker);
  await queue.close();
  for (const s of servers) s.close();
  await slack.close();
  const incidents = slack.ok("chat.postMessage").length;
  await deletePrefix(redis, prefix);
  redis.disconnect();
  return {
    targets: targets.length,
    intervalSeconds: intervalMs / 1000,
    runSeconds: Math.round(runMs / 1000),
    evaluated: drift.length,
    expectedAtLeast: Math.floor((targets.length * (runMs - 2_000)) / intervalMs),
    codes: Object.fromEntries(codes),
    driftSeconds: { p50: pct(drift, 0.5) / 1000, p99: pct(drift, 0.99) / 1000, max: Math.max(...drift) / 1000 },
    incidentPosts: incidents,
    botRssMiB: Math.round(Math.max(...rss) / 2 ** 20),
  };
}

export async function benchFleet(log: Log, opts: { driftTargets?: number; intervalMs?: number; runMs?: number } = {}) {
  const history = await benchHistory(log);
  const intervalMs = opts.intervalMs ?? 5 * MIN;
  const drift = await benchDrift(log, opts.driftTargets ?? 10_000, intervalMs, opts.runMs ?? intervalMs + 40_000);
  const f = (x: number, d = 1) => x.toFixed(d);
  const markdown = [
    "## fleet: monitoring at scale",
    "",
    `History of ${history.targets.toLocaleString("en")} targets (${history.mix.healthy} always healthy, ` +
      `${history.mix.incidents} with incidents — half with a weekly window —, ` +
      `${history.mix.flapping} flapping a few hours a day), 5-minute interval, 30 days: ` +
      `${history.resultsSimulated.toLocaleString("en")} results of ` +
      `${Object.values(history.samplesSimulated).reduce((a, b) => a + b, 0)} sample targets ` +
      `stored through the real code (real reports of ${history.reportBytes.healthy} B and ` +
      `${history.reportBytes.down} B), expired as TTLs would have, cloned to the fleet.`,
    "",
    "| figure | value | goal |",
    "|---|---|---|",
    `| Redis memory of history (sum of MEMORY USAGE, ${history.keys.toLocaleString("en")} keys) | ` +
      `**${f(history.memoryMiB)} MiB** ` +
      `(${history.bytesPerTarget.toLocaleString("en")} B per target) | ≤ 256 MB |`,
    "| `history` latency, 300 random targets (p50 / p99 / max) | " +
      `${f(history.latencyMs.p50, 2)} / **${f(history.latencyMs.p99, 2)}** / ${f(history.latencyMs.max, 2)} ms | ≤ 200 ms |`,
    `| schedule drift, ${drift.targets.toLocaleString("en")} targets in one zone at ${drift.intervalSeconds} s, ` +
      `one worker (concurrency 32), ${drift.runSeconds} s (p50 / p99 / max) | ` +
      `${f(drift.driftSeconds.p50, 2)} / **${f(drift.driftSeconds.p99, 2)}** / ${f(drift.driftSeconds.max, 2)} s | p99 ≤ 5 s |`,
    `| checks evaluated in the drift run | ${drift.evaluated.toLocaleString("en")} ` +
      `(≥ ${drift.expectedAtLeast.toLocaleString("en")} due), verdicts ${JSON.stringify(drift.codes)}, ` +
      `${drift.incidentPosts} incident posts, bench process peak RSS ${drift.botRssMiB} MiB | |`,
  ].join("\n");
  return { markdown, data: { history, drift } };
}
