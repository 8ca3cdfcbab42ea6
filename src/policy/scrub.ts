/**
 * Scrub the secrets in use from everything a check produced, by value (issue 10 item 6). A
 * hostile or chatty server can echo the password back (`530 Login incorrect: password 'xyz'`),
 * in clear or encoded; secret-looking field names are not the only signal. The worker runs
 * this over the report before it is stored, returned (BullMQ return value and events) or
 * summarised.
 *
 * Forms removed: the value itself, case-insensitively; its URL encodings (`%XX`, `+` for
 * space), base64 (standard and URL-safe, padded or not, and at each of the three byte
 * alignments, so the secret is found inside a longer encoded blob such as SASL PLAIN's
 * `\0user\0password`), hex (either case), JSON and backslash escapes, and quoted-printable.
 * Secrets shorter than MIN_SECRET characters are not scrubbed by value: they would erase
 * ordinary text (and are not passwords worth the name).
 */

const MIN_SECRET = 3;
/** Encoded forms shorter than this are not searched for (they occur by chance). */
const MIN_FORM = 4;
export const SCRUBBED = "****";

function base64Forms(bytes: Buffer): string[] {
  const out: string[] = [];
  for (let shift = 0; shift < 3; shift++) {
    // The secret preceded by `shift` unknown bytes: drop the characters that depend on them,
    // and the trailing characters that depend on what follows.
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    const b64 = padded.toString("base64").replace(/=+$/, "");
    const head = Math.ceil((shift * 4) / 3);
    const full = Math.floor((padded.length * 8) / 6);
    const tail = padded.length % 3 === 0 ? b64.length : full;
    const core = b64.slice(head, tail);
    out.push(core, core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  out.push(bytes.toString("base64"), bytes.toString("base64url"));
  return out;
}

/** Every form of a secret to search for, longest first. */
export function secretForms(secret: string): string[] {
  if (secret.length < MIN_SECRET) return [];
  const bytes = Buffer.from(secret, "utf8");
  const forms = new Set<string>([
    secret,
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, "+"),
    bytes.toString("hex"),
    bytes.toString("hex").toUpperCase(),
    JSON.stringify(secret).slice(1, -1),
    secret.replace(/\\/g, "\\\\").replace(/'/g, "\\'").replace(/"/g, '\\"'),
    [...bytes]
      .map((b) => (b >= 33 && b <= 126 && b !== 61 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`))
      .join(""),
    ...base64Forms(bytes),
  ]);
  return [...forms].filter((f) => f === secret || f.length >= MIN_FORM).sort((a, b) => b.length - a.length);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A function that removes every form of the given secrets from a string. */
export function scrubber(secrets: readonly (string | undefined)[]): (text: string) => string {
  const forms = [...new Set(secrets.flatMap((s) => (s ? secretForms(s) : [])))].sort((a, b) => b.length - a.length);
  if (forms.length === 0) return (t) => t;
  // Base64 and hex are case-sensitive encodings, but a server may upper/lower-case text it
  // echoes: match case-insensitively (a few false positives cost nothing here).
  const re = new RegExp(forms.map(escapeRegExp).join("|"), "gi");
  return (text) => (text.length >= MIN_SECRET ? text.replace(re, SCRUBBED) : text);
}

/** Deep copy of a JSON-shaped value with every string (keys included) scrubbed. */
export function scrubDeep<T>(value: T, secrets: readonly (string | undefined)[]): T {
  const scrub = scrubber(secrets);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return scrub(v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [scrub(k), walk(x)]));
    return v;
  };
  return walk(value) as T;
}
