import http from "node:http";
import client from "prom-client";
import type { CheckReport } from "./check/run.js";

/**
 * Prometheus metrics for the bot and the workers (one registry per process). Names and
 * labels are listed in the README's metrics reference; a test scrapes them after real checks.
 */
export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: "ftp_doctor_process_" });
  const checks = new client.Counter({
    name: "ftp_doctor_checks_total",
    help: "Checks finished, by verdict code and zone",
    labelNames: ["code", "zone"] as const,
    registers: [registry],
  });
  const checkDuration = new client.Histogram({
    name: "ftp_doctor_check_duration_seconds",
    help: "Whole-check wall time",
    labelNames: ["zone"] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 30],
    registers: [registry],
  });
  const stepDuration = new client.Histogram({
    name: "ftp_doctor_step_duration_seconds",
    help: "Probe step durations, by step and status",
    labelNames: ["step", "status"] as const,
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
    registers: [registry],
  });
  const jobFailures = new client.Counter({
    name: "ftp_doctor_job_failures_total",
    help: "Check jobs that failed (infrastructure, not the target)",
    labelNames: ["zone"] as const,
    registers: [registry],
  });
  const queueDepth = new client.Gauge({
    name: "ftp_doctor_queue_waiting",
    help: "Jobs waiting per zone",
    labelNames: ["zone"] as const,
    registers: [registry],
  });
  const oldestWaiting = new client.Gauge({
    name: "ftp_doctor_queue_oldest_waiting_seconds",
    help: "Age of the oldest waiting job per zone",
    labelNames: ["zone"] as const,
    registers: [registry],
  });
  const slackErrors = new client.Counter({
    name: "ftp_doctor_slack_api_errors_total",
    help: "Slack Web API calls that failed after retries",
    labelNames: ["method"] as const,
    registers: [registry],
  });
  const slackRetries = new client.Counter({
    name: "ftp_doctor_slack_api_rate_limited_total",
    help: "Slack Web API 429 answers (retried after Retry-After)",
    registers: [registry],
  });
  const summaries = new client.Counter({
    name: "ftp_doctor_summary_outcomes_total",
    help: "LLM summary outcomes",
    labelNames: ["outcome"] as const,
    registers: [registry],
  });
  const monitorEvaluations = new client.Counter({
    name: "ftp_doctor_monitor_evaluations_total",
    help: "Monitored checks evaluated, by zone and verdict code",
    labelNames: ["zone", "code"] as const,
    registers: [registry],
  });
  const monitorStartLag = new client.Histogram({
    name: "ftp_doctor_monitor_start_lag_seconds",
    help: "How long after it was due a monitored check started",
    labelNames: ["zone"] as const,
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const incidentsOpen = new client.Gauge({
    name: "ftp_doctor_monitor_incidents_open",
    help: "Open incidents by severity (read from Redis at scrape time)",
    labelNames: ["severity"] as const,
    registers: [registry],
  });
  return {
    registry,
    incidentsOpen,
    checks,
    checkDuration,
    stepDuration,
    jobFailures,
    queueDepth,
    oldestWaiting,
    slackErrors,
    slackRetries,
    summaries,
    /** Record one monitored check's evaluation (monitor/runner.ts onEvaluated). */
    observeEvaluation(e: { zone: string; code: string; due: number; startedAt: number }) {
      monitorEvaluations.inc({ zone: e.zone, code: e.code });
      monitorStartLag.observe({ zone: e.zone }, Math.max(0, e.startedAt - e.due) / 1000);
    },
    /** Record one finished check. */
    observeReport(report: CheckReport, zone: string) {
      checks.inc({ code: report.verdict.code, zone });
      checkDuration.observe({ zone }, report.durationMs / 1000);
      for (const s of report.steps) stepDuration.observe({ step: s.id, status: s.status }, s.durationMs / 1000);
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/**
 * `/metrics` (Prometheus text) and `/healthz` (200 when every dependency answers, else 503,
 * with the reasons as JSON) on METRICS_PORT.
 */
export async function serveMetrics(opts: {
  port: number;
  host?: string;
  metrics: Metrics;
  /** Dependencies by name: booleans decide 200/503, objects are details (e.g. the Slack link). */
  health: () => Promise<Record<string, boolean | object>>;
  beforeScrape?: () => Promise<void>;
  /** More endpoints beside /metrics and /healthz (/probe, /hooks/alertmanager), by path. */
  routes?: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void>;
}): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = opts.routes && Object.hasOwn(opts.routes, path) ? opts.routes[path] : undefined;
    if (route) return route(req, res);
    if (path === "/metrics") {
      void (async () => {
        await opts.beforeScrape?.().catch(() => undefined);
        res.writeHead(200, { "content-type": opts.metrics.registry.contentType });
        res.end(await opts.metrics.registry.metrics());
      })();
      return;
    }
    if (path === "/healthz") {
      void opts.health().then(
        (h) => {
          const ok = Object.values(h).every((v) => typeof v !== "boolean" || v);
          res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok, ...h }));
        },
        () => {
          res.writeHead(503, { "content-type": "application/json" });
          res.end(JSON.stringify({ ok: false }));
        },
      );
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" });
    res.end(`not found: try ${["/metrics", "/healthz", ...Object.keys(opts.routes ?? {})].join(", ")}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  return server;
}
