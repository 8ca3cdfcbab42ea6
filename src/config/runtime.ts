import { parseRuntimeEnv, type RuntimeEnv } from "./env.js";
import { emptyConfig, loadConfigFile, type ConfigFile } from "./file.js";
import { TargetPolicy } from "../policy/targetPolicy.js";

/** Environment and configuration file, parsed and validated once at start-up. */
export function loadRuntime(env: NodeJS.ProcessEnv): { env: RuntimeEnv; config: ConfigFile } {
  const runtime = parseRuntimeEnv(env);
  const config = runtime.FTP_DOCTOR_CONFIG ? loadConfigFile(runtime.FTP_DOCTOR_CONFIG) : emptyConfig();
  return { env: runtime, config };
}

/** Which zone a target routes to by default: the first zone whose `targets` match, else the first zone. */
export function defaultZone(config: ConfigFile, host: string): string {
  return new TargetPolicy(config).defaultZone(host);
}
