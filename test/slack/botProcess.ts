/**
 * The bot as a real process in HTTP mode against a local Slack Web API, started (the start code
 * of the HTTP-mode bot tests, shared with the benchmark).
 */
import { REDIS_URL } from "../queue/lib.js";
import { type BotProc, spawnBot } from "./botProc.js";

export interface BotProcess extends BotProc {
  /** Where Slack would POST: slash commands, events, interactions. */
  url: string;
}

export async function startBotProcess(opts: {
  port: number;
  slackApiUrl: string;
  signingSecret: string;
  /** Default: REDIS_URL of the tests. */
  redisUrl?: string;
  prefix: string;
  configFile: string;
  env?: Record<string, string>;
  /** How long it may take to say "bot started" (default 15 s). */
  startTimeoutMs?: number;
}): Promise<BotProcess> {
  const b = spawnBot({
    REDIS_URL: opts.redisUrl ?? REDIS_URL,
    FTP_DOCTOR_REDIS_PREFIX: opts.prefix,
    FTP_DOCTOR_CONFIG: opts.configFile,
    SLACK_BOT_TOKEN: "xoxb-test-token",
    SLACK_SIGNING_SECRET: opts.signingSecret,
    SLACK_API_URL: opts.slackApiUrl,
    PORT: String(opts.port),
    FTP_DOCTOR_POST_SPACING_MS: "0",
    FTP_DOCTOR_RESULT_WAIT_MS: "30000",
    ...opts.env,
  });
  try {
    await b.waitFor(/"bot started"/, opts.startTimeoutMs ?? 15_000);
  } catch (e) {
    // Not started (or not saying so): never leave it running.
    b.child.kill("SIGKILL");
    throw e;
  }
  return { ...b, url: `http://127.0.0.1:${opts.port}/slack/events` };
}
