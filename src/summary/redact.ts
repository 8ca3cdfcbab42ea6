/**
 * What must never reach a model server: passwords, user names, profile names, the values of
 * secret environment variables. The summary input is built from a whitelist of report fields
 * (input.ts); this scrubs the free text inside those fields as a second line of defence.
 */

/** Env var names whose values are secrets (FTP_PASSWORD, SLACK_BOT_TOKEN, OPENAI_API_KEY, …). */
export const SECRET_ENV_NAME = /(PASS(WORD|WD|PHRASE)?|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|AUTH)(?![A-Z])/i;

/** Values this short are not scrubbed by value: replacing every "1" or "ab" would shred the text. */
const MIN_SECRET_CHARS = 4;

/** Anonymous logins are not secrets, and "ftp" is a word the summary needs. */
const PUBLIC_USERS = new Set(["anonymous", "ftp"]);

export const MASK = "****";

export interface RedactionInput {
  /** The environment the process runs with: values of secret-named variables are scrubbed. */
  env?: NodeJS.ProcessEnv;
  /** More variable names whose values are secret (a profile's passwordEnv, --password-env). */
  secretEnvNames?: string[];
  /** Secret values known to the caller (the password in use). */
  secrets?: string[];
  /** User and profile names known to the caller (--user, the profile's user, the profile's name). */
  names?: string[];
}

export interface Redactor {
  (text: string): string;
  /** Add names found while building the input (USER lines of the transcript). */
  addNames(names: Iterable<string>): void;
  /** True when `text` still holds a known secret value (checked on the final request text). */
  leaks(text: string): boolean;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Replace every occurrence of `value`, not as part of a longer word (a user "bob" leaves "bobcat" alone). */
function wordRe(value: string): RegExp {
  return new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegex(value)}(?![\\p{L}\\p{N}_])`, "gu");
}

export function createRedactor(input: RedactionInput = {}): Redactor {
  const env = input.env ?? {};
  const secretValues = new Set<string>();
  for (const [k, v] of Object.entries(env)) if (v && SECRET_ENV_NAME.test(k) && v.length >= MIN_SECRET_CHARS) secretValues.add(v);
  for (const k of input.secretEnvNames ?? []) {
    const v = env[k];
    if (v && v.length >= MIN_SECRET_CHARS) secretValues.add(v);
  }
  for (const s of input.secrets ?? []) if (s && s.length >= MIN_SECRET_CHARS) secretValues.add(s);
  const names = new Set<string>();
  const addNames = (more: Iterable<string>) => {
    for (const n of more) if (n && !PUBLIC_USERS.has(n.toLowerCase())) names.add(n);
  };
  addNames(input.names ?? []);

  const redact = ((text: string): string => {
    let out = text;
    // Longest first: a secret that contains another must go before the shorter one cuts it up.
    for (const s of [...secretValues].sort((a, b) => b.length - a.length)) out = out.split(s).join(MASK);
    out = out
      // RFC 959 PASS <password>: the probe already writes "PASS ****"; anything else is scrubbed up
      // to the end of the command (passwords may hold spaces), our " → " separator, or a quote.
      .replace(/\bPASS[ \t]+(?!\*{4}(?!\S))\S(?:(?! → )[^\r\n"|])*/g, `PASS ${MASK}`)
      // RFC 3986 userinfo: scheme://user:password@host and bare user:password@host.
      .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@"']+@/gi, `$1${MASK}@`)
      .replace(/(?<![\w.-])[^\s:/@"'|]+:[^\s/@"'|]+@(?=[\w[])/g, `${MASK}@`)
      // USER <name> (evidence lines like `USER alice → "331 …"`).
      // Upper case only, as the probe sends commands: "the user accounts" in prose stays readable.
      .replace(/\bUSER[ \t]+(?!\*{4}(?!\S))[^\s"|]+/g, `USER ${MASK}`);
    for (const n of [...names].sort((a, b) => b.length - a.length)) out = out.replace(wordRe(n), MASK);
    return out;
  }) as Redactor;
  redact.addNames = addNames;
  redact.leaks = (text: string) => [...secretValues].some((v) => text.includes(v));
  return redact;
}

/** User names as the probe sent them: `> USER alice` transcript lines and `USER alice →` evidence. */
export function usersIn(lines: Iterable<string>): string[] {
  const found = new Set<string>();
  for (const l of lines) for (const m of l.matchAll(/\bUSER[ \t]+([^\s"|]+)/g)) if (m[1] !== MASK) found.add(m[1]!);
  return [...found];
}
