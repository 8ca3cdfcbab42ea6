/** The configuration file's schema: one zod schema per section, types inferred below each. */
import { MonitorConfig, parseMonitorLine } from "./monitorSchema.js";
import net from "node:net";
import { z } from "zod";
import { TLS_MODES } from "../target/parse.js";

/** Zone names end up in queue names and Redis keys: keep them plain. */
export const ZoneName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/i, "must be 1-32 letters, digits, '-' or '_'");
export const ProfileName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, "must be 1-64 letters, digits, '.', '-' or '_'");
const EnvVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name");

/** A host pattern (`ftp.example.com`, `*.example.com`) or an IP/CIDR (`203.0.113.0/24`). */
export const TargetPattern = z.string().superRefine((s, ctx) => {
  if (s.includes("/")) {
    const [ip, bits] = s.split("/");
    const fam = net.isIP(ip ?? "");
    if (!fam || !/^\d+$/.test(bits ?? "") || Number(bits) > (fam === 4 ? 32 : 128))
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `"${s}" is not a valid CIDR (e.g. 203.0.113.0/24)`,
        params: { fix: "write ADDRESS/BITS with BITS at most 32 for IPv4 or 128 for IPv6" },
      });
    return;
  }
  if (net.isIP(s)) return;
  if (!/^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,62})\.)*[a-z0-9_]([a-z0-9_-]{0,62})$/i.test(s))
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `"${s}" is not a host name, *.wildcard, IP or CIDR`,
      params: { fix: "use e.g. ftp.example.com, *.example.com, 203.0.113.7 or 203.0.113.0/24" },
    });
});

export const ProfileConfig = z
  .object({
    user: z.string().min(1).max(256),
    /** The password is read from this environment variable on the worker host. */
    passwordEnv: EnvVarName.optional(),
    /** …or from this file on the worker host (Docker/Kubernetes secrets). */
    passwordFile: z.string().min(1).optional(),
    /**
     * TLS mode for checks with this profile. Unset: the password only travels over TLS (the
     * check stops before PASS on a plain session); `off` is the explicit choice to send it in clear.
     */
    tls: z.enum(TLS_MODES).optional(),
    caFile: z.string().min(1).optional(),
    /** Targets this profile may be aimed at (patterns as in targets.allow). Absent: every allowed target. */
    targets: z.array(TargetPattern).min(1).optional(),
    /** Slack users who may use this profile. Absent: every allowed user. */
    slackUsers: z.array(z.string().min(1)).min(1).optional(),
    /** Slack channels where this profile may be used. Absent: every allowed channel. */
    slackChannels: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict()
  .refine((p) => !(p.passwordEnv && p.passwordFile), { message: "give passwordEnv or passwordFile, not both" });
export type ProfileConfig = z.infer<typeof ProfileConfig>;

export const ZoneConfig = z
  .object({
    name: ZoneName,
    /** Targets that route to this zone by default (patterns as in targets.allow). */
    targets: z.array(TargetPattern).default([]),
    description: z.string().max(200).optional(),
  })
  .strict();

/** A Slack channel id (C…, G…): people paste "#alerts", which the Web API does not accept. */
const ChannelId = z.string().regex(/^[CG][A-Z0-9]{4,20}$/, "must be a Slack channel id such as C0123ALERTS (not a #name)");

/** A Prometheus label name (https://prometheus.io/docs/concepts/data_model/). */
const LabelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,99}$/, "must be a Prometheus label name (letters, digits, '_')");

/** Alertmanager-driven diagnoses (POST /hooks/alertmanager). */
export const AlertsConfig = z
  .object({
    /** Where diagnoses of alerts go, one thread per alert group. */
    channel: ChannelId,
    /** Labels that may name the FTP target, in order: the first one present wins. */
    targetLabels: z.array(LabelName).min(1).max(10).default(["target", "instance"]),
  })
  .strict();
export type AlertsConfig = z.infer<typeof AlertsConfig>;

export const DigestConfig = z
  .object({
    channel: z.string().min(1),
    cron: z.string().regex(/^(\S+\s+){4,5}\S+$/, "must be a cron expression such as '0 8 * * 1-5' (5 fields, or 6 with seconds first)"),
    tz: z.string().default("UTC"),
    targets: z.array(z.string().min(1)).min(1),
    profile: ProfileName.optional(),
  })
  .strict();

/**
 * Abuse limits for Slack requests (issue 10 item 8). Every count is per rolling window of
 * `windowSeconds`; a refused request gets an ephemeral message saying when to retry.
 */
export const SlackLimits = z
  .object({
    /** Checks one user may start per window. @defaultValue 10 */
    perUser: z.number().int().min(1).max(10_000).default(10),
    /** Checks one channel may start per window. @defaultValue 30 */
    perChannel: z.number().int().min(1).max(10_000).default(30),
    /** The window of perUser and perChannel, in seconds. @defaultValue 60 */
    windowSeconds: z.number().int().min(1).max(86_400).default(60),
    /** Checks of one user queued or running at once. @defaultValue 3 */
    concurrentPerUser: z.number().int().min(1).max(1_000).default(3),
    /** Active watches one user may own. @defaultValue 3 */
    watchesPerUser: z.number().int().min(0).max(1_000).default(3),
    /** Active watches in all. @defaultValue 50 */
    watches: z.number().int().min(0).max(10_000).default(50),
  })
  .strict();
export type SlackLimits = z.infer<typeof SlackLimits>;

/** The configuration file (FTP_DOCTOR_CONFIG): YAML or JSON. */
export const ConfigFile = z
  .object({
    targets: z
      .object({ allow: z.array(TargetPattern).default([]) })
      .strict()
      .default({ allow: [] }),
    zones: z.array(ZoneConfig).default([]),
    profiles: z.record(ProfileName, ProfileConfig).default({}),
    slack: z
      .object({
        allowedChannels: z.array(z.string().min(1)).optional(),
        allowedUsers: z.array(z.string().min(1)).optional(),
        /** Channels where a message naming a permitted target gets a diagnosis without a mention. */
        autoTriageChannels: z.array(ChannelId).max(100).optional(),
        limits: SlackLimits.default(SlackLimits.parse({})),
      })
      .strict()
      .default({ limits: SlackLimits.parse({}) }),
    digest: z.union([DigestConfig, z.array(DigestConfig)]).optional(),
    alerts: AlertsConfig.optional(),
    monitor: MonitorConfig.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const zones = new Set(c.zones.map((z) => z.name));
    c.zones.forEach((zone, i) => {
      if (c.zones.findIndex((o) => o.name === zone.name) !== i)
        ctx.addIssue({
          code: "custom",
          path: ["zones", i, "name"],
          message: `zone "${zone.name}" is defined twice`,
          params: { fix: "rename or remove one of them" },
        });
    });
    const allowed = c.slack.allowedChannels;
    c.slack.autoTriageChannels?.forEach((ch, i) => {
      if (allowed && !allowed.includes(ch))
        ctx.addIssue({
          code: "custom",
          path: ["slack", "autoTriageChannels", i],
          message: `${ch} is not in slack.allowedChannels, so the bot would ignore it there`,
          params: { fix: `add ${ch} to slack.allowedChannels, or remove it here` },
        });
    });
    c.monitor?.targets.forEach((t, j) => {
      const line = parseMonitorLine(t);
      if (typeof line === "string") return;
      if (line.zones !== "all")
        for (const zn of line.zones)
          if (zones.size > 0 && !zones.has(zn))
            ctx.addIssue({
              code: "custom",
              path: ["monitor", "targets", j],
              message: `unknown zone "${zn}" (zones: ${[...zones].join(", ")})`,
              params: { fix: `add a zone named ${zn} under zones, or change "from ${zn}"` },
            });
      if (line.profile && !c.profiles[line.profile])
        ctx.addIssue({
          code: "custom",
          path: ["monitor", "targets", j],
          message: `unknown profile "${line.profile}"`,
          params: { fix: `define profiles.${line.profile}, or remove "as ${line.profile}"` },
        });
    });
    if (c.monitor && allowed && !allowed.includes(c.monitor.channel))
      ctx.addIssue({
        code: "custom",
        path: ["monitor", "channel"],
        message: `${c.monitor.channel} is not in slack.allowedChannels, so its buttons would be refused`,
        params: { fix: `add ${c.monitor.channel} to slack.allowedChannels` },
      });
    const digests = c.digest === undefined ? [] : Array.isArray(c.digest) ? c.digest : [c.digest];
    digests.forEach((d, i) => {
      if (d.profile && !c.profiles[d.profile])
        ctx.addIssue({
          code: "custom",
          path: ["digest", ...(Array.isArray(c.digest) ? [i] : []), "profile"],
          message: `unknown profile "${d.profile}"`,
          params: { fix: `define profiles.${d.profile}, or remove the digest's profile` },
        });
      d.targets.forEach((t, j) => {
        const m = /\bfrom\s+(\S+)$/.exec(t);
        if (m && !zones.has(m[1]!))
          ctx.addIssue({
            code: "custom",
            path: ["digest", ...(Array.isArray(c.digest) ? [i] : []), "targets", j],
            message: `unknown zone "${m[1]}" (zones: ${[...zones].join(", ") || "none defined"})`,
            params: { fix: `add a zone named ${m[1]} under zones, or change "from ${m[1]}"` },
          });
      });
    });
  });
export type ConfigFile = z.infer<typeof ConfigFile>;
