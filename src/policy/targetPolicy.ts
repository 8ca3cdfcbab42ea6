/**
 * The one target policy: what ftp-doctor may probe, for whom, with which credentials, and
 * which addresses it may connect to. Every front (Slack, CLI queue, worker, exporter,
 * webhook, digest, watch, monitor) asks here; nothing else decides (issue 10).
 *
 * API (all pure, no I/O; build one per configuration in force — it is cheap):
 *
 *   const policy = new TargetPolicy(config);
 *
 *   policy.request({ who, host, zone?, profile? }): RequestDecision
 *     May `who` ask for a check of `host` (a name or an IP literal, as typed) from `zone` with
 *     `profile`? `who` is `{ front: "slack", user, channel }` for anything a Slack user
 *     triggers (commands, mentions, buttons), or `{ front: "cli" | "worker" | "exporter" |
 *     "webhook" | "digest" | "watch" | "monitor", user?, channel? }`. On success `zone` is the
 *     zone to use (the given one, or the target's default zone). On refusal `rule` says which
 *     rule (a stable code, below) and `message` says what to do, in words a user can act on.
 *
 *   policy.requester(who): refusal | undefined
 *     The who-part alone (Slack users/channels), for actions before a target is known.
 *
 *   policy.address(address, name): PolicyDecision
 *     May a connection go to `address`, which `name` resolved to? Every resolved address is
 *     asked before any connection (the engine's `ProbePolicy.address`).
 *
 *   policy.dataHost(address): PolicyDecision
 *     May the engine connect to a PASV/EPSV address that differs from the control peer? Only
 *     when that address is permitted as a target in its own right (`ProbePolicy.dataHost`;
 *     replaces the /24 rule the CLI uses).
 *
 *   policy.probePolicy(profile?): ProbePolicy
 *     The three hooks above bundled for the engine (`runCheck(…, policy)`), with
 *     `passwordRequiresTls` set for a profile that does not say `tls: off`.
 *
 * The rules (README "Security model"):
 *   - Slack requests: `slack.allowedUsers` / `slack.allowedChannels` when set.
 *   - A host name must match a host pattern of `targets.allow` (`ftp.example.com`,
 *     `*.example.com`); an IP literal must be covered by an IP or CIDR there.
 *   - A name allowed by pattern may reach only addresses that are not loopback, link-local
 *     (169.254.0.0/16 — cloud metadata 169.254.169.254 — and fe80::/10), unspecified,
 *     multicast or reserved, and private ranges (RFC 1918, 100.64/10, fc00::/7, …) only when
 *     a CIDR in `targets.allow` covers them. An address a CIDR or IP in `targets.allow`
 *     covers is always permitted, loopback included: the operator's explicit choice.
 *   - A profile must exist; `profiles.<p>.targets` limits the hosts it may be aimed at;
 *     `profiles.<p>.slackUsers` / `slackChannels` limit who may use it and where. A front
 *     without a user (or channel) cannot use a profile limited to users (or channels) — except
 *     the worker, which cannot know who asked: Redis access is trusted (README).
 *   - The zone must be configured (when zones are).
 */
import net from "node:net";
import type { ConfigFile, ProfileConfig } from "../config/fileSchema.js";
import { addressMatches, normalizeIp } from "../probe/address.js";

/** Stable rule codes: branch on these, never on message text. */
export const POLICY_RULES = [
  // permitted
  "allow-pattern",
  "allow-cidr",
  "public",
  // refused: who
  "user-not-allowed",
  "channel-not-allowed",
  // refused: what
  "target-not-allowed",
  "unknown-zone",
  "unknown-profile",
  "profile-target",
  "profile-user",
  "profile-channel",
  // refused: where it resolves to
  "loopback",
  "link-local",
  "unspecified",
  "multicast",
  "reserved",
  "private",
  "not-an-address",
  "data-host-not-allowed",
] as const;
export type PolicyRule = (typeof POLICY_RULES)[number];

/** The engine's hook answer (structurally the same as `PolicyDecision` of src/probe/types.ts). */
export interface PolicyDecision {
  permitted: boolean;
  rule: PolicyRule;
}

export const FRONTS = ["slack", "cli", "worker", "exporter", "webhook", "digest", "watch", "monitor"] as const;
export type Front = (typeof FRONTS)[number];

export type Requester =
  | { front: "slack"; user: string; channel: string }
  | { front: Exclude<Front, "slack">; user?: string; channel?: string };

export interface TargetRequest {
  who: Requester;
  /** The host as typed: a name or an IP literal (brackets removed). */
  host: string;
  zone?: string;
  profile?: string;
}

export type RequestDecision = { permitted: true; rule: PolicyRule; zone: string } | { permitted: false; rule: PolicyRule; message: string };

/** The engine's hooks (structurally `ProbePolicy` of src/probe/types.ts). */
export interface ProbeHooksPolicy {
  address(address: string, name: string): PolicyDecision;
  dataHost(address: string): PolicyDecision;
  passwordRequiresTls: boolean;
}

/** A host pattern of `targets.allow` (`ftp.example.com`, `*.example.com`; case-insensitive). */
export function hostMatches(host: string, pattern: string): boolean {
  const h = host.toLowerCase().replace(/\.$/, "");
  const p = pattern.toLowerCase();
  if (p.startsWith("*.")) return h.endsWith(p.slice(1)) && h.length > p.length - 1;
  return h === p;
}

const isAddressPattern = (p: string) => p.includes("/") || net.isIP(p) !== 0;

/** Does a list of patterns (host patterns, IPs, CIDRs) cover this host (name or IP literal)? */
export function patternsCover(host: string, patterns: readonly string[]): { by: "pattern" | "cidr" } | undefined {
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (net.isIP(normalizeIp(bare))) return addressMatches(bare, patterns.filter(isAddressPattern)) ? { by: "cidr" } : undefined;
  return patterns.some((p) => !isAddressPattern(p) && hostMatches(bare, p)) ? { by: "pattern" } : undefined;
}

type AddressClass = "loopback" | "link-local" | "unspecified" | "multicast" | "reserved" | "private" | "public";

const V4_CLASSES: [string, number, AddressClass][] = [
  ["0.0.0.0", 8, "unspecified"],
  ["127.0.0.0", 8, "loopback"],
  ["169.254.0.0", 16, "link-local"],
  ["224.0.0.0", 4, "multicast"],
  ["240.0.0.0", 4, "reserved"], // includes 255.255.255.255 broadcast
  ["10.0.0.0", 8, "private"],
  ["172.16.0.0", 12, "private"],
  ["192.168.0.0", 16, "private"],
  ["100.64.0.0", 10, "private"], // RFC 6598 carrier-grade NAT
  ["192.0.0.0", 24, "private"], // RFC 6890 IETF protocol assignments
  ["198.18.0.0", 15, "private"], // RFC 2544 benchmarking
];

const V6_CLASSES: [string, number, AddressClass][] = [
  ["::", 128, "unspecified"],
  ["::1", 128, "loopback"],
  ["fe80::", 10, "link-local"],
  ["ff00::", 8, "multicast"],
  ["fc00::", 7, "private"], // RFC 4193 unique local (AWS metadata fd00:ec2::254 is here)
  ["fec0::", 10, "private"], // deprecated site-local
  ["::", 96, "reserved"], // deprecated IPv4-compatible addresses
  ["100::", 64, "reserved"], // RFC 6666 discard
  ["2001:db8::", 32, "reserved"], // RFC 3849 documentation
];

/** What kind of address this is, for the rules above. IPv4 inside IPv6 is judged as IPv4. */
export function classifyAddress(raw: string): AddressClass | undefined {
  let ip = normalizeIp(raw.replace(/^\[(.*)\]$/, "$1"));
  // NAT64 (RFC 6052 64:ff9b::/96) reaches the embedded IPv4 address: judge that one.
  const nat64 = /^64:ff9b::(?:(\d+\.\d+\.\d+\.\d+)|([0-9a-f]{1,4}):([0-9a-f]{1,4}))$/i.exec(ip);
  if (nat64) {
    if (nat64[1]) ip = nat64[1];
    else {
      const hi = Number.parseInt(nat64[2]!, 16);
      const lo = Number.parseInt(nat64[3]!, 16);
      ip = [hi >> 8, hi & 255, lo >> 8, lo & 255].join(".");
    }
  }
  const fam = net.isIP(ip);
  if (!fam) return undefined;
  for (const [base, bits, cls] of fam === 4 ? V4_CLASSES : V6_CLASSES) if (addressMatches(ip, [`${base}/${bits}`])) return cls;
  return "public";
}

const MESSAGES = {
  user: () => "you are not on ftp-doctor's list of allowed users. Ask its operator to add you.",
  channel: () => "ftp-doctor is not enabled in this channel. Use it in one of the channels its operator allowed.",
  target: (host: string) =>
    `${host} is not on this bot's allow-list (\`targets.allow\` in its configuration). Ask the bot's operator to add it.`,
};

export class TargetPolicy {
  private readonly allow: readonly string[];
  private readonly allowCidrs: readonly string[];

  constructor(private readonly config: ConfigFile) {
    this.allow = config.targets.allow;
    this.allowCidrs = this.allow.filter(isAddressPattern);
  }

  /** Who alone (before any target is known): a refusal, or undefined when `who` may use the bot. */
  requester(who: Requester): Extract<RequestDecision, { permitted: false }> | undefined {
    if (who.front !== "slack") return undefined;
    const { allowedChannels, allowedUsers } = this.config.slack;
    if (allowedChannels && !allowedChannels.includes(who.channel))
      return { permitted: false, rule: "channel-not-allowed", message: MESSAGES.channel() };
    if (allowedUsers && !allowedUsers.includes(who.user)) return { permitted: false, rule: "user-not-allowed", message: MESSAGES.user() };
    return undefined;
  }

  /** Who may ask, for which target, zone and profile. */
  request(req: TargetRequest): RequestDecision {
    const { who } = req;
    const host = req.host.replace(/^\[(.*)\]$/, "$1");
    const refusal = this.requester(who);
    if (refusal) return refusal;
    const covered = patternsCover(host, this.allow);
    if (!covered) return { permitted: false, rule: "target-not-allowed", message: MESSAGES.target(host) };
    if (req.profile !== undefined) {
      const refused = this.profileRefusal(req.profile, host, who);
      if (refused) return refused;
    }
    const zone = req.zone ?? this.defaultZone(host);
    if (this.config.zones.length > 0 && !this.config.zones.some((z) => z.name === zone))
      return {
        permitted: false,
        rule: "unknown-zone",
        message: `unknown zone "${zone}". Zones: ${this.config.zones.map((z) => z.name).join(", ")}.`,
      };
    return { permitted: true, rule: covered.by === "cidr" ? "allow-cidr" : "allow-pattern", zone };
  }

  /** The zone a target routes to by default: the first zone whose `targets` match, else the first zone, else "default". */
  defaultZone(host: string): string {
    for (const z of this.config.zones) if (patternsCover(host, z.targets)) return z.name;
    return this.config.zones[0]?.name ?? "default";
  }

  private profileRefusal(name: string, host: string, who: Requester): RequestDecision | undefined {
    const p: ProfileConfig | undefined = Object.hasOwn(this.config.profiles, name) ? this.config.profiles[name] : undefined;
    if (!p)
      return {
        permitted: false,
        rule: "unknown-profile",
        message: `unknown profile "${name}". Profiles: ${Object.keys(this.config.profiles).join(", ") || "none configured"}.`,
      };
    if (p.targets && !patternsCover(host, p.targets))
      return {
        permitted: false,
        rule: "profile-target",
        message: `profile "${name}" may not be used for ${host} (its \`targets\` in the configuration do not include it).`,
      };
    if (who.front === "worker") return undefined;
    if (p.slackUsers && !(who.user !== undefined && p.slackUsers.includes(who.user)))
      return { permitted: false, rule: "profile-user", message: `you may not use profile "${name}". Ask the bot's operator.` };
    if (p.slackChannels && !(who.channel !== undefined && p.slackChannels.includes(who.channel)))
      return { permitted: false, rule: "profile-channel", message: `profile "${name}" may not be used in this channel.` };
    return undefined;
  }

  /** Every resolved address of `name`, before any connection. */
  address(address: string, _name: string): PolicyDecision {
    if (addressMatches(address, this.allowCidrs)) return { permitted: true, rule: "allow-cidr" };
    const cls = classifyAddress(address);
    if (cls === undefined) return { permitted: false, rule: "not-an-address" };
    if (cls === "public") return { permitted: true, rule: "public" };
    return { permitted: false, rule: cls };
  }

  /** A PASV/EPSV address that differs from the control peer: only a permitted target in its own right. */
  dataHost(address: string): PolicyDecision {
    if (addressMatches(address, this.allowCidrs)) return { permitted: true, rule: "allow-cidr" };
    return { permitted: false, rule: "data-host-not-allowed" };
  }

  /** The hooks the engine takes; a profile's password needs TLS unless it says `tls: off`. */
  probePolicy(profile?: string): ProbeHooksPolicy {
    const p = profile !== undefined && Object.hasOwn(this.config.profiles, profile) ? this.config.profiles[profile] : undefined;
    return {
      address: (a, n) => this.address(a, n),
      dataHost: (a) => this.dataHost(a),
      passwordRequiresTls: p !== undefined && p.tls !== "off",
    };
  }
}
