/** `ftp-doctor` as a user runs it: a real process with only PATH and `env`; its exit code, output and wall time. */
import { spawn } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../harness/env.js";

const BIN = path.join(repoRoot, "bin", "ftp-doctor.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env } });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - t0 }));
  });
}
