import type http from "node:http";
import { z } from "zod";
import type { CheckReport } from "../check/run.js";
import { LIMITS } from "../config/defaults.js";
import { ProfileName, ZoneName, type ConfigFile } from "../config/file.js";
import type { Logger } from "../log.js";
import { NoWorkerError } from "../queue/errors.js";
import { botCheckJob } from "../queue/payload.js";
import type { CheckQueue } from "../queue/producer.js";
import { parseTarget, TargetParseError } from "../target/parse.js";
import { permit } from "./access.js";
import { probeRegistry } from "./probeMetrics.js";

/** Bounds of the /probe endpoint. */
export const PROBE_LIMITS = {
  /**
   * Kept back from Prometheus' scrape timeout for the answer to travel (blackbox_exporter's
   * `--timeout-offset`, 0.5 s by default). @defaultValue 500
   */
  offsetMs: 500,
  /** The engine may overrun a budget by up to this much on a broken server (README: "not more than 1 s"). */
  engineOverrunMs: 1_000,
  /** Without the header (a curl by hand), the check gets the CLI's default budget. */
  defaultScrapeTimeoutMs: LIMITS.defaultBudgetMs + 1_500,
  /** Probes one process waits for at once; more get 503 (a scrape storm cannot pile up sockets). @defaultValue 64 */
  maxInFlight: 64,
} as const;

/** The query as Prometheus sends it (`params:` and `__param_*` relabelling). */
const ProbeQuery = z
  .object({
    target: z.string({ error: "Target parameter is missing" }).min(1, "Target parameter is missing").max(2048),
    zone: ZoneName.optional(),
    profile: ProfileName.optional(),
  })
  .strip();

export interface ProbeDeps {
  config: ConfigFile;
  queue: CheckQueue;
  logger: Logger;
}

class ProbeRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * `GET /probe?target=…&zone=…&profile=…`: one check through the zone's queue, answered in
 * blackbox_exporter's format. A broken server is a failing sample (probe_success 0), never a
 * scrape error; a refused or malformed request, or ftp-doctor itself failing (no worker, no
 * result in time), is an HTTP error, so `up` says whose problem it is.
 */
export function probeHandler(deps: ProbeDeps): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  let inFlight = 0;
  return (req, res) => {
    const fail = (status: number, message: string) => {
      if (res.headersSent) return;
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8" });
      res.end(`${message}\n`);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return fail(405, "use GET /probe?target=host[:port][&zone=NAME][&profile=NAME]");
    if (inFlight >= PROBE_LIMITS.maxInFlight) return fail(503, `too many probes in flight (${PROBE_LIMITS.maxInFlight}); retry later`);
    inFlight++;
    const started = performance.now();
    void run(deps, req, started)
      .then(
        ({ registry, jobId, deduplicated }) =>
          registry.metrics().then((text) => {
            res.writeHead(200, {
              "content-type": registry.contentType,
              "x-ftp-doctor-job": jobId,
              "x-ftp-doctor-deduplicated": String(deduplicated),
            });
            res.end(req.method === "HEAD" ? undefined : text);
          }),
        (err: unknown) => {
          if (err instanceof ProbeRefusal) return fail(err.status, err.message);
          deps.logger.error({ err: (err as Error).message }, "probe failed");
          fail(500, "internal error");
        },
      )
      .finally(() => inFlight--);
  };
}

async function run(deps: ProbeDeps, req: http.IncomingMessage, started: number) {
  const params = new URL(req.url ?? "/", "http://probe.invalid").searchParams;
  for (const k of ["target", "zone", "profile"])
    if (params.getAll(k).length > 1) throw new ProbeRefusal(400, `${k} given ${params.getAll(k).length} times; give it once`);
  // An empty parameter (a relabelling whose source label is empty) means "not given".
  const q = ProbeQuery.safeParse(Object.fromEntries([...params].filter(([, v]) => v !== "")));
  if (!q.success) throw new ProbeRefusal(400, q.error.issues.map((i) => `${i.path.join(".") || "query"}: ${i.message}`).join("; "));
  let target;
  try {
    target = parseTarget(q.data.target);
  } catch (err) {
    if (err instanceof TargetParseError) throw new ProbeRefusal(400, `target: ${err.message}`);
    throw err;
  }
  if (target.urlHadPassword) throw new ProbeRefusal(400, "target: a password in the URL is refused; name a profile (profile=…) instead");
  const access = permit(deps.config, { front: "exporter" }, target, q.data.zone, q.data.profile);
  if (!access.permitted) {
    deps.logger.warn({ target: target.input, zone: q.data.zone, front: "exporter" }, "probe refused by the target policy");
    throw new ProbeRefusal(403, access.message);
  }
  const { deadlineMs, checkMs } = budget(req.headers["x-prometheus-scrape-timeout-seconds"]);
  let job;
  try {
    job = await deps.queue.enqueue(
      botCheckJob(
        { target: target.input, zone: access.zone, ...(q.data.profile ? { profile: q.data.profile } : {}), write: false },
        "exporter",
        checkMs,
      ),
    );
  } catch (err) {
    if (err instanceof NoWorkerError) throw new ProbeRefusal(503, err.message);
    throw err;
  }
  let report: CheckReport;
  try {
    report = await deps.queue.result(access.zone, job.jobId, Math.max(1_000, deadlineMs - (performance.now() - started)));
  } catch (err) {
    throw new ProbeRefusal(503, `no result: ${(err as Error).message}`);
  }
  const registry = probeRegistry(report, { durationSeconds: (performance.now() - started) / 1000, timeoutSeconds: checkMs / 1000 });
  return { registry, jobId: job.jobId, deduplicated: job.deduplicated };
}

/**
 * Prometheus sends its scrape timeout in `X-Prometheus-Scrape-Timeout-Seconds`. The answer must
 * be back before it, so the check gets that less the offset (blackbox_exporter's getTimeout)
 * and less the engine's worst overrun; a broken server then yields probe_success 0 in time.
 */
function budget(header: string | string[] | undefined): { deadlineMs: number; checkMs: number } {
  const raw = Array.isArray(header) ? header[0] : header;
  let scrapeMs: number = PROBE_LIMITS.defaultScrapeTimeoutMs;
  if (raw !== undefined) {
    const s = Number(raw);
    if (!Number.isFinite(s) || s <= 0)
      throw new ProbeRefusal(400, `X-Prometheus-Scrape-Timeout-Seconds: "${raw.slice(0, 20)}" is not a number of seconds`);
    scrapeMs = s * 1000;
  }
  const deadlineMs = scrapeMs - PROBE_LIMITS.offsetMs;
  const checkMs = Math.round(Math.min(LIMITS.maxBudgetMs, Math.max(LIMITS.minBudgetMs, deadlineMs - PROBE_LIMITS.engineOverrunMs)));
  return { deadlineMs, checkMs };
}
