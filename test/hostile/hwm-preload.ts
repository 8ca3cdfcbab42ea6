/**
 * Loaded with `node --import` into a CLI child by the hostile tests: at exit, writes the
 * process's peak resident set (VmHWM, kB) to the file named by FTPD_HWM_FILE. Reading
 * /proc/PID/status from the parent races the exit; this does not.
 */
import { readFileSync, writeFileSync } from "node:fs";

const out = process.env.FTPD_HWM_FILE;
if (out) {
  process.on("exit", () => {
    try {
      const status = readFileSync("/proc/self/status", "utf8");
      const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
      writeFileSync(out, m ? m[1]! : "");
    } catch {
      // no /proc: the parent reports the peak as unknown
    }
  });
}
