import { createHash } from "node:crypto";
import { z } from "zod";
import { CheckOptionsFields } from "../check/options.js";
import { ProfileName, ZoneName } from "../config/file.js";
import { mask } from "../target/parse.js";

/**
 * A check job as it travels through Redis. No secrets: credentials are named by profile and
 * resolved by the worker from its own configuration and environment. `passwordEnv` is not
 * allowed here for the same reason: a job must not choose which of the worker's variables
 * it reads.
 */
export const CheckJobPayload = z
  .object({
    v: z.literal(1),
    target: z
      .string()
      .min(1)
      .max(2048)
      .refine((t) => mask(t) === t, { message: "must not contain a password" }),
    zone: ZoneName,
    profile: ProfileName.optional(),
    options: CheckOptionsFields.pick({
      tls: true,
      timeout: true,
      anonymous: true,
      resolver: true,
      write: true,
      idle: true,
      active: true,
      allowDataHost: true,
    }).strict(),
    /** Who asked (Slack user id, "cli"), for logs; never used for authorisation here. */
    requestedBy: z.string().max(100).optional(),
  })
  .strict();
export type CheckJobPayload = z.infer<typeof CheckJobPayload>;
export type CheckJobInput = z.input<typeof CheckJobPayload>;

/**
 * Identical checks share one job: same target, zone, profile and options → same key.
 * (`requestedBy` is deliberately left out.)
 */
export function checkKey(p: CheckJobPayload): string {
  const o = p.options;
  const canonical = JSON.stringify([
    p.target.toLowerCase(),
    p.zone,
    p.profile ?? "",
    o.tls,
    o.timeout,
    o.anonymous,
    o.resolver ?? "",
    o.write,
    o.idle ?? 0,
    o.active,
    [...o.allowDataHost].sort(),
  ]);
  return createHash("sha256").update(canonical).digest("hex").slice(0, 32);
}

/**
 * A check as the bot asks for it (slash command, button, watch, digest): default options, the
 * zone's worker resolves the profile. One place, so every Slack path runs the same check.
 */
export function botCheckJob(
  spec: { target: string; zone: string; profile?: string; write: boolean },
  requestedBy: string,
  timeoutMs = 15_000,
): CheckJobInput {
  return {
    v: 1,
    target: spec.target,
    zone: spec.zone,
    ...(spec.profile ? { profile: spec.profile } : {}),
    options: { tls: "auto", timeout: timeoutMs, anonymous: false, write: spec.write, active: false, allowDataHost: [] },
    requestedBy,
  };
}
