import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad usage or input: exit 2 with one line, never a stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Start-up found problems (tokens, settings): exit 2, one line per problem. */
export class StartupError extends Error {
  override readonly name = "StartupError";
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
  }
}

/** node:util parseArgs with its errors turned into one-line usage errors. */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig["options"]>>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify.*$/s, "")}; see \`ftp-doctor ${command} --help\``);
  }
}
