import type { ConfigFile } from "../config/file.js";
import { TargetPolicy, type Requester } from "../policy/targetPolicy.js";
import type { Target } from "../target/parse.js";

export type Access = { permitted: true; zone: string } | { permitted: false; message: string };

/**
 * The one target policy, as the monitoring fronts ask it (Prometheus' /probe, Alertmanager's
 * webhook, auto-triage in Slack): may this target be checked from this zone with this profile?
 * Nothing in src/integrations decides that on its own.
 */
export function permit(config: ConfigFile, who: Requester, target: Target, zone?: string, profile?: string): Access {
  const d = new TargetPolicy(config).request({
    who,
    host: target.host,
    ...(zone !== undefined ? { zone } : {}),
    ...(profile !== undefined ? { profile } : {}),
  });
  return d.permitted ? { permitted: true, zone: d.zone } : { permitted: false, message: d.message };
}
