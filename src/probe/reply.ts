import { LIMITS } from "../config/defaults.js";
import { sanitize } from "./record.js";
import type { Reply } from "./types.js";

/** What one line of control-connection text turned out to be. */
export type Incoming = { type: "reply"; reply: Reply } | { type: "garbage"; text: string };

/** A multi-line reply that has begun (`211-…`) and not ended yet. */
export interface PendingReply {
  code: string;
  lines: string[];
  bytes: number;
}

export interface LineResult {
  /** The reply still open after this line, if any. */
  pending?: PendingReply;
  /** A complete reply, or a line that is not a reply. */
  item?: Incoming;
  /** The peer broke a size limit: the connection should be aborted. */
  oversize?: string;
}

/**
 * One line (without its CR LF) of the control connection, given the multi-line reply it may
 * continue. Pure: the socket side (ControlChannel) owns the state and the bytes.
 * RFC 959 §4.2: a multi-line reply starts `ddd-` and ends with a line starting `ddd ` (same code).
 */
export function parseReplyLine(pending: PendingReply | undefined, line: string): LineResult {
  if (pending) {
    const lines = [...pending.lines, line];
    const bytes = pending.bytes + line.length + 1;
    if (line.startsWith(`${pending.code} `) || line === pending.code) {
      return { item: { type: "reply", reply: { code: Number(pending.code), text: sanitize(lines.join("\n")) } } };
    }
    if (bytes > LIMITS.maxReplyBytes || lines.length > LIMITS.maxReplyLines) {
      return { oversize: `reply ${pending.code} exceeded ${LIMITS.maxReplyLines} lines or ${LIMITS.maxReplyBytes} bytes` };
    }
    return { pending: { code: pending.code, lines, bytes } };
  }
  if (/^\d{3}-/.test(line)) return { pending: { code: line.slice(0, 3), lines: [line], bytes: line.length } };
  if (/^\d{3}(?: |$)/.test(line)) return { item: { type: "reply", reply: { code: Number(line.slice(0, 3)), text: sanitize(line) } } };
  if (line.trim() === "") return {};
  return { item: { type: "garbage", text: sanitize(line, 300) } };
}

/**
 * Everything complete in a stretch of control text: the replies and non-reply lines in order,
 * the reply left open, the text after the last line break, and a broken limit if any.
 * (ControlChannel feeds line by line; this is the same parser over a whole string.)
 */
export function parseReplies(
  text: string,
  pending?: PendingReply,
): { items: Incoming[]; pending?: PendingReply; rest: string; oversize?: string } {
  const items: Incoming[] = [];
  let open = pending;
  let rest = text;
  let nl: number;
  while ((nl = rest.indexOf("\n")) >= 0) {
    const line = rest.slice(0, nl).replace(/\r$/, "");
    rest = rest.slice(nl + 1);
    const r = parseReplyLine(open, line);
    if (r.oversize) return { items, rest, oversize: r.oversize };
    open = r.pending;
    if (r.item) items.push(r.item);
  }
  if (Buffer.byteLength(rest) > LIMITS.maxLineBytes) {
    return { items, rest, oversize: `a line longer than ${LIMITS.maxLineBytes} bytes without a line break` };
  }
  return { items, ...(open ? { pending: open } : {}), rest };
}
