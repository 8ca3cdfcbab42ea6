import { parseRuntimeEnv, type RuntimeEnv } from "./env.js";
import { emptyConfig, loadConfigFile, type ConfigFile } from "./file.js";

/** Environment and configuration file, parsed and validated once at start-up. */
export function loadRuntime(env: NodeJS.ProcessEnv): { env: RuntimeEnv; config: ConfigFile } {
  const runtime = parseRuntimeEnv(env);
  const config = runtime.FTP_DOCTOR_CONFIG ? loadConfigFile(runtime.FTP_DOCTOR_CONFIG) : emptyConfig();
  return { env: runtime, config };
}

/** Which zone a target routes to by default: the first zone whose `targets` match, else "default". */
export function defaultZone(config: ConfigFile, host: string): string {
  for (const z of config.zones) if (z.targets.some((p) => hostMatches(host, p))) return z.name;
  return config.zones[0]?.name ?? "default";
}

export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase();
  const p = pattern.toLowerCase();
  if (p.startsWith("*.")) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return h === p;
}
