import { Queue } from "bullmq";
import { loadRuntime } from "../config/runtime.js";
import { configWarnings } from "../config/validate.js";
import { createLogger } from "../log.js";
import { createMetrics, serveMetrics } from "../metrics.js";
import { probeHandler } from "../integrations/probe.js";
import { startWorker } from "./consumer.js";
import { CheckQueue } from "./producer.js";
import { keys } from "./keys.js";
import { pingWithin, redisFor } from "./redis.js";

export interface WorkerProcessOptions {
  zone: string;
  concurrency: number;
  /** The process environment: runtime settings, and where profile passwords are read from. */
  env: NodeJS.ProcessEnv;
  /** Where log lines go. */
  stdout: NodeJS.WritableStream;
}

/**
 * A probe worker process: runtime and configuration loaded once, the zone's consumer, the optional
 * metrics endpoint, and a drain on SIGTERM/SIGINT. Resolves when the drain is done.
 */
export async function runWorkerProcess(opts: WorkerProcessOptions): Promise<void> {
  const { zone, concurrency } = opts;
  const { env, config } = loadRuntime(opts.env);
  const logger = createLogger(env.LOG_LEVEL, opts.stdout);
  for (const w of configWarnings(config, opts.env)) logger.warn({ problem: w }, "configuration warning");
  const metrics = createMetrics();
  const running = await startWorker({ zone, concurrency, env, config, secretsEnv: opts.env, logger, metrics });
  let metricsServer: import("node:http").Server | undefined;
  let depthQueue: Queue | undefined;
  let probeQueue: CheckQueue | undefined;
  const conn = env.METRICS_PORT ? redisFor("worker", env.REDIS_URL) : undefined;
  if (env.METRICS_PORT && conn) {
    conn.on("error", () => undefined);
    depthQueue = new Queue(keys.queueName(zone), { connection: conn, prefix: env.FTP_DOCTOR_REDIS_PREFIX });
    const q = depthQueue;
    // /probe: the exporter goes through the queue like every other front (one target policy,
    // identical scrapes share a job, another zone's target runs on that zone's worker).
    probeQueue = new CheckQueue(env.REDIS_URL, env.FTP_DOCTOR_REDIS_PREFIX);
    metricsServer = await serveMetrics({
      port: env.METRICS_PORT,
      metrics,
      routes: { "/probe": probeHandler({ config, queue: probeQueue, logger }) },
      // The worker's connection queues commands while Redis is away: bound the ping.
      health: async () => ({ redis: await pingWithin(running.redis, 1_000) }),
      beforeScrape: async () => {
        metrics.queueDepth.set({ zone }, await q.getWaitingCount());
        const [oldest] = await q.getJobs(["wait"], -1, -1, false);
        metrics.oldestWaiting.set({ zone }, oldest ? (Date.now() - oldest.timestamp) / 1000 : 0);
      },
    });
    logger.info({ port: env.METRICS_PORT }, "metrics listening");
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "signal received, draining");
      void running.close().then(async () => {
        metricsServer?.close();
        await depthQueue?.close();
        await probeQueue?.close();
        conn?.disconnect();
        resolve();
      });
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
}
