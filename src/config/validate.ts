import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import type { z } from "zod";
import { ConfigFile, type ConfigFile as Config } from "./fileSchema.js";

/** One problem: where (the key path as written in the file), what, and how to fix it. */
export interface ConfigProblem {
  path: string;
  message: string;
  fix: string;
}

const article = (t: string) => (/^[aeiou]/i.test(t) ? `an ${t}` : `a ${t}`);

function fixFor(issue: z.ZodIssue): string {
  switch (issue.code) {
    case "custom":
      return typeof issue.params?.fix === "string" ? issue.params.fix : "correct the value as described";
    case "invalid_type": {
      // zod 4 no longer reports what it received; the input is kept when parsing with reportInput.
      const received =
        issue.input === undefined ? "undefined" : Array.isArray(issue.input) ? "array" : issue.input === null ? "null" : typeof issue.input;
      return received === "undefined"
        ? `add ${String(issue.path[issue.path.length - 1])} (${article(issue.expected)})`
        : `use ${article(issue.expected)} here, not ${article(received)}`;
    }
    case "unrecognized_keys":
      return `remove ${issue.keys.map((k) => `"${k}"`).join(", ")} or check the spelling`;
    case "invalid_value":
      return `use one of: ${issue.values.map(String).join(", ")}`;
    case "invalid_format":
      return issue.path.includes("cron")
        ? "use five fields: minute hour day-of-month month day-of-week, e.g. '0 8 * * 1-5'"
        : "correct the value as described";
    default:
      return "correct the value as described";
  }
}

function pathOf(p: PropertyKey[]): string {
  return p.length
    ? p
        .map((x) => (typeof x === "number" ? `[${x}]` : `.${String(x)}`))
        .join("")
        .replace(/^\./, "")
    : "(top level)";
}

/** Validate raw configuration data: schema problems, then cross-references. */
export function validateConfigData(raw: unknown): { config?: Config; problems: ConfigProblem[] } {
  const r = ConfigFile.safeParse(raw ?? {}, { reportInput: true });
  if (r.success) return { config: r.data, problems: [] };
  return { problems: r.error.issues.map((i) => ({ path: pathOf(i.path), message: i.message, fix: fixFor(i) })) };
}

/** Problems that depend on the host the file is used on: password variables, files. */
export function configWarnings(config: Config, env: NodeJS.ProcessEnv): string[] {
  return environmentProblems(config, env).map((p) => `${p.path}: ${p.message} — ${p.fix}`);
}

export function environmentProblems(config: Config, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  if (env.FTP_DOCTOR_ALERTMANAGER_TOKEN && !config.alerts)
    out.push({
      path: "alerts.channel",
      message: "FTP_DOCTOR_ALERTMANAGER_TOKEN is set but no channel is configured for alert diagnoses",
      fix: "add alerts: { channel: C… } (the channel id the diagnoses go to), or unset the token",
    });
  for (const [name, p] of Object.entries(config.profiles)) {
    if (p.passwordEnv && !env[p.passwordEnv])
      out.push({
        path: `profiles.${name}.passwordEnv`,
        message: `environment variable ${p.passwordEnv} is not set on this host`,
        fix: `export ${p.passwordEnv}=… where the worker runs (or use passwordFile)`,
      });
    if (p.passwordFile && !existsSync(p.passwordFile))
      out.push({
        path: `profiles.${name}.passwordFile`,
        message: `file ${p.passwordFile} does not exist`,
        fix: "mount the secret file or correct the path",
      });
    if (p.caFile && !existsSync(p.caFile))
      out.push({
        path: `profiles.${name}.caFile`,
        message: `file ${p.caFile} does not exist`,
        fix: "mount the CA bundle or correct the path",
      });
  }
  return out;
}

export interface CheckedFile {
  ok: boolean;
  problems: ConfigProblem[];
  summary?: string;
}

/** `ftp-doctor config check FILE`: every problem at once, or a one-screen summary. */
export function checkConfigFile(file: string, env: NodeJS.ProcessEnv): CheckedFile {
  if (!existsSync(file))
    return {
      ok: false,
      problems: [
        { path: "(file)", message: `${file} not found`, fix: "give the path of the YAML or JSON configuration (FTP_DOCTOR_CONFIG)" },
      ],
    };
  const text = readFileSync(file, "utf8");
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return {
      ok: false,
      problems: [
        {
          path: "(file)",
          message: `not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`,
          fix: "fix the syntax at the position given",
        },
      ],
    };
  }
  const { config, problems } = validateConfigData(raw);
  if (!config) return { ok: false, problems };
  const envProblems = environmentProblems(config, env);
  if (envProblems.length) return { ok: false, problems: envProblems };
  return { ok: true, problems: [], summary: summarize(config) };
}

function summarize(c: Config): string {
  const digests = c.digest === undefined ? [] : Array.isArray(c.digest) ? c.digest : [c.digest];
  const lines = [
    `targets.allow: ${c.targets.allow.length ? c.targets.allow.join(", ") : "(empty: the bot will refuse every target)"}`,
    `zones (${c.zones.length}):`,
    ...c.zones.map((z) => `  ${z.name}${z.targets.length ? ` ← ${z.targets.join(", ")}` : ""}`),
    `profiles (${Object.keys(c.profiles).length}):`,
    ...Object.entries(c.profiles).map(
      ([n, p]) =>
        `  ${n}: user ${p.user}, password from ${
          p.passwordEnv ? `$${p.passwordEnv}` : p.passwordFile ? p.passwordFile : "nowhere (no password)"
        }${p.tls ? `, tls ${p.tls}` : ""}`,
    ),
    `slack: ${c.slack.allowedChannels ? `${c.slack.allowedChannels.length} channel(s)` : "all channels"}` +
      `, ${c.slack.allowedUsers ? `${c.slack.allowedUsers.length} user(s)` : "all users"}`,
    `digests (${digests.length}):`,
    ...digests.map((d) => `  ${d.channel} at "${d.cron}" ${d.tz}: ${d.targets.length} target(s)`),
    `alerts: ${c.alerts ? `diagnoses to ${c.alerts.channel}, target from label ${c.alerts.targetLabels.join(" or ")}` : "off (no alerts.channel)"}`,
    `auto-triage: ${c.slack.autoTriageChannels?.length ? c.slack.autoTriageChannels.join(", ") : "off"}`,
  ];
  return `${lines.join("\n")}\n`;
}
