import { checkConfigFile } from "../config/validate.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";

export async function configCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs("config", args, { help: { type: "boolean", short: "h" } });
  if (values.help || positionals[0] !== "check") {
    if (!values.help) throw new UsageError("usage: ftp-doctor config check [FILE]  (FILE defaults to $FTP_DOCTOR_CONFIG)");
    io.stdout.write(
      "Usage: ftp-doctor config check [FILE]\n\nValidate a configuration file: every problem with its key path and a fix (exit 2), or a summary (exit 0).\n",
    );
    return 0;
  }
  const file = positionals[1] ?? io.env.FTP_DOCTOR_CONFIG;
  if (!file) throw new UsageError("config check needs a FILE (or FTP_DOCTOR_CONFIG)");
  const r = checkConfigFile(file, io.env);
  if (r.ok) {
    io.stdout.write(`${file}: OK\n${r.summary}`);
    return 0;
  }
  io.stderr.write(`${file}: ${r.problems.length} problem${r.problems.length > 1 ? "s" : ""}\n`);
  for (const p of r.problems) io.stderr.write(`  ${p.path}: ${p.message}\n    fix: ${p.fix}\n`);
  return 2;
}
