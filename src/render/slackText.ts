/**
 * The one home for Slack text (issue 10 item 7, issue 14). Every message the bot sends — post,
 * update, ephemeral, response_url, slash-command ack, digest, watch, incident — passes through
 * `safeMessage` (the Poster and the Bolt listeners call it; nothing else talks to the Web API).
 *
 * Slack reads `<…>` in message text as control sequences: `<!channel>`, `<!here>`, `<@U…>`,
 * `<#C…>`, `<https://…|label>`. Any of those in user- or server-controlled text (a target URL's
 * user part, a server banner, a usage string) would ping a channel or forge a link. So every
 * `<` and `>` in every `text` field is escaped here (api.slack.com/reference/surfaces/formatting#escaping),
 * whatever the caller did before; `&` is escaped by `esc` where text is built, and already
 * escaped text stays as it is (no `<` left in it to escape twice).
 *
 * The only control sequences that survive are the ones made by `mentionUser` and
 * `mentionGroup` below (validated ids, marked with a per-process random nonce no input can
 * guess), for the features that page someone on purpose (incidents).
 */
import { randomBytes } from "node:crypto";

const NONCE = randomBytes(8).toString("hex");
const OPEN = `\uE000${NONCE}`;
const CLOSE = "\uE001";
const MARKED = new RegExp(`${OPEN}(@[UW][A-Z0-9]{1,20}|!subteam\\^[A-Z0-9]{1,20})${CLOSE}`, "g");

/** A deliberate mention of one Slack user (an id such as U0123ABCD). Anything else: plain text. */
export function mentionUser(id: string): string {
  return /^[UW][A-Z0-9]{1,20}$/.test(id) ? `${OPEN}@${id}${CLOSE}` : id;
}

/** A deliberate mention of a user group (`<!subteam^S…>`), e.g. an on-call rotation. */
export function mentionGroup(id: string): string {
  return /^[A-Z0-9]{1,20}$/.test(id) ? `${OPEN}!subteam^${id}${CLOSE}` : id;
}

/** Escape what Slack would read as control sequences; restore our own deliberate mentions. */
export function safeText(text: string): string {
  return text
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(MARKED, "<$1>")
    .replace(/[\uE000\uE001]/g, "");
}

/** Every `text` (and `fallback`/`alt_text`) string in a message, its blocks and attachments, made safe. */
export function safeMessage<T>(message: T): T {
  const walk = (v: unknown, key?: string): unknown => {
    if (typeof v === "string") return key === "text" || key === "fallback" || key === "pretext" || key === "title" ? safeText(v) : v;
    if (Array.isArray(v)) return v.map((x) => walk(x));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return walk(message) as T;
}
