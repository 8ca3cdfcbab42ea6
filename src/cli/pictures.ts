import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { CheckReport } from "../check/run.js";
import { svgToPng } from "../render/raster.js";
import { waterfallSvg } from "../render/waterfall.js";
import { UsageError } from "./usage.js";

/** Checked before the check runs: a typo in the folder must not cost a 15-second check. */
export function outputFile(flag: string, file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  if (file === "" || file.endsWith("/")) throw new UsageError(`${flag}: needs a file name, e.g. ${flag} check.${flag.slice(2)}`);
  const dir = path.dirname(path.resolve(file));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`${flag}: folder ${dir} does not exist`);
  if (existsSync(file) && statSync(file).isDirectory()) throw new UsageError(`${flag}: ${file} is a folder`);
  return file;
}

/** With several zones, one picture per zone: check.png → check-dmz.png. */
export function perZone(file: string, zone: string | undefined, several: boolean): string {
  if (!several || !zone) return file;
  const ext = path.extname(file);
  return `${file.slice(0, file.length - ext.length)}-${zone}${ext}`;
}

export async function writeWaterfall(report: CheckReport, files: { png?: string; svg?: string }, several = false): Promise<string[]> {
  const svg = waterfallSvg(report);
  const written: string[] = [];
  if (files.svg) {
    const f = perZone(files.svg, report.zone, several);
    await writeFile(f, svg);
    written.push(f);
  }
  if (files.png) {
    const f = perZone(files.png, report.zone, several);
    await writeFile(f, await svgToPng(svg));
    written.push(f);
  }
  return written;
}
