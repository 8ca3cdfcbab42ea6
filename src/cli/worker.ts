import { z } from "zod";
import { createLogger } from "../log.js";
import { ZoneName } from "../config/file.js";
import { startWorker } from "../queue/worker.js";
import { createMetrics, serveMetrics } from "../metrics.js";
import { Queue } from "bullmq";
import { keys } from "../queue/keys.js";
import { pingWithin, redisFor } from "../queue/redis.js";
import { configWarnings } from "../config/check.js";
import { probeHandler } from "../integrations/probe.js";
import { CheckQueue } from "../queue/producer.js";
import { loadRuntime } from "./runtime.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";

const HELP = `Usage: ftp-doctor worker --zone NAME [--concurrency N]

Consume the zone's check queue (REDIS_URL, FTP_DOCTOR_REDIS_PREFIX) and run checks from
this host's network. Profiles come from FTP_DOCTOR_CONFIG; their passwords from this host's
environment or files. SIGTERM/SIGINT drain: running checks finish, no new ones start.
`;

export async function workerCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v } = parseCommandArgs("worker", args, {
    zone: { type: "string" },
    concurrency: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const zone = ZoneName.safeParse(v.zone ?? io.env.FTP_DOCTOR_ZONE);
  if (!zone.success)
    throw new UsageError(
      (v.zone ?? io.env.FTP_DOCTOR_ZONE) ? `--zone: ${zone.error.issues[0]!.message}` : "worker needs --zone NAME (or FTP_DOCTOR_ZONE)",
    );
  const conc = z.coerce
    .number()
    .int()
    .min(1)
    .max(256)
    .safeParse(v.concurrency ?? io.env.FTP_DOCTOR_CONCURRENCY ?? 8);
  if (!conc.success) throw new UsageError("--concurrency: must be a whole number from 1 to 256");
  const { env, config } = loadRuntime(io.env);
  const logger = createLogger(env.LOG_LEVEL, io.stdout);
  for (const w of configWarnings(config, io.env)) logger.warn({ problem: w }, "configuration warning");
  const metrics = createMetrics();
  const running = await startWorker({ zone: zone.data, concurrency: conc.data, env, config, secretsEnv: io.env, logger, metrics });
  let metricsServer: import("node:http").Server | undefined;
  let depthQueue: Queue | undefined;
  let probeQueue: CheckQueue | undefined;
  const conn = env.METRICS_PORT ? redisFor("worker", env.REDIS_URL) : undefined;
  if (env.METRICS_PORT && conn) {
    conn.on("error", () => undefined);
    depthQueue = new Queue(keys.queueName(zone.data), { connection: conn, prefix: env.FTP_DOCTOR_REDIS_PREFIX });
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
        metrics.queueDepth.set({ zone: zone.data }, await q.getWaitingCount());
        const [oldest] = await q.getJobs(["wait"], -1, -1, false);
        metrics.oldestWaiting.set({ zone: zone.data }, oldest ? (Date.now() - oldest.timestamp) / 1000 : 0);
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
  return 0;
}
