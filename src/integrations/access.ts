import type { ConfigFile } from "../config/schema.js";
import { defaultZone } from "../cli/runtime.js";
import { profileKnown, targetAllowed, zoneKnown } from "../slack/authz.js";
import type { Target } from "../target/parse.js";

/** The monitoring fronts: Prometheus' /probe, Alertmanager's webhook, auto-triage in Slack. */
export type MonitoringFront = "exporter" | "webhook" | "triage";

export type Access = { permitted: true; zone: string } | { permitted: false; message: string };

/**
 * The one target policy, as the monitoring fronts ask it: may this target be checked from this
 * zone with this profile? Nothing in src/integrations decides that on its own.
 */
export function permit(config: ConfigFile, _front: MonitoringFront, target: Target, zone?: string, profile?: string): Access {
  for (const r of [targetAllowed(config, target), profileKnown(config, profile)])
    if (!r.ok) return { permitted: false, message: r.message };
  const z = zone ?? defaultZone(config, target.host);
  const zk = zoneKnown(config, z);
  return zk.ok ? { permitted: true, zone: z } : { permitted: false, message: zk.message };
}
