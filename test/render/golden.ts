/**
 * Golden-image comparison: decode both PNGs (pngjs) and count pixels whose colour differs by
 * more than a small amount (anti-aliasing may move with a resvg or CPU change); fail when more
 * than `tolerance` of them differ. `UPDATE_GOLDEN=1` rewrites the golden files.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PNG } from "pngjs";
import { repoRoot } from "../harness/env.js";

export const GOLDEN_DIR = path.join(repoRoot, "test", "fixtures", "golden");

export interface Diff {
  width: number;
  height: number;
  /** Share of pixels whose largest channel difference exceeds `channelDelta`. */
  differing: number;
}

export function decode(png: Buffer): PNG {
  return PNG.sync.read(png);
}

export function diff(a: Buffer, b: Buffer, channelDelta = 32): Diff {
  const x = decode(a);
  const y = decode(b);
  if (x.width !== y.width || x.height !== y.height) return { width: x.width, height: x.height, differing: 1 };
  let bad = 0;
  for (let i = 0; i < x.data.length; i += 4) {
    let d = 0;
    for (let c = 0; c < 4; c++) d = Math.max(d, Math.abs(x.data[i + c]! - y.data[i + c]!));
    if (d > channelDelta) bad++;
  }
  return { width: x.width, height: x.height, differing: bad / (x.width * x.height) };
}

/** Compare with the golden file; the actual picture is kept in the temp folder for a look when it fails. */
export function matchGolden(name: string, actual: Buffer, tolerance = 0.002): { ok: boolean; message: string } {
  const file = path.join(GOLDEN_DIR, `${name}.png`);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
    if (process.env.UPDATE_GOLDEN !== "1") return { ok: false, message: `no golden ${file}: run with UPDATE_GOLDEN=1 once` };
    mkdirSync(GOLDEN_DIR, { recursive: true });
    writeFileSync(file, actual);
  }
  const d = diff(readFileSync(file), actual);
  const keep = path.join(os.tmpdir(), `ftp-doctor-${name}.actual.png`);
  if (d.differing > tolerance) writeFileSync(keep, actual);
  return {
    ok: d.differing <= tolerance,
    message: `${name}: ${(d.differing * 100).toFixed(3)} % of pixels differ (tolerance ${(tolerance * 100).toFixed(1)} %); actual picture: ${keep}`,
  };
}
