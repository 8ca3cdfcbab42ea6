import { history } from "../queue/results.js";
import { redisFor, ready } from "../queue/redis.js";
import { parseTarget } from "../target/parse.js";
import { loadRuntime } from "../config/runtime.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";

export async function historyCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommandArgs("history", args, {
    limit: { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    io.stdout.write(
      "Usage: ftp-doctor history <target> [--limit N] [--json]\n\nThe last stored results for a target (host:port), newest first.\n",
    );
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("history needs one target");
  const limit = v.limit === undefined ? 20 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError("--limit: must be a whole number from 1 to 1000");
  const target = parseTarget(positionals[0]!);
  const { env } = loadRuntime(io.env);
  const redis = redisFor("producer", env.REDIS_URL);
  redis.on("error", () => undefined);
  try {
    await ready(redis, `Redis at ${new URL(env.REDIS_URL).host}`);
    const rows = await history(redis, env.FTP_DOCTOR_REDIS_PREFIX, target.host, target.port, limit);
    if (v.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) io.stdout.write(`no stored results for ${target.host}:${target.port}\n`);
    else
      for (const r of rows)
        io.stdout.write(
          `${r.finishedAt}  ${r.zone.padEnd(10)} ${r.report.verdict.code.padEnd(24)} ${String(r.report.durationMs).padStart(6)} ms  ${r.report.verdict.title}\n`,
        );
    return 0;
  } finally {
    redis.disconnect();
  }
}
