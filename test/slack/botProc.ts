/** The real bot as a child process, for the Socket Mode and replica tests (and, started, botProcess.ts). */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../harness/env.js";
import { REDIS_URL } from "../queue/lib.js";
import { blockActions, mentionEvent, slashFields } from "./fakeSlack.js";

export interface BotProc {
  child: ChildProcess;
  out(): string;
  exited: Promise<number | null>;
  /** Resolves once `re` appears in the output (JSON log lines). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnBot(env: Record<string, string>): BotProc {
  const child = spawn(process.execPath, [path.join(repoRoot, "bin", "ftp-doctor.js"), "bot"], {
    env: { PATH: process.env.PATH ?? "", REDIS_URL, LOG_LEVEL: "info", ...env },
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
  return {
    child,
    out: () => out,
    exited,
    waitFor: (re, timeoutMs = 15_000) =>
      new Promise((resolve, reject) => {
        const t0 = Date.now();
        const tick = () => {
          if (re.test(out)) return resolve();
          if (child.exitCode !== null) return reject(new Error(`bot exited (${child.exitCode}) before ${re}:\n${out}`));
          if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${re}; bot output:\n${out}`));
          setTimeout(tick, 25);
        };
        tick();
      }),
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

let trigger = 0;
/** A slash command as Socket Mode delivers it (the form fields of HTTP mode, as a JSON object). */
export function slashPayload(fields: { text: string; user?: string; channel?: string; responseUrl?: string }): Record<string, unknown> {
  const triggerId = `trig-sm-${process.pid}-${Date.now()}-${trigger++}`;
  return { ...slashFields({ ...fields, triggerId }), is_enterprise_install: "false" };
}

/** An app_mention as an Events API envelope's payload. */
export function mentionPayload(fields: { text: string; ts: string; channel?: string; threadTs?: string }): Record<string, unknown> {
  return mentionEvent({ ...fields, eventId: `EvSM${Date.now()}${trigger++}` });
}

/** A button click (block_actions) as an interactive envelope's payload. */
export function actionPayload(fields: { actionId: string; value: string; messageTs: string; threadTs?: string; channel?: string }) {
  return blockActions({ ...fields, triggerId: `trig-sm-act-${Date.now()}-${trigger++}` });
}
