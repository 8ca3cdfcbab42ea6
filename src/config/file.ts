import { readFileSync, existsSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { validateConfigData } from "./validate.js";
import { ConfigFile } from "./fileSchema.js";
import type { TLS_MODES } from "../target/parse.js";

export * from "./fileSchema.js";

export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    message: string,
    readonly problems: string[] = [message],
  ) {
    super(message);
  }
}

/** Read and validate a configuration file; every problem at once, each with its key path. */
export function loadConfigFile(file: string): ConfigFile {
  if (!existsSync(file)) throw new ConfigError(`configuration file ${file} not found (FTP_DOCTOR_CONFIG)`);
  const text = readFileSync(file, "utf8");
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid ${/\.json$/i.test(file) ? "JSON" : "YAML"}: ${(err as Error).message.split("\n")[0]}`);
  }
  return parseConfig(raw ?? {}, file);
}

export function parseConfig(raw: unknown, where = "configuration"): ConfigFile {
  const r = validateConfigData(raw);
  if (r.config) return r.config;
  // The same problems, in the same words, as `ftp-doctor config check`.
  const problems = r.problems.map((p) => `${p.path}: ${p.message} (fix: ${p.fix})`);
  throw new ConfigError(`${where}: ${problems.length} problem${problems.length > 1 ? "s" : ""}: ${problems.join("; ")}`, problems);
}

/** An empty configuration (no file): no zones, no profiles, nothing allowed for the bot. */
export function emptyConfig(): ConfigFile {
  return ConfigFile.parse({});
}

export interface ResolvedProfile {
  user: string;
  password?: string;
  tls?: (typeof TLS_MODES)[number];
  caFile?: string;
}

/**
 * Resolve a profile on the host that runs the check: the password comes from this host's
 * environment or files, never from the job, the chat or the queue.
 */
export function resolveProfile(config: ConfigFile, name: string, env: NodeJS.ProcessEnv): ResolvedProfile {
  const p = config.profiles[name];
  if (!p) throw new ConfigError(`unknown profile "${name}" (known: ${Object.keys(config.profiles).join(", ") || "none"})`);
  let password: string | undefined;
  if (p.passwordEnv) {
    password = env[p.passwordEnv];
    if (password === undefined || password === "")
      throw new ConfigError(`profile "${name}": environment variable ${p.passwordEnv} is not set on this host`);
  } else if (p.passwordFile) {
    try {
      password = readFileSync(p.passwordFile, "utf8").replace(/\r?\n$/, "");
    } catch {
      throw new ConfigError(`profile "${name}": cannot read password file ${p.passwordFile}`);
    }
  }
  return {
    user: p.user,
    ...(password !== undefined ? { password } : {}),
    ...(p.tls ? { tls: p.tls } : {}),
    ...(p.caFile ? { caFile: p.caFile } : {}),
  };
}
