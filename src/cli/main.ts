import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { runCheck } from "../check.js";
import { progressLine, renderText } from "../render/text.js";
import { parseTarget, TargetParseError } from "../target/parse.js";
import { CheckOptionsInput, formatZodError, toCheckOptions } from "./checkOptions.js";

export interface CliIo {
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** Exit codes: 0 healthy, 1 a fault was found, 2 bad usage or input. */
export const EXIT = { healthy: 0, fault: 1, usage: 2 } as const;

class UsageError extends Error {
  override readonly name = "UsageError";
}

const CHECK_HELP = `Usage: ftp-doctor check <target> [options]

Diagnose an FTP/FTPS server and name the root cause of a failure.

<target>  host, host:port, [v6]:port, ftp://user@host:port/path,
          ftps://host (implicit TLS), ftpes://host (explicit TLS)

Options:
  --tls MODE            auto (default: try explicit TLS, fall back to plain),
                        explicit, implicit, off
  --user NAME           log in as NAME (default: try anonymous)
  --password-env VAR    read the password from environment variable VAR
  --anonymous           log in anonymously
  --timeout MS          whole-check budget in milliseconds (default 15000)
  --resolver IP[:PORT]  use this DNS server instead of the system resolver
  --ca FILE             also trust the CA certificate(s) in FILE (PEM)
  --write               upload, read back and delete a small test file
  --idle SECONDS        stay idle this long, then check the session survived
  --active              also test active mode (PORT/EPRT)
  --allow-data-host CIDR  a PASV address in CIDR may be connected to
                        (repeatable; the control peer's /24 always may)
  --json                print one JSON object (schema in the README)
  --verbose             also print every step; --transcript: the transcript
  -h, --help            this help

Exit status: 0 healthy, 1 a fault was found, 2 bad usage or input.
`;

const MAIN_HELP = `Usage: ftp-doctor <command> [options]

Commands:
  check <target>   diagnose an FTP/FTPS server (ftp-doctor check --help)
  help             this help

Run \`ftp-doctor check --help\` for the check options.
`;

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "check":
        return await checkCommand(rest, io);
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
    if (err instanceof UsageError || err instanceof TargetParseError) {
      io.stderr.write(`ftp-doctor: ${err.message}\n`);
      return EXIT.usage;
    }
    const e = err as Error;
    io.stderr.write(`ftp-doctor: internal error: ${e?.message ?? String(err)}\n`);
    if (io.env.FTP_DOCTOR_DEBUG) io.stderr.write(`${e?.stack ?? ""}\n`);
    return EXIT.fault;
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

async function checkCommand(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        tls: { type: "string" },
        user: { type: "string" },
        "password-env": { type: "string" },
        anonymous: { type: "boolean" },
        timeout: { type: "string" },
        resolver: { type: "string" },
        ca: { type: "string" },
        write: { type: "boolean" },
        idle: { type: "string" },
        active: { type: "boolean" },
        "allow-data-host": { type: "string", multiple: true },
        json: { type: "boolean" },
        verbose: { type: "boolean" },
        transcript: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message.replace(/\. To specify.*$/s, "")}; see \`ftp-doctor check --help\``);
  }
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(CHECK_HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new UsageError(parsed.positionals.length === 0 ? "check needs a target, e.g. `ftp-doctor check ftp.example.com`" : `check takes one target, got ${parsed.positionals.length}`);
  const target = parseTarget(parsed.positionals[0]!);
  const input = CheckOptionsInput.safeParse({
    ...(v.tls !== undefined ? { tls: v.tls } : {}),
    ...(v.timeout !== undefined ? { timeout: v.timeout } : {}),
    ...(v.user !== undefined ? { user: v.user } : target.user !== undefined && !v.anonymous ? { user: target.user } : {}),
    ...(v["password-env"] !== undefined ? { passwordEnv: v["password-env"] } : {}),
    anonymous: v.anonymous ?? false,
    ...(v.resolver !== undefined ? { resolver: v.resolver } : {}),
    ...(v.ca !== undefined ? { ca: v.ca } : {}),
    write: v.write ?? false,
    ...(v.idle !== undefined ? { idle: v.idle } : {}),
    active: v.active ?? false,
    allowDataHost: v["allow-data-host"] ?? [],
  });
  if (!input.success) throw new UsageError(formatZodError(input.error));
  if (target.urlHadPassword) throw new UsageError("the URL contains a password: remove it and pass --password-env VAR instead (passwords on the command line end up in shell history and process lists)");
  const options = toCheckOptions(input.data);
  let password: string | undefined;
  if (options.passwordEnv) {
    password = io.env[options.passwordEnv];
    if (password === undefined || password === "") throw new UsageError(`environment variable ${options.passwordEnv} (from --password-env) is not set`);
  } else if (options.user && !options.anonymous) {
    password = undefined; // the server may not need one; if it asks, the verdict says so
  }

  const width = Math.min(Math.max(io.stdout.columns ?? 80, 60), 100);
  const color = !!io.stdout.isTTY && !io.env.NO_COLOR && io.env.TERM !== "dumb";
  const live = !v.json && !!io.stderr.isTTY;
  const style = { color: !!io.stderr.isTTY && !io.env.NO_COLOR, width };
  const { report } = await runCheck(target, options, password !== undefined ? { password } : {}, {
    ...(live ? { onStep: (s) => io.stderr.write(`${progressLine(s, style)}\n`) } : {}),
  });
  if (v.json) {
    io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    if (live) io.stderr.write("\n");
    io.stdout.write(renderText(report, { color, width }, { showSteps: !!v.verbose }));
    if (v.transcript) {
      io.stdout.write("\nTranscript\n");
      for (const l of report.transcript) io.stdout.write(`  ${String(l.t).padStart(5)} ${l.conn.padEnd(4)} ${l.dir} ${l.text}\n`);
    }
  }
  return report.verdict.code === "HEALTHY" ? EXIT.healthy : EXIT.fault;
}
