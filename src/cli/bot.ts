import { WebClient, WebClientEvent } from "@slack/web-api";
import { Queue } from "bullmq";
import { createMetrics, serveMetrics } from "../metrics.js";
import { configWarnings } from "../config/validate.js";
import { probeHandler } from "../integrations/probe.js";
import { alertmanagerHandler } from "../integrations/alertmanager.js";
import { AlertThreads } from "../integrations/alertThreads.js";
import { keys } from "../queue/keys.js";
import { createLogger } from "../log.js";
import { CheckQueue } from "../queue/producer.js";
import { pingWithin, redisFor, ready } from "../queue/redis.js";
import { BotEnv, createBot } from "../slack/app.js";
import { startDigests } from "../slack/digest.js";
import { startMonitor } from "../monitor/runner.js";
import { safeText } from "../render/slackText.js";
import { Poster } from "../slack/poster.js";
import { SlackService } from "../slack/service.js";
import { WatchRunner } from "../slack/watches.js";
import { AppTokenRefusedError, SocketLink } from "../slack/socketLink.js";
import { isTokenRefusal, refusalLine, tokenProblems } from "../slack/tokens.js";
import { summarizerFromEnv } from "../summary/summarize.js";
import { formatZodError } from "../check/options.js";
import { loadRuntime } from "../config/runtime.js";
import { parseCommandArgs, StartupError, UsageError } from "./usage.js";
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
  // Token mistakes first, one line each: they are the commonest set-up error.
  const problems = tokenProblems(io.env);
  if (problems.length) throw new StartupError(problems);
  const { env, config } = loadRuntime(io.env);
  const parsed = BotEnv.safeParse(io.env);
  if (!parsed.success) throw new UsageError(`bot configuration: ${formatZodError(parsed.error, (k) => k)}`);
  const botEnv = parsed.data;
  const logger = createLogger(env.LOG_LEVEL, io.stdout);
  // A rejection nobody awaited must say what happened; the bot keeps serving (its links and
  // deliveries recover on their own). An uncaught exception leaves unknown state: log, exit.
  process.on("unhandledRejection", (reason) => {
    const e = reason as Error;
    logger.error({ err: e?.message ?? String(reason), stack: e?.stack }, "unhandled rejection (bot keeps running)");
  });
  process.on("uncaughtException", (err) => {
    logger.fatal({ err: err.message, stack: err.stack }, "uncaught exception; exiting");
    process.exit(EXIT_INTERNAL);
  });
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
  const identity = await whoAmI(client, logger, botEnv.FTP_DOCTOR_SLACK_RECONNECT_MAX_MS);
  const link = botEnv.SLACK_APP_TOKEN
    ? new SocketLink({
        appToken: botEnv.SLACK_APP_TOKEN,
        ...(botEnv.SLACK_API_URL ? { apiUrl: botEnv.SLACK_API_URL.endsWith("/") ? botEnv.SLACK_API_URL : `${botEnv.SLACK_API_URL}/` } : {}),
        logger,
        backoffMaxMs: botEnv.FTP_DOCTOR_SLACK_RECONNECT_MAX_MS,
      })
    : undefined;
  const poster = new Poster(
    client,
    logger,
    botEnv.FTP_DOCTOR_POST_SPACING_MS,
    metrics,
    botEnv.SLACK_API_URL ? [new URL(botEnv.SLACK_API_URL).origin] : [],
  );
  const summary = summarizerFromEnv(io.env, logger, metrics);
  const context = {
    prefix: env.FTP_DOCTOR_REDIS_PREFIX,
    config,
    queue,
    redis,
    poster,
    logger,
    resultWaitMs: botEnv.FTP_DOCTOR_RESULT_WAIT_MS,
  };
  const watches = new WatchRunner({
    ...context,
    redisUrl: env.REDIS_URL,
    intervalMs: botEnv.FTP_DOCTOR_WATCH_INTERVAL_MS,
    durationMs: botEnv.FTP_DOCTOR_WATCH_DURATION_MS,
  });
  const service = new SlackService({
    ...context,
    watches,
    watchIntervalMs: botEnv.FTP_DOCTOR_WATCH_INTERVAL_MS,
    watchDurationMs: botEnv.FTP_DOCTOR_WATCH_DURATION_MS,
    ...(summary.report ? { summarize: summary.report } : {}),
    findMessage: async (channel, text, sinceMs) => {
      const r = await client.conversations.history({ channel, oldest: String(Math.floor(sinceMs / 1000) - 60), limit: 200 });
      return r.messages?.find((m) => m.text === text && !m.thread_ts)?.ts;
    },
  });
  let slackOk = { at: 0, ok: false };
  const health = async (): Promise<Record<string, boolean | object>> => {
    const redisOk = await pingWithin(redis, 1_000);
    if (link) {
      // Socket Mode: Slack reaches us only through the link; a short reconnect is not an outage.
      const state = link.state();
      return { redis: redisOk, slack: state.connected || state.downForMs < botEnv.FTP_DOCTOR_SLACK_LINK_GRACE_MS, slackLink: state };
    }
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
        onEvaluated: (e) => metrics.observeEvaluation(e),
        findParent: async (channel, target, openedAt) => {
          const r = await client.conversations.history({ channel, oldest: String(openedAt / 1000 - 60), limit: 200 });
          return r.messages?.find((m) => m.text?.includes(` ${target}: `))?.ts;
        },
        findReply: async (channel, threadTs, text) => {
          const r = await client.conversations.replies({ channel, ts: threadTs, limit: 200 });
          const sent = safeText(text);
          return !!r.messages?.some((m) => m.ts !== threadTs && m.text === sent);
        },
      })
    : undefined;
  const { app, socketMode } = createBot({
    ...(monitor ? { incidents: monitor } : {}),
    env: botEnv,
    service,
    logger,
    ...(config.slack.autoTriageChannels?.length ? { autoTriage: { channels: config.slack.autoTriageChannels, config } } : {}),
    identity,
    ...(link ? { link } : {}),
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
  if (socketMode) {
    try {
      await app.start();
    } catch (err) {
      if (err instanceof AppTokenRefusedError) throw new StartupError([err.message]);
      throw err;
    }
  } else await app.start(botEnv.PORT);
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
  const alertThreads = new AlertThreads(
    { prefix: env.FTP_DOCTOR_REDIS_PREFIX, config, queue, redis, poster, logger, resultWaitMs: botEnv.FTP_DOCTOR_RESULT_WAIT_MS },
    service,
  );
  if (config.alerts && !botEnv.FTP_DOCTOR_ALERTMANAGER_TOKEN)
    logger.warn({}, "alerts.channel is set but FTP_DOCTOR_ALERTMANAGER_TOKEN is not: the Alertmanager webhook is off");
  if (config.alerts && botEnv.FTP_DOCTOR_ALERTMANAGER_TOKEN && !env.METRICS_PORT)
    logger.warn({}, "the Alertmanager webhook listens on METRICS_PORT, which is not set: it is off");
  const metricsServer = env.METRICS_PORT
    ? await serveMetrics({
        port: env.METRICS_PORT,
        metrics,
        health,
        routes: {
          "/probe": probeHandler({ config, queue, logger }),
          "/hooks/alertmanager": alertmanagerHandler({
            token: config.alerts ? botEnv.FTP_DOCTOR_ALERTMANAGER_TOKEN : undefined,
            logger,
            onNotification: (n) => alertThreads.handle(n),
          }),
        },
        beforeScrape: async () => {
          if (monitor) {
            const open = await monitor.openIncidents();
            for (const severity of ["P1", "P2", "P3"]) metrics.incidentsOpen.set({ severity }, open[severity] ?? 0);
          }
          for (const { zone, q } of depthQueues) {
            metrics.queueDepth.set({ zone }, await q.getWaitingCount());
            const [oldest] = await q.getJobs(["wait"], -1, -1, false);
            metrics.oldestWaiting.set({ zone }, oldest ? (Date.now() - oldest.timestamp) / 1000 : 0);
          }
        },
      })
    : undefined;
  const resumed = await service.resumePending();
  const watching = await watches.resume();
  logger.info({ mode: socketMode ? "socket" : "http", port: socketMode ? undefined : botEnv.PORT, resumed, watching }, "bot started");
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "bot stopping");
      void (async () => {
        clearInterval(zoneTimer);
        await monitor?.close();
        await service.close();
        await watches.close();
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

const EXIT_INTERNAL = 3;

/**
 * auth.test with the bot token: a refused token ends start-up with one line (exit 2); Slack
 * being away is waited out with capped backoff, logged.
 */
async function whoAmI(client: WebClient, logger: ReturnType<typeof createLogger>, maxDelayMs: number) {
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await client.auth.test();
      if (!r.bot_id || !r.user_id) throw new StartupError(["SLACK_BOT_TOKEN is not a bot token: use the Bot User OAuth Token (xoxb-…)"]);
      return { botId: r.bot_id, botUserId: r.user_id };
    } catch (err) {
      if (err instanceof StartupError) throw err;
      const code = (err as { data?: { error?: string } }).data?.error;
      if (isTokenRefusal(code)) throw new StartupError([refusalLine("SLACK_BOT_TOKEN", code!)]);
      const delayMs = Math.min(maxDelayMs, 1_000 * 2 ** attempt);
      logger.warn({ attempt, delayMs, err: code ?? (err as Error).message }, "slack not reachable at start-up (auth.test); retrying");
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}
