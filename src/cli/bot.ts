import { WebClient, WebClientEvent } from "@slack/web-api";
import { Queue } from "bullmq";
import { createMetrics, serveMetrics } from "../metrics.js";
import { configWarnings } from "../config/validate.js";
import { probeHandler } from "../integrations/probe.js";
import { keys } from "../queue/keys.js";
import { createLogger } from "../log.js";
import { CheckQueue } from "../queue/producer.js";
import { pingWithin, redisFor, ready } from "../queue/redis.js";
import { BotEnv, createBot } from "../slack/app.js";
import { startDigests } from "../slack/digest.js";
import { startMonitor } from "../monitor/runner.js";
import { Poster } from "../slack/poster.js";
import { SlackService } from "../slack/service.js";
import { summarizerFromEnv } from "../summary/summarize.js";
import { formatZodError } from "../check/options.js";
import { loadRuntime } from "../config/runtime.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";

const HELP = `Usage: ftp-doctor bot

Run the Slack bot. Socket Mode when SLACK_APP_TOKEN is set, otherwise HTTP on PORT
(default 3000) with SLACK_SIGNING_SECRET. Always SLACK_BOT_TOKEN. SLACK_API_URL overrides
the Web API base URL. Configuration: FTP_DOCTOR_CONFIG (allow-list, zones, profiles,
digests). Queue: REDIS_URL, FTP_DOCTOR_REDIS_PREFIX.
`;

export async function botCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs("bot", args, { help: { type: "boolean", short: "h" } });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const { env, config } = loadRuntime(io.env);
  const parsed = BotEnv.safeParse(io.env);
  if (!parsed.success) throw new UsageError(`bot configuration: ${formatZodError(parsed.error, (k) => k)}`);
  const botEnv = parsed.data;
  const logger = createLogger(env.LOG_LEVEL, io.stdout);
  const redis = redisFor("producer", env.REDIS_URL);
  redis.on("error", (err) => logger.warn({ err: err.message }, "redis error"));
  await ready(redis, `Redis at ${new URL(env.REDIS_URL).host} (REDIS_URL)`);
  const queue = new CheckQueue(env.REDIS_URL, env.FTP_DOCTOR_REDIS_PREFIX);
  await queue.connect();
  const client = new WebClient(botEnv.SLACK_BOT_TOKEN, {
    ...(botEnv.SLACK_API_URL
      ? { slackApiUrl: botEnv.SLACK_API_URL.endsWith("/") ? botEnv.SLACK_API_URL : `${botEnv.SLACK_API_URL}/` }
      : {}),
    retryConfig: { retries: 6, factor: 1.6, minTimeout: 250, maxTimeout: 10_000, randomize: true },
  });
  for (const w of configWarnings(config, io.env)) logger.warn({ problem: w }, "configuration warning");
  const metrics = createMetrics();
  client.on(WebClientEvent.RATE_LIMITED, () => metrics.slackRetries.inc());
  const poster = new Poster(client, logger, botEnv.FTP_DOCTOR_POST_SPACING_MS, metrics);
  const summary = summarizerFromEnv(io.env, logger, metrics);
  const service = new SlackService({
    prefix: env.FTP_DOCTOR_REDIS_PREFIX,
    config,
    queue,
    redis,
    poster,
    logger,
    resultWaitMs: botEnv.FTP_DOCTOR_RESULT_WAIT_MS,
    watchIntervalMs: botEnv.FTP_DOCTOR_WATCH_INTERVAL_MS,
    watchDurationMs: botEnv.FTP_DOCTOR_WATCH_DURATION_MS,
    ...(summary.report ? { summarize: summary.report } : {}),
  });
  let slackOk = { at: 0, ok: false };
  const health = async () => {
    const redisOk = await pingWithin(redis, 1_000);
    if (Date.now() - slackOk.at > 30_000)
      slackOk = {
        at: Date.now(),
        ok: await client.auth.test().then(
          () => true,
          () => false,
        ),
      };
    return { redis: redisOk, slack: slackOk.ok };
  };
  await service.refreshZones();
  const zoneTimer = setInterval(() => void service.refreshZones(), 10_000);
  zoneTimer.unref();
  // Monitoring (config `monitor:`): scheduled checks, incidents in monitor.channel.
  const monitor = config.monitor
    ? await startMonitor({
        prefix: env.FTP_DOCTOR_REDIS_PREFIX,
        redisUrl: env.REDIS_URL,
        config,
        monitor: config.monitor,
        queue,
        redis,
        poster,
        logger,
        pictureWaitMs: Math.min(botEnv.FTP_DOCTOR_RESULT_WAIT_MS, 45_000),
      })
    : undefined;
  const { app, socketMode } = createBot({
    ...(monitor ? { incidents: monitor } : {}),
    env: botEnv,
    service,
    logger,
    routes: [
      {
        path: "/healthz",
        method: ["GET"],
        handler: (_req, res) => {
          void health().then((h) => {
            res.writeHead(h.redis && h.slack ? 200 : 503, { "content-type": "application/json" });
            res.end(JSON.stringify(h));
          });
        },
      },
    ],
  });
  if (socketMode) await app.start();
  else await app.start(botEnv.PORT);
  const digests = await startDigests({
    prefix: env.FTP_DOCTOR_REDIS_PREFIX,
    redisUrl: env.REDIS_URL,
    config,
    queue,
    redis,
    poster,
    logger,
    resultWaitMs: botEnv.FTP_DOCTOR_RESULT_WAIT_MS,
    ...(summary.digest ? { overview: summary.digest } : {}),
  });
  const depthConn = env.METRICS_PORT ? redisFor("worker", env.REDIS_URL) : undefined;
  depthConn?.on("error", () => undefined);
  const depthQueues = depthConn
    ? config.zones.map((z) => ({
        zone: z.name,
        q: new Queue(keys.queueName(z.name), { connection: depthConn, prefix: env.FTP_DOCTOR_REDIS_PREFIX }),
      }))
    : [];
  const metricsServer = env.METRICS_PORT
    ? await serveMetrics({
        port: env.METRICS_PORT,
        metrics,
        health,
        routes: { "/probe": probeHandler({ config, queue, logger }) },
        beforeScrape: async () => {
          for (const { zone, q } of depthQueues) {
            metrics.queueDepth.set({ zone }, await q.getWaitingCount());
            const [oldest] = await q.getJobs(["wait"], -1, -1, false);
            metrics.oldestWaiting.set({ zone }, oldest ? (Date.now() - oldest.timestamp) / 1000 : 0);
          }
        },
      })
    : undefined;
  const resumed = await service.resumePending();
  logger.info({ mode: socketMode ? "socket" : "http", port: socketMode ? undefined : botEnv.PORT, resumed }, "bot started");
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "bot stopping");
      void (async () => {
        clearInterval(zoneTimer);
        await monitor?.close();
        await service.close();
        await app.stop().catch(() => undefined);
        await digests.close();
        metricsServer?.close();
        for (const { q } of depthQueues) await q.close();
        depthConn?.disconnect();
        await queue.close();
        redis.disconnect();
        resolve();
      })();
    };
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
  });
  return 0;
}
