import { readFileSync } from "node:fs";
import { TargetParseError } from "../target/parse.js";
import { ConfigError } from "../config/file.js";
import { EnvError } from "../config/env.js";
import { NoWorkerError } from "../queue/errors.js";
import { StartupError, UsageError } from "./usage.js";

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/**
 * Exit codes: 0 healthy, 1 a fault was found, 2 bad usage or input, 3 ftp-doctor's own
 * infrastructure failed (Redis down, no live worker, no result in time, internal error): a
 * script can tell "the server is broken" (1) from "the check could not be made" (3).
 */
export const EXIT = { healthy: 0, fault: 1, usage: 2, infrastructure: 3 } as const;

const MAIN_HELP = `Usage: ftp-doctor <command> [options]

Commands:
  check <target>      diagnose an FTP/FTPS server (inline, or --queue to a zone's workers)
  worker --zone NAME  run checks for a zone from the BullMQ queue
  history <target>    the last 7 days of a target per zone: uptime, incidents, recurring windows
  bot                 run the Slack bot (ftp-doctor bot --help)
  config check [FILE] validate a configuration file
  help                this help

Run \`ftp-doctor check --help\` for the check options.
`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      // Commands load their modules on demand: an inline check must not pay for BullMQ,
      // Bolt and the OpenAI SDK at start-up.
      case "check":
        return await (await import("./check.js")).checkCommand(rest, io);
      case "worker":
        return await (await import("./worker.js")).workerCommand(rest, io);
      case "history":
        return await (await import("./history.js")).historyCommand(rest, io);
      case "bot":
        return await (await import("./bot.js")).botCommand(rest, io);
      case "config":
        return await (await import("./config.js")).configCommand(rest, io);
      case undefined:
      case "help":
      case "-h":
      case "--help":
        io.stdout.write(MAIN_HELP);
        return command === undefined ? EXIT.usage : 0;
      case "--version":
      case "-v":
        io.stdout.write(`${version()}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command "${command}"; try \`ftp-doctor help\``);
    }
  } catch (err) {
    if (err instanceof StartupError) {
      for (const p of err.problems) io.stderr.write(`ftp-doctor: ${p}\n`);
      return EXIT.usage;
    }
    if (err instanceof UsageError || err instanceof TargetParseError || err instanceof ConfigError || err instanceof EnvError) {
      io.stderr.write(`ftp-doctor: ${err.message}\n`);
      return EXIT.usage;
    }
    if (err instanceof NoWorkerError) {
      io.stderr.write(`ftp-doctor: ${err.message}\n`);
      return EXIT.infrastructure;
    }
    const e = err as Error;
    io.stderr.write(`ftp-doctor: internal error: ${e?.message ?? String(err)}\n`);
    if (io.env.FTP_DOCTOR_DEBUG) io.stderr.write(`${e?.stack ?? ""}\n`);
    return EXIT.infrastructure;
  }
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
    return pkg.version;
  } catch {
    return "unknown";
  }
}
