import { existsSync } from "node:fs";
import net from "node:net";
import { z } from "zod";
import { LIMITS } from "../config/defaults.js";
import type { CheckOptions } from "../probe/types.js";
import { TLS_MODES } from "../target/parse.js";

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `127.0.0.1:5353`, `[::1]:53`, `::1`, `10.0.0.2`: Node's Resolver.setServers format, validated. */
const resolverSchema = z.string().refine(
  (s) => {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
    if (m) return net.isIP(m[1]!) !== 0 && (m[2] === undefined || (Number(m[2]) > 0 && Number(m[2]) < 65536));
    return net.isIPv6(s);
  },
  { message: "must be an IP address with an optional port, e.g. 127.0.0.1:5353 or [::1]:53" },
);

const cidrSchema = z.string().refine(
  (s) => {
    const [ip, bits] = s.split("/");
    const fam = net.isIP(ip ?? "");
    if (!fam) return false;
    if (bits === undefined) return true;
    return /^\d+$/.test(bits) && Number(bits) <= (fam === 4 ? 32 : 128);
  },
  { message: "must be an IP address or CIDR such as 203.0.113.0/24" },
);

/** The check options as a CLI or a job payload states them (no secrets: a password is named, never given). */
export const CheckOptionsFields = z
  .object({
    tls: z.enum(TLS_MODES).default("auto"),
    timeout: z.coerce
      .number({ error: "must be a number of milliseconds" })
      .int("must be a whole number of milliseconds")
      .min(LIMITS.minBudgetMs, `must be at least ${LIMITS.minBudgetMs} ms`)
      .max(LIMITS.maxBudgetMs, `must be at most ${LIMITS.maxBudgetMs} ms`)
      .default(LIMITS.defaultBudgetMs),
    user: z
      .string()
      .min(1)
      .max(256)
      .regex(/^[^\r\n]+$/, "must not contain line breaks")
      .optional(),
    passwordEnv: z.string().regex(ENV_NAME, "must be an environment variable name such as FTP_PASSWORD").optional(),
    anonymous: z.boolean().default(false),
    resolver: resolverSchema.optional(),
    ca: z
      .string()
      .refine((f) => existsSync(f), { message: "file not found" })
      .optional(),
    write: z.boolean().default(false),
    idle: z.coerce
      .number()
      .int("must be whole seconds")
      .min(1, "must be at least 1 second")
      .max(3600, "must be at most 3600 seconds")
      .optional(),
    active: z.boolean().default(false),
    allowDataHost: z.array(cidrSchema).default([]),
  })
  .strict();

export const CheckOptionsInput = CheckOptionsFields.refine((o) => !(o.anonymous && o.user), {
  message: "--anonymous and --user exclude each other",
  path: ["anonymous"],
}).refine((o) => !(o.passwordEnv && !o.user), {
  message: "--password-env needs --user (or a user in the ftp:// URL)",
  path: ["passwordEnv"],
});
export type CheckOptionsInput = z.infer<typeof CheckOptionsInput>;

export function toCheckOptions(i: CheckOptionsInput): CheckOptions {
  return {
    tls: i.tls,
    ...(i.user ? { user: i.user } : {}),
    ...(i.passwordEnv ? { passwordEnv: i.passwordEnv } : {}),
    anonymous: i.anonymous,
    timeoutMs: i.timeout,
    ...(i.resolver ? { resolver: i.resolver } : {}),
    ...(i.ca ? { caFile: i.ca } : {}),
    write: i.write,
    ...(i.idle ? { idleSeconds: i.idle } : {}),
    active: i.active,
    allowDataHosts: i.allowDataHost,
  };
}

/** One line per problem, naming the option as the user typed it. */
export function formatZodError(
  err: z.ZodError,
  optionName: (key: string) => string = (k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
): string {
  return err.issues
    .map((i) => {
      const key = i.path.filter((p) => typeof p === "string").join(".");
      return key ? `${optionName(key)}: ${i.message}` : i.message;
    })
    .join("; ");
}
