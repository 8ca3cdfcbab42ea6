import { writeFile } from "node:fs/promises";
import { historyText, loadHistory } from "../queue/historyModel.js";
import { redisFor, ready } from "../queue/redis.js";
import { timelineFromHistory } from "../queue/timeline.js";
import { svgToPng } from "../render/raster.js";
import { timelineSvg } from "../render/timeline.js";
import { parseTarget } from "../target/parse.js";
import { loadRuntime } from "../config/runtime.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";
import { outputFile } from "./pictures.js";

export async function historyCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommandArgs("history", args, {
    days: { type: "string" },
    json: { type: "boolean" },
    png: { type: "string" },
    svg: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    io.stdout.write(
      "Usage: ftp-doctor history <target> [--days N] [--json] [--png FILE] [--svg FILE]\n\n" +
        "The last N days (default 7) of a target (host:port) per zone: uptime, incidents with start, end and duration,\n" +
        "the current state, and recurring failure windows. --png/--svg FILE: the same as a timeline picture\n" +
        "(a strip per zone coloured by verdict, incidents outlined, recurring windows highlighted).\n",
    );
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("history needs one target");
  const days = v.days === undefined ? 7 : Number(v.days);
  if (!Number.isInteger(days) || days < 1 || days > 7) throw new UsageError("--days: must be a whole number from 1 to 7");
  const png = outputFile("--png", v.png);
  const svgFile = outputFile("--svg", v.svg);
  const target = parseTarget(positionals[0]!);
  const { env } = loadRuntime(io.env);
  const redis = redisFor("producer", env.REDIS_URL);
  redis.on("error", () => undefined);
  try {
    await ready(redis, `Redis at ${new URL(env.REDIS_URL).host}`);
    const model = await loadHistory(redis, env.FTP_DOCTOR_REDIS_PREFIX, target.host, target.port, { days });
    io.stdout.write(v.json ? `${JSON.stringify(model, null, 2)}\n` : historyText(model));
    if (png || svgFile) {
      const svg = timelineSvg(timelineFromHistory(model));
      if (svgFile) await writeFile(svgFile, svg);
      if (png) await writeFile(png, await svgToPng(svg));
      // On stderr: stdout stays the history (--json pipes).
      io.stderr.write(`timeline: ${[png, svgFile].filter(Boolean).join(", ")}\n`);
    }
    return 0;
  } finally {
    redis.disconnect();
  }
}
