import { runCheck, type CheckReport } from "../check/run.js";
import { resolveProfile } from "../config/file.js";
import { progressLine, renderText, type TextStyle } from "../render/text.js";
import { crossZoneVerdict, type CrossZoneVerdict, type ZoneOutcome } from "../diagnosis/crossZone.js";
import { ZoneName } from "../config/file.js";
import { parseTarget, TargetParseError } from "../target/parse.js";
import { ConfigError } from "../config/file.js";
import { EnvError } from "../config/env.js";
import { NoWorkerError, RedisUnavailableError } from "../queue/errors.js";
import { CheckOptionsInput, formatZodError, toCheckOptions } from "../check/options.js";
import { defaultZone, loadRuntime } from "../config/runtime.js";
import { parseCommandArgs, UsageError } from "./usage.js";
import type { CliIo } from "./main.js";
import { cliSummarizer } from "./summarizer.js";
import { outputFile, writeWaterfall } from "./pictures.js";

export const CHECK_HELP = `Usage: ftp-doctor check <target> [options]

Diagnose an FTP/FTPS server and name the root cause of a failure.

<target>  host, host:port, [v6]:port, ftp://user@host:port/path,
          ftps://host (implicit TLS), ftpes://host (explicit TLS)

Options:
  --tls MODE            auto (default: try explicit TLS, fall back to plain),
                        explicit, implicit, off
  --user NAME           log in as NAME (default: try anonymous)
  --password-env VAR    read the password from environment variable VAR
  --profile NAME        credentials/TLS from a profile in FTP_DOCTOR_CONFIG
  --anonymous           log in anonymously
  --timeout MS          whole-check budget in milliseconds (default 15000)
  --resolver IP[:PORT]  use this DNS server instead of the system resolver
  --ca FILE             also trust the CA certificate(s) in FILE (PEM)
  --write               upload, read back and delete a small test file
  --idle SECONDS        stay idle this long, then check the session survived
  --active              also test active mode (PORT/EPRT)
  --allow-data-host CIDR  a PASV address in CIDR may be connected to
                        (repeatable; the control peer's /24 always may)
  --queue               run on the zone's workers (BullMQ, REDIS_URL) instead
  --zone NAME           zone(s) to run in (repeatable; implies --queue); with
                        several zones a cross-zone verdict compares them
  --wait MS             how long to wait for queued results (default 60000)
  --png FILE            also draw the check as a waterfall picture (PNG)
  --svg FILE            the same picture as SVG (several zones: FILE-<zone>.png)
  --json                print one JSON object (schema in the README)
  --summarize           add a short LLM-written summary (needs OPENAI_BASE_URL
                        or OPENAI_API_KEY; OPENAI_MODEL); the verdict is unchanged
  --verbose             also print every step; --transcript: the transcript
  -h, --help            this help

Exit status: 0 healthy, 1 a fault was found, 2 bad usage or input.
`;

const OPTIONS = {
  tls: { type: "string" },
  user: { type: "string" },
  "password-env": { type: "string" },
  profile: { type: "string" },
  anonymous: { type: "boolean" },
  timeout: { type: "string" },
  resolver: { type: "string" },
  ca: { type: "string" },
  write: { type: "boolean" },
  idle: { type: "string" },
  active: { type: "boolean" },
  "allow-data-host": { type: "string", multiple: true },
  queue: { type: "boolean" },
  zone: { type: "string", multiple: true },
  wait: { type: "string" },
  json: { type: "boolean" },
  png: { type: "string" },
  svg: { type: "string" },
  summarize: { type: "boolean" },
  verbose: { type: "boolean" },
  transcript: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Why a check could not be made, in `--json` output (`error.code`). */
const CHECK_ERROR_CODES = ["USAGE", "NO_WORKER", "REDIS_UNAVAILABLE", "NO_RESULT", "INTERNAL"] as const;
type CheckErrorCode = (typeof CHECK_ERROR_CODES)[number];

/** Exit 3: the check could not be made (see EXIT in main.ts; not imported, to keep start-up lean). */
const EXIT_INFRASTRUCTURE = 3;

function errorJson(io: CliIo, code: CheckErrorCode, message: string, extra: Record<string, unknown> = {}): void {
  io.stdout.write(`${JSON.stringify({ schemaVersion: 1, ...extra, error: { code, message } }, null, 2)}\n`);
}

/** With `--json`, a failure is still one JSON object on stdout (and one line on stderr). */
export async function checkCommand(args: string[], io: CliIo): Promise<number> {
  if (!args.includes("--json")) return checkCommandInner(args, io);
  try {
    return await checkCommandInner(args, io);
  } catch (err) {
    const usage = err instanceof UsageError || err instanceof TargetParseError || err instanceof ConfigError || err instanceof EnvError;
    const code: CheckErrorCode = usage
      ? "USAGE"
      : err instanceof NoWorkerError
        ? "NO_WORKER"
        : err instanceof RedisUnavailableError
          ? "REDIS_UNAVAILABLE"
          : "INTERNAL";
    const message = (err as Error)?.message ?? String(err);
    errorJson(io, code, message);
    io.stderr.write(`ftp-doctor: ${code === "INTERNAL" ? "internal error: " : ""}${message}\n`);
    return usage ? 2 : EXIT_INFRASTRUCTURE;
  }
}

async function checkCommandInner(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommandArgs("check", args, OPTIONS);
  const v = parsed.values;
  if (v.help) {
    io.stdout.write(CHECK_HELP);
    return 0;
  }
  if (parsed.positionals.length !== 1)
    throw new UsageError(
      parsed.positionals.length === 0
        ? "check needs a target, e.g. `ftp-doctor check ftp.example.com`"
        : `check takes one target, got ${parsed.positionals.length}`,
    );
  const target = parseTarget(parsed.positionals[0]!);
  if (target.urlHadPassword)
    throw new UsageError(
      "the URL contains a password: remove it and pass --password-env VAR instead (passwords on the command line end up in shell history and process lists)",
    );
  const pictures = { png: outputFile("--png", v.png), svg: outputFile("--svg", v.svg) };
  const draw = async (report: CheckReport, several = false) => {
    if (!pictures.png && !pictures.svg) return;
    const files = await writeWaterfall(report, pictures, several);
    // On stderr: stdout stays the report (--json pipes).
    io.stderr.write(`waterfall: ${files.join(", ")}\n`);
  };
  const queued = !!v.queue || (v.zone?.length ?? 0) > 0;
  if (v.profile && (v.user || v["password-env"] || v.anonymous))
    throw new UsageError("--profile already names the user and password: drop --user/--password-env/--anonymous");
  if (queued && (v.user || v["password-env"]))
    throw new UsageError("queued checks take credentials from a --profile resolved on the worker, never --user/--password-env");
  if (queued && v.ca) throw new UsageError("queued checks take the CA file from the worker's profile (--profile), not --ca");
  const input = CheckOptionsInput.safeParse({
    ...(v.tls !== undefined ? { tls: v.tls } : {}),
    ...(v.timeout !== undefined ? { timeout: v.timeout } : {}),
    ...(v.user !== undefined
      ? { user: v.user }
      : target.user !== undefined && !v.anonymous && !v.profile && !queued
        ? { user: target.user }
        : {}),
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
  const summarize = v.summarize ? cliSummarizer({ env: io.env, stderr: io.stderr, json: !!v.json }) : undefined;
  const width = Math.min(Math.max(io.stdout.columns ?? 80, 60), 100);
  const style: TextStyle = { color: !!io.stdout.isTTY && !io.env.NO_COLOR && io.env.TERM !== "dumb", width };
  const print = (report: CheckReport) => {
    io.stdout.write(renderText(report, style, { showSteps: !!v.verbose }));
    if (v.transcript) {
      io.stdout.write("\nTranscript\n");
      for (const l of report.transcript) io.stdout.write(`  ${String(l.t).padStart(5)} ${l.conn.padEnd(4)} ${l.dir} ${l.text}\n`);
    }
  };

  if (queued) {
    const waitMs = v.wait === undefined ? 60_000 : Number(v.wait);
    if (!Number.isInteger(waitMs) || waitMs < 1000 || waitMs > 3_600_000)
      throw new UsageError("--wait: must be milliseconds from 1000 to 3600000");
    const { env, config } = loadRuntime(io.env);
    const zones = v.zone?.length ? [...new Set(v.zone)] : [defaultZone(config, target.host)];
    for (const z of zones)
      if (!ZoneName.safeParse(z).success) throw new UsageError(`--zone: "${z}" is not a zone name (letters, digits, '-', '_')`);
    const { passwordEnv: _unused, ca: _ca, user: _user, ...opts } = input.data;
    void _unused;
    void _ca;
    void _user;
    const { CheckQueue } = await import("../queue/producer.js");
    const queue = new CheckQueue(env.REDIS_URL, env.FTP_DOCTOR_REDIS_PREFIX);
    try {
      await queue.connect();
      await queue.requireWorkers(zones);
      const jobs = await Promise.all(
        zones.map((zone) =>
          queue.enqueue({
            v: 1,
            target: target.input,
            zone,
            ...(v.profile ? { profile: v.profile } : {}),
            options: opts,
            requestedBy: "cli",
          }),
        ),
      );
      const outcomes: ZoneOutcome[] = await Promise.all(
        jobs.map(async (j) => {
          try {
            const lost = () =>
              io.stderr.write(
                `ftp-doctor: the worker running the check in zone "${j.payload.zone}" was lost; retrying on another worker\n`,
              );
            return { zone: j.payload.zone, report: await queue.result(j.payload.zone, j.jobId, waitMs, lost) };
          } catch (err) {
            return { zone: j.payload.zone, error: (err as Error).message };
          }
        }),
      );
      if (summarize)
        await Promise.all(
          outcomes.map(async (o) => o.report && (o.report.summary = await summarize(o.report, { names: v.profile ? [v.profile] : [] }))),
        );
      for (const o of outcomes) if (o.report) await draw(o.report, outcomes.length > 1);
      return printQueued(target.input, outcomes, !!v.json, io, print);
    } finally {
      await queue.close();
    }
  }

  const { config } = v.profile ? loadRuntime(io.env) : { config: undefined };
  const profile = v.profile && config ? resolveProfile(config, v.profile, io.env) : undefined;
  const options = toCheckOptions({
    ...input.data,
    ...(profile
      ? {
          user: profile.user,
          ...(profile.tls && input.data.tls === "auto" ? { tls: profile.tls } : {}),
          ...(profile.caFile && !input.data.ca ? { ca: profile.caFile } : {}),
        }
      : {}),
  });
  let password = profile?.password;
  if (options.passwordEnv) {
    password = io.env[options.passwordEnv];
    if (password === undefined || password === "")
      throw new UsageError(`environment variable ${options.passwordEnv} (from --password-env) is not set`);
  }
  const live = !v.json && !!io.stderr.isTTY;
  const liveStyle = { color: !!io.stderr.isTTY && !io.env.NO_COLOR, width };
  const { report } = await runCheck(target, options, password !== undefined ? { password } : {}, {
    ...(live ? { onStep: (s) => io.stderr.write(`${progressLine(s, liveStyle)}\n`) } : {}),
  });
  if (live) io.stderr.write("\n");
  if (summarize)
    report.summary = await summarize(report, {
      secrets: password ? [password] : [],
      secretEnvNames: options.passwordEnv ? [options.passwordEnv] : [],
      names: [options.user, v.profile].filter((n): n is string => !!n),
    });
  if (v.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else print(report);
  await draw(report);
  return report.verdict.code === "HEALTHY" ? 0 : 1;
}

function printQueued(target: string, outcomes: ZoneOutcome[], json: boolean, io: CliIo, print: (r: CheckReport) => void): number {
  const reports = outcomes.filter((o) => o.report).map((o) => o.report!);
  if (outcomes.length === 1) {
    const o = outcomes[0]!;
    if (!o.report) {
      if (json) errorJson(io, "NO_RESULT", o.error ?? "no result", { target, zone: o.zone });
      io.stderr.write(`ftp-doctor: ${o.error}\n`);
      return EXIT_INFRASTRUCTURE;
    }
    if (json) io.stdout.write(`${JSON.stringify(o.report, null, 2)}\n`);
    else print(o.report);
    return o.report.verdict.code === "HEALTHY" ? 0 : 1;
  }
  const cross: CrossZoneVerdict = crossZoneVerdict(target, outcomes);
  if (json) {
    io.stdout.write(
      `${JSON.stringify(
        {
          target,
          crossZone: cross,
          results: reports,
          errors: outcomes.filter((o) => o.error).map((o) => ({ zone: o.zone, error: o.error })),
        },
        null,
        2,
      )}\n`,
    );
  } else {
    io.stdout.write(`Cross-zone: ${cross.code}\n  ${cross.title}\n  ${cross.explanation}\n`);
    for (const z of cross.zones) io.stdout.write(`  - ${z.zone.padEnd(12)} ${z.code}${z.error ? ` (${z.error})` : ""}\n`);
    for (const r of reports) {
      io.stdout.write(`\n── zone ${r.zone} ──\n`);
      print(r);
    }
  }
  // A fault seen from any zone is the answer (1); all healthy but a zone gave no result: 3.
  if (reports.some((r) => r.verdict.code !== "HEALTHY")) return 1;
  return reports.length === outcomes.length ? 0 : EXIT_INFRASTRUCTURE;
}
