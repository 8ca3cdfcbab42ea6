/**
 * The bot as a real process in HTTP mode against a local Slack Web API (the start code of
 * bot.test.ts, shared with the benchmark).
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../harness/env.js";

export interface BotProcess {
  child: ChildProcess;
  out: () => string;
  /** Where Slack would POST: slash commands, events, interactions. */
  url: string;
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function startBotProcess(opts: {
  port: number;
  slackApiUrl: string;
  signingSecret: string;
  redisUrl: string;
  prefix: string;
  configFile: string;
  env?: Record<string, string>;
}): Promise<BotProcess> {
  const child = spawn(process.execPath, [path.join(repoRoot, "bin", "ftp-doctor.js"), "bot"], {
    env: {
      PATH: process.env.PATH ?? "",
      REDIS_URL: opts.redisUrl,
      FTP_DOCTOR_REDIS_PREFIX: opts.prefix,
      FTP_DOCTOR_CONFIG: opts.configFile,
      SLACK_BOT_TOKEN: "xoxb-test-token",
      SLACK_SIGNING_SECRET: opts.signingSecret,
      SLACK_API_URL: opts.slackApiUrl,
      PORT: String(opts.port),
      FTP_DOCTOR_POST_SPACING_MS: "0",
      FTP_DOCTOR_RESULT_WAIT_MS: "30000",
      LOG_LEVEL: "info",
      ...opts.env,
    },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  const b: BotProcess = {
    child,
    out: () => out,
    url: `http://127.0.0.1:${opts.port}/slack/events`,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      if (/"bot started"/.test(out)) return resolve(b);
      if (child.exitCode !== null) return reject(new Error(`bot exited: ${out}`));
      if (Date.now() - t0 > 15_000) {
        // Not started (or not saying so): never leave it running.
        child.kill("SIGKILL");
        return reject(new Error(`bot did not start: ${out}`));
      }
      setTimeout(tick, 25);
    };
    tick();
  });
}
