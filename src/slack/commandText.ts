import { z } from "zod";
import { ProfileName, ZoneName } from "../config/file.js";
import { parseTarget, TargetParseError, type Target } from "../target/parse.js";

/** What `/ftp-check` (or a mention) asked for, after validation. */
export type CheckRequest =
  | { kind: "help" }
  | { kind: "history"; target: Target }
  | { kind: "check"; target: Target; zone?: string; profile?: string; write: boolean; zones?: string[] | "all" };

export class CommandTextError extends Error {
  override readonly name = "CommandTextError";
}

export const USAGE =
  "Usage: `/ftp-check <host[:port] | ftp://host> [from <zone> | from all | from <zone>,<zone>] [as <profile>] [write]` — " +
  "e.g. `/ftp-check ftp.example.com from dmz as ops`; `/ftp-check history <host>` for the last 7 days. " +
  "`/ftp-check help` shows this.";

const Tokens = z.object({
  target: z.string().min(1),
  zone: ZoneName.optional(),
  profile: ProfileName.optional(),
  write: z.boolean(),
});

/**
 * `<target> [from <zone>] [as <profile>] [write]`, in any order after the target. Every input
 * gets a request or a CommandTextError with a message for the user; nothing throws otherwise.
 */
export function parseCommandText(raw: string): CheckRequest {
  const text = raw.replace(/\u00a0/g, " ").trim();
  if (text === "" || /^(help|-h|--help|\?)$/i.test(text)) return { kind: "help" };
  if (text.length > 500) throw new CommandTextError(`that is too long for a check request. ${USAGE}`);
  const words = text.split(/\s+/);
  if (words[0]!.toLowerCase() === "history") {
    if (words.length !== 2) throw new CommandTextError(`history takes one server: \`/ftp-check history ftp.example.com\`. ${USAGE}`);
    return { kind: "history", target: checkedTarget(words[1]!) };
  }
  const fields: { target?: string; zone?: string; profile?: string; write: boolean } = { write: false };
  let zones: string[] | "all" | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const lw = w.toLowerCase();
    if ((lw === "from" || lw === "in" || lw === "zone") && words[i + 1]) {
      if (fields.zone || zones)
        throw new CommandTextError(`only one zone per check ("from ${fields.zone}" and "from ${words[i + 1]}"). ${USAGE}`);
      const z = words[++i]!;
      // `from all` (every zone with a live worker) or `from dmz,office`: a cross-zone check.
      if (z.toLowerCase() === "all") zones = "all";
      else if (z.includes(",")) {
        const list = [...new Set(z.split(",").filter(Boolean))];
        const bad = list.find((x) => !ZoneName.safeParse(x).success);
        if (bad !== undefined || list.length > 20) throw new CommandTextError(`"${z.slice(0, 60)}" is not a list of zones. ${USAGE}`);
        zones = list;
      } else fields.zone = z;
      if (zones) fields.zone = undefined;
    } else if ((lw === "as" || lw === "profile") && words[i + 1]) {
      if (fields.profile) throw new CommandTextError(`only one profile per check. ${USAGE}`);
      fields.profile = words[++i];
    } else if (lw === "write" || lw === "--write") fields.write = true;
    else if (lw === "check" && fields.target === undefined && i === 0) continue;
    else if (fields.target === undefined) fields.target = w;
    else throw new CommandTextError(`I don't understand "${w.slice(0, 40)}". ${USAGE}`);
  }
  if (fields.target === undefined) throw new CommandTextError(`which server? ${USAGE}`);
  const parsed = Tokens.safeParse(fields);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new CommandTextError(`${issue.path.join(".")} ${issue.message}. ${USAGE}`);
  }
  const target = checkedTarget(parsed.data.target);
  return {
    kind: "check",
    target,
    ...(parsed.data.zone ? { zone: parsed.data.zone } : {}),
    ...(parsed.data.profile ? { profile: parsed.data.profile } : {}),
    write: parsed.data.write,
    ...(zones ? { zones } : {}),
  };
}

function checkedTarget(text: string): Target {
  let target: Target;
  try {
    target = parseTarget(text);
  } catch (err) {
    if (err instanceof TargetParseError) throw new CommandTextError(`${err.message}. ${USAGE}`);
    throw err;
  }
  if (target.urlHadPassword)
    throw new CommandTextError(
      "never paste passwords into Slack: the URL contained one. Use a profile (`as <profile>`) and rotate that password now.",
    );
  return target;
}

/**
 * The first thing in a message that looks like an FTP server (for "@ftp-doctor" under a
 * message). Works token by token on the first 4,000 characters: a 40,000-character mention
 * must not make a regex crawl and block the bot.
 */
export function findHostInText(text: string): string | undefined {
  const { urls, ips, hosts } = hostTokens(text);
  return urls[0] ?? ips[0] ?? hosts.find((h) => /^(?:ftp|sftp|files?|upload|data|transfer)/i.test(h)) ?? hosts[0];
}

/** Every host-like token of a message, most specific first (ftp URLs, IPs, ftp-ish names, other names). */
export function hostsInText(text: string): string[] {
  const { urls, ips, hosts } = hostTokens(text);
  const ftpish = hosts.filter((h) => /^(?:ftp|sftp|files?|upload|data|transfer)/i.test(h));
  return [...new Set([...urls, ...ips, ...ftpish, ...hosts])];
}

function hostTokens(text: string): { urls: string[]; ips: string[]; hosts: string[] } {
  const cleaned = text
    .slice(0, 4000)
    .replace(/<((?:ftps?|ftpes):\/\/[^|>\s]{1,300})(?:\|[^>]{0,300})?>/gi, " $1 ")
    .replace(/<[^>]{0,300}>/g, " ");
  const tokens = cleaned
    .split(/[\s,;()"'`]+/)
    .filter((t) => t.length > 0 && t.length <= 300)
    .map((t) => t.replace(/[.:!?]+$/, ""));
  const urls = tokens.filter((t) => /^(?:ftps?|ftpes):\/\/[^\s/<>|]+/i.test(t)).map((t) => /^(?:ftps?|ftpes):\/\/[^\s/<>|]+/i.exec(t)![0]);
  const ips = tokens.filter((t) => /^\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?$/.test(t));
  const hostRe = /^[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63})*\.[a-z]{2,63}(?::\d{1,5})?$/i;
  return { urls, ips, hosts: tokens.filter((t) => hostRe.test(t)) };
}
