import { writeFile } from "node:fs/promises";
import { history, resultsSince } from "../queue/results.js";
import { redisFor, ready } from "../queue/redis.js";
import { timelineFromHistory } from "../queue/timeline.js";
import { svgToPng } from "../render/raster.js";
import { timelineSvg } from "../render/timeline.js";
import { parseTarget } from "../target/parse.js";
import { loadRuntime } from "../config/runtime.js";
import type { CliIo } from "./main.js";
import { outputFile } from "./pictures.js";
import { parseCommandArgs, UsageError } from "./usage.js";

export async function historyCommand(args: string[], io: CliIo): Promise<number> {
  const { values: v, positionals } = parseCommandArgs("history", args, {
    limit: { type: "string" },
    json: { type: "boolean" },
    png: { type: "string" },
    svg: { type: "string" },
    days: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (v.help) {
    io.stdout.write(
      [
        "Usage: ftp-doctor history <target> [--limit N] [--json] [--png FILE] [--svg FILE] [--days N]",
        "",
        "The last stored results for a target (host:port), newest first.",
        "--png/--svg FILE: the last --days days (default 7) as a timeline picture, a strip per zone",
        "coloured by verdict, incidents outlined, recurring failure windows highlighted.",
        "",
      ].join("\n"),
    );
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError("history needs one target");
  const limit = v.limit === undefined ? 20 : Number(v.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError("--limit: must be a whole number from 1 to 1000");
  const days = v.days === undefined ? 7 : Number(v.days);
  if (!Number.isInteger(days) || days < 1 || days > 30) throw new UsageError("--days: must be a whole number from 1 to 30");
  const png = outputFile("--png", v.png);
  const svgFile = outputFile("--svg", v.svg);
  const target = parseTarget(positionals[0]!);
  const { env } = loadRuntime(io.env);
  const redis = redisFor("producer", env.REDIS_URL);
  redis.on("error", () => undefined);
  try {
    await ready(redis, `Redis at ${new URL(env.REDIS_URL).host}`);
    if (png || svgFile) {
      const now = Date.now();
      const results = await resultsSince(redis, env.FTP_DOCTOR_REDIS_PREFIX, target.host, target.port, now - days * 86_400_000);
      const input = timelineFromHistory(`${target.host}:${target.port}`, results, { now, days });
      const svg = timelineSvg(input);
      if (svgFile) await writeFile(svgFile, svg);
      if (png) await writeFile(png, await svgToPng(svg));
      io.stderr.write(
        `timeline: ${results.length} results over ${days} days from ${input.zones.length} zone(s) → ${[png, svgFile].filter(Boolean).join(", ")}\n`,
      );
      if (!v.json && results.length === 0)
        io.stdout.write(`no stored results for ${target.host}:${target.port} in the last ${days} days\n`);
      if (!v.json) return 0;
    }
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
