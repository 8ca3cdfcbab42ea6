/**
 * Renders the README's pictures into docs/ from the test fixtures and prints render time and
 * PNG size (the figures in the README): `node dist/scripts/pictures.js`. The timeline's week is
 * stored through the real history on Redis (REDIS_URL) under a temporary prefix.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { timelineFromHistory } from "../src/queue/timeline.js";
import { svgToPng } from "../src/render/raster.js";
import { timelineSvg } from "../src/render/timeline.js";
import { waterfallSvg } from "../src/render/waterfall.js";
import { repoRoot } from "../test/harness/env.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../test/queue/lib.js";
import { demoHistory, reportFixture } from "../test/render/fixtures.js";

const RUNS = 10;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const prefix = uniquePrefix();
const week = await demoHistory(redis, prefix);
await deletePrefix(redis, prefix);
redis.disconnect();
const cases: [string, () => string][] = [
  ["waterfall", () => waterfallSvg(reportFixture("typical"))],
  ["waterfall-worst", () => waterfallSvg(reportFixture("worst"))],
  ["timeline", () => timelineSvg(timelineFromHistory(week))],
];
// Wall time depends on what else the machine runs; CPU time (all threads) much less so.
process.stdout.write(
  "| picture | SVG build (median) | rasterise, wall (median) | rasterise, CPU (median) | PNG size | size |\n|---|---|---|---|---|---|\n",
);
for (const [name, build] of cases) {
  const builds: number[] = [];
  const renders: number[] = [];
  const cpu: number[] = [];
  let png: Buffer = Buffer.alloc(0);
  let svg = "";
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    svg = build();
    const t1 = performance.now();
    const c0 = process.cpuUsage();
    png = await svgToPng(svg);
    renders.push(performance.now() - t1);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    builds.push(t1 - t0);
  }
  writeFileSync(path.join(repoRoot, "docs", `${name}.png`), png);
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(1);
  const w = png.readUInt32BE(16);
  const h = png.readUInt32BE(20);
  process.stdout.write(
    `| ${name} | ${med(builds)} ms | ${med(renders)} ms | ${med(cpu)} ms | ${(png.length / 1024).toFixed(1)} KiB | ${w}×${h} |\n`,
  );
}
