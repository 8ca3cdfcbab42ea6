import { historyText, loadHistory } from "../queue/historyModel.js";
import { redisFor, ready } from "../queue/redis.js";
import { parseTarget } from "../target/parse.js";
import { loadRuntime } from "../config/runtime.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";

export async function historyCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommandArgs("history", args, {
    days: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    io.stdout.write(
      "Usage: ftp-doctor history <target> [--days N] [--json]\n\nThe last N days (default 7) of a target (host:port) per zone: uptime, incidents with start, end and duration,\nthe current state, and recurring failure windows.\n",
    );
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("history needs one target");
  const days = v.days === undefined ? 7 : Number(v.days);
  if (!Number.isInteger(days) || days < 1 || days > 7) throw new UsageError("--days: must be a whole number from 1 to 7");
  const target = parseTarget(positionals[0]!);
  const { env } = loadRuntime(io.env);
  const redis = redisFor("producer", env.REDIS_URL);
  redis.on("error", () => undefined);
  try {
    await ready(redis, `Redis at ${new URL(env.REDIS_URL).host}`);
    const model = await loadHistory(redis, env.FTP_DOCTOR_REDIS_PREFIX, target.host, target.port, { days });
    io.stdout.write(v.json ? `${JSON.stringify(model, null, 2)}\n` : historyText(model));
    return 0;
  } finally {
    redis.disconnect();
  }
}
