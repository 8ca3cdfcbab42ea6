import net from "node:net";
import type { ConfigFile } from "../config/file.js";
import { addressMatches } from "../probe/address.js";
import { hostMatches } from "../config/runtime.js";
import type { Target } from "../target/parse.js";

export type Refusal = { ok: false; message: string } | { ok: true };

/**
 * The bot probes only what the operator's allow-list permits, so it cannot be turned into a
 * scanner of the internal network: host names must match a host pattern, IP literals a CIDR.
 */
export function targetAllowed(config: ConfigFile, target: Target): Refusal {
  const allow = config.targets.allow;
  const ok = net.isIP(target.host)
    ? addressMatches(
        target.host,
        allow.filter((p) => p.includes("/") || net.isIP(p)),
      )
    : allow.some((p) => !p.includes("/") && !net.isIP(p) && hostMatches(target.host, p));
  return ok
    ? { ok: true }
    : {
        ok: false,
        message: `${target.host} is not on this bot's allow-list (\`targets.allow\` in its configuration). Ask the bot's operator to add it.`,
      };
}

export function userAllowed(config: ConfigFile, user: string, channel: string): Refusal {
  const { allowedUsers, allowedChannels } = config.slack;
  if (allowedChannels && !allowedChannels.includes(channel))
    return { ok: false, message: "ftp-doctor is not enabled in this channel. Use it in one of the channels its operator allowed." };
  if (allowedUsers && !allowedUsers.includes(user))
    return { ok: false, message: "you are not on ftp-doctor's list of allowed users. Ask its operator to add you." };
  return { ok: true };
}

export function zoneKnown(config: ConfigFile, zone: string): Refusal {
  if (config.zones.length === 0 || config.zones.some((z) => z.name === zone)) return { ok: true };
  return { ok: false, message: `unknown zone "${zone}". Zones: ${config.zones.map((z) => z.name).join(", ")}.` };
}

export function profileKnown(config: ConfigFile, profile: string | undefined): Refusal {
  if (!profile || config.profiles[profile]) return { ok: true };
  return { ok: false, message: `unknown profile "${profile}". Profiles: ${Object.keys(config.profiles).join(", ") || "none configured"}.` };
}
