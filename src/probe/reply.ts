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
  /** Whole replies to later commands found inside it (see `pipelined`), in arrival order. */
  foreign: Reply[];
}

export interface LineResult {
  /** The reply still open after this line, if any. */
  pending?: PendingReply;
  /** Complete replies and non-reply lines, in the order the commands were sent. */
  items: Incoming[];
  /** This line was another command's reply written into the middle of a multi-line reply. */
  interleaved?: { within: number; line: string };
  /** The peer broke a size limit: the connection should be aborted. */
  oversize?: string;
}

/**
 * One line (without its CR LF) of the control connection, given the multi-line reply it may
 * continue. Pure: the socket side (ControlChannel) owns the state and the bytes.
 * RFC 959 §4.2: a multi-line reply starts `ddd-` and ends with a line starting `ddd ` (same code);
 * a text line inside it that starts with digits must be padded, so `331 …` inside `211-` is not text.
 *
 * `pipelined`: a command was sent behind the one this multi-line reply answers. Then a line that
 * is a whole reply with another code is that later command's reply, written concurrently (ftp-srv
 * answers pipelined FEAT + USER/AUTH TLS with `331`/`234` inside its `211-` FEAT reply): it is
 * taken out and handed over right after the reply it interrupted, in command order. Without a
 * command behind, such a line stays text (a banner line like `100 GB free` inside `220-`).
 */
export function parseReplyLine(pending: PendingReply | undefined, line: string, pipelined = false): LineResult {
  if (pending) {
    if (line.startsWith(`${pending.code} `) || line === pending.code) {
      const text = sanitize([...pending.lines, line].join("\n"));
      const items: Incoming[] = [{ type: "reply", reply: { code: Number(pending.code), text } }];
      for (const reply of pending.foreign) items.push({ type: "reply", reply });
      return { items };
    }
    if (pipelined && /^[1-5]\d\d /.test(line)) {
      const foreign = { code: Number(line.slice(0, 3)), text: sanitize(line) };
      return {
        pending: { ...pending, foreign: [...pending.foreign, foreign] },
        items: [],
        interleaved: { within: Number(pending.code), line: sanitize(line, 120) },
      };
    }
    const lines = [...pending.lines, line];
    const bytes = pending.bytes + line.length + 1;
    if (bytes > LIMITS.maxReplyBytes || lines.length > LIMITS.maxReplyLines) {
      return { items: [], oversize: `reply ${pending.code} exceeded ${LIMITS.maxReplyLines} lines or ${LIMITS.maxReplyBytes} bytes` };
    }
    return { pending: { ...pending, lines, bytes }, items: [] };
  }
  if (/^\d{3}-/.test(line)) return { pending: { code: line.slice(0, 3), lines: [line], bytes: line.length, foreign: [] }, items: [] };
  if (/^\d{3}(?: |$)/.test(line)) return { items: [{ type: "reply", reply: { code: Number(line.slice(0, 3)), text: sanitize(line) } }] };
  if (line.trim() === "") return { items: [] };
  return { items: [{ type: "garbage", text: sanitize(line, 300) }] };
}

/**
 * Everything complete in a stretch of control text: the replies and non-reply lines in order,
 * the reply left open, the text after the last line break, and a broken limit if any.
 * (ControlChannel feeds line by line; this is the same parser over a whole string.) `interleaved`
 * counts the lines taken out of a multi-line reply as other commands' replies.
 */
export function parseReplies(
  text: string,
  pending?: PendingReply,
  pipelined = false,
): { items: Incoming[]; pending?: PendingReply; rest: string; oversize?: string; interleaved?: number } {
  const items: Incoming[] = [];
  let interleaved = 0;
  let open = pending;
  let rest = text;
  let nl: number;
  while ((nl = rest.indexOf("\n")) >= 0) {
    const line = rest.slice(0, nl).replace(/\r$/, "");
    rest = rest.slice(nl + 1);
    const r = parseReplyLine(open, line, pipelined);
    if (r.oversize) return { items, rest, oversize: r.oversize };
    open = r.pending;
    items.push(...r.items);
    if (r.interleaved) interleaved++;
  }
  if (Buffer.byteLength(rest) > LIMITS.maxLineBytes) {
    return { items, rest, oversize: `a line longer than ${LIMITS.maxLineBytes} bytes without a line break` };
  }
  return { items, ...(open ? { pending: open } : {}), rest, ...(interleaved ? { interleaved } : {}) };
}
