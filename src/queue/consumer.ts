import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import { UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { runCheck, type CheckReport } from "../check/run.js";
import { toCheckOptions, CheckOptionsInput } from "../check/options.js";
import { ConfigError, resolveProfile, type ConfigFile } from "../config/file.js";
import type { RuntimeEnv } from "../config/env.js";
import type { Logger } from "../log.js";
import type { Metrics } from "../metrics.js";
import { scrubDeep } from "../policy/scrub.js";
import { TargetPolicy } from "../policy/targetPolicy.js";
import { parseTarget, TargetParseError } from "../target/parse.js";
import { storeResult } from "./results.js";
import { keys } from "./keys.js";
import { CheckJobPayload } from "./payload.js";
import { HEARTBEAT_MS } from "./producer.js";
import { redisFor } from "./redis.js";

export interface WorkerOptions {
  zone: string;
  /** Checks run at once. @defaultValue 8 */
  concurrency: number;
  env: RuntimeEnv;
  config: ConfigFile;
  /** Where profile passwords are read from (this host's environment). */
  secretsEnv: NodeJS.ProcessEnv;
  logger: Logger;
  metrics?: Metrics;
}

export interface RunningWorker {
  id: string;
  /** Drain: in-flight checks finish (bounded by their budget), no new ones start. */
  close(): Promise<void>;
  worker: Worker;
  redis: Redis;
}

/** Turn a job into a check. Throws UnrecoverableError for jobs that can never succeed. */
export async function processCheck(job: Job, opts: WorkerOptions, redis: Redis): Promise<CheckReport> {
  const parsed = CheckJobPayload.safeParse(job.data);
  if (!parsed.success)
    throw new UnrecoverableError(`invalid job payload: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const p = parsed.data;
  if (p.zone !== opts.zone) throw new UnrecoverableError(`job for zone "${p.zone}" reached a worker of zone "${opts.zone}"`);
  let target;
  let profile;
  try {
    target = parseTarget(p.target);
    profile = p.profile ? resolveProfile(opts.config, p.profile, opts.secretsEnv) : undefined;
  } catch (err) {
    if (err instanceof TargetParseError || err instanceof ConfigError) throw new UnrecoverableError(err.message);
    throw err;
  }
  // Defence in depth (issue 10 item 3): the worker applies the same target policy as the bot,
  // with its own copy of the configuration, whoever wrote the job into Redis.
  const policy = new TargetPolicy(opts.config);
  const permit = policy.request({
    who: { front: "worker" },
    host: target.host,
    zone: p.zone,
    ...(p.profile ? { profile: p.profile } : {}),
  });
  if (!permit.permitted) {
    opts.logger.warn({ jobId: job.id, zone: opts.zone, target: p.target, rule: permit.rule }, "check refused by the target policy");
    throw new UnrecoverableError(`TARGET_NOT_PERMITTED: ${permit.message} (rule ${permit.rule}; this worker's configuration)`);
  }
  const options = toCheckOptions(
    CheckOptionsInput.parse({
      ...p.options,
      // Differing PASV hosts are decided by the policy alone: a job cannot widen it.
      allowDataHost: [],
      ...(profile?.tls && p.options.tls === "auto" ? { tls: profile.tls } : {}),
      ...(profile ? { user: profile.user, anonymous: false } : {}),
      ...(profile?.caFile ? { ca: profile.caFile } : {}),
    }),
  );
  const started = Date.now();
  opts.logger.info(
    { jobId: job.id, zone: opts.zone, target: p.target, profile: p.profile, attempt: job.attemptsMade + 1 },
    "check started",
  );
  const { report: raw } = await runCheck(
    target,
    options,
    profile?.password !== undefined ? { password: profile.password } : {},
    {},
    policy.probePolicy(p.profile),
  );
  // The password in use, in clear or encoded, never leaves the worker: not in the stored
  // report, the job's return value and events, nor anything summarised from them (item 6).
  const report = scrubDeep(raw, [profile?.password]);
  report.zone = opts.zone;
  opts.metrics?.observeReport(report, opts.zone);
  await storeResult(
    redis,
    opts.env.FTP_DOCTOR_REDIS_PREFIX,
    opts.env.FTP_DOCTOR_RESULT_TTL_DAYS,
    {
      jobId: job.id!,
      zone: opts.zone,
      finishedAt: new Date().toISOString(),
      report,
    },
    { transient: p.requestedBy === "monitor" },
  );
  opts.logger.info(
    { jobId: job.id, zone: opts.zone, target: p.target, code: report.verdict.code, durationMs: Date.now() - started },
    "check finished",
  );
  return report;
}

export async function startWorker(opts: WorkerOptions): Promise<RunningWorker> {
  const { env, zone, logger } = opts;
  const prefix = env.FTP_DOCTOR_REDIS_PREFIX;
  const id = `${hostname()}-${process.pid}-${randomBytes(3).toString("hex")}`;
  const redis = redisFor("worker", env.REDIS_URL);
  redis.on("error", (err) => logger.warn({ err: err.message }, "redis error"));
  const workerConnection = redisFor("worker", env.REDIS_URL);
  workerConnection.on("error", () => undefined); // the Worker reports its own errors
  const worker = new Worker(keys.queueName(zone), (job) => processCheck(job, opts, redis), {
    connection: workerConnection,
    prefix,
    concurrency: opts.concurrency,
    stalledInterval: env.FTP_DOCTOR_STALLED_INTERVAL_MS,
    lockDuration: env.FTP_DOCTOR_LOCK_MS,
    // A check killed with its worker is picked up again; twice is enough to tell a crash
    // loop (a target that kills workers) from bad luck.
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on("failed", (job, err) => {
    opts.metrics?.jobFailures.inc({ zone });
    logger.warn({ jobId: job?.id, zone, err: err.message, attempts: job?.attemptsMade }, "check job failed");
  });
  worker.on("stalled", (jobId) => logger.warn({ jobId, zone }, "check job stalled; requeued"));
  worker.on("error", (err) => logger.error({ zone, err: err.message }, "worker error"));

  const beat = async () => {
    try {
      await redis
        .multi()
        .zadd(keys.zoneWorkers(prefix, zone), Date.now(), id)
        .zremrangebyscore(keys.zoneWorkers(prefix, zone), 0, Date.now() - 60_000)
        .sadd(keys.zones(prefix), zone)
        .exec();
    } catch (err) {
      logger.warn({ zone, err: (err as Error).message }, "heartbeat failed");
    }
  };
  await beat();
  const timer = setInterval(() => void beat(), HEARTBEAT_MS);
  await worker.waitUntilReady();
  logger.info({ zone, workerId: id, concurrency: opts.concurrency }, "worker started");

  let closing: Promise<void> | undefined;
  return {
    id,
    worker,
    redis,
    close() {
      closing ??= (async () => {
        clearInterval(timer);
        logger.info({ zone, workerId: id }, "worker draining");
        await redis.zrem(keys.zoneWorkers(prefix, zone), id).catch(() => undefined);
        await worker.close();
        workerConnection.disconnect();
        redis.disconnect();
        logger.info({ zone, workerId: id }, "worker stopped");
      })();
      return closing;
    },
  };
}
