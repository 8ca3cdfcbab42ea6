import { Redis, type RedisOptions } from "ioredis";
import { RedisUnavailableError } from "./errors.js";

/**
 * BullMQ's production guidance: workers keep retrying forever (`maxRetriesPerRequest: null`),
 * producers fail fast (`enableOfflineQueue: false`) so a Redis outage is an immediate error
 * for the person waiting, not a hang.
 */
export function redisFor(role: "worker" | "producer", url: string, extra: RedisOptions = {}): Redis {
  const common: RedisOptions = { connectTimeout: 3_000, lazyConnect: false, ...extra };
  if (role === "worker") return new Redis(url, { ...common, maxRetriesPerRequest: null, enableReadyCheck: true });
  // Commands fail at once while Redis is away (no offline queue), but the connection keeps
  // reconnecting: a long-lived producer (the bot) must recover from a Redis restart.
  return new Redis(url, { ...common, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: (n) => Math.min(200 * n, 2_000) });
}

/** Wait until the connection is ready, or fail with one clear message. */
export async function ready(redis: Redis, what: string, timeoutMs = 3_000): Promise<void> {
  if (redis.status === "ready") return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new RedisUnavailableError(`${what}: Redis did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    const onReady = () => {
      cleanup();
      resolve();
    };
    const onEnd = () => {
      cleanup();
      reject(new RedisUnavailableError(`${what}: cannot connect to Redis`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      redis.off("ready", onReady);
      redis.off("end", onEnd);
    };
    redis.once("ready", onReady);
    redis.once("end", onEnd);
  });
}

/** PING with a deadline (a worker connection would otherwise wait for Redis forever). */
export async function pingWithin(redis: Redis, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)));
  try {
    return await Promise.race([
      redis.ping().then(
        () => true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
