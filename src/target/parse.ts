import { isIP } from "node:net";

/** How the control connection should be secured. */
export const TLS_MODES = ["auto", "explicit", "implicit", "off"] as const;
export type TlsMode = (typeof TLS_MODES)[number];

export interface Target {
  /** Host as the user meant it: a DNS name, or an IP literal without brackets. */
  host: string;
  port: number;
  /** TLS mode implied by the scheme (`ftps://` implicit, `ftpes://` explicit), if any. */
  schemeTls?: TlsMode;
  /** User name embedded in a URL (`ftp://alice@host`); never a password. */
  user?: string;
  /** True when the URL carried a password: we refuse to use it and say so. */
  urlHadPassword: boolean;
  path?: string;
  /** What the user typed, trimmed, with any password masked. */
  input: string;
  /** Notes about how the input was read ("read `ftp://h:2121` as host h, port 2121"). */
  notes: string[];
}

export class TargetParseError extends Error {
  override readonly name = "TargetParseError";
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
const HOSTNAME = /^(?=.{1,253}$)(?!-)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))*\.?$/i;

/**
 * Accept what people paste into a terminal or a chat box: `host`, `host:port`, `[v6]:port`,
 * bare IPv6, `ftp://user@host:port/path`, `ftps://` (implicit TLS, default port 990),
 * `ftpes://` (explicit TLS). Slack wraps links as `<ftp://host|host>`; that is unwrapped too.
 */
export function parseTarget(raw: string): Target {
  let text = raw.trim();
  const notes: string[] = [];
  if (text.length === 0) throw new TargetParseError("no target given: expected a host name, host:port or ftp:// URL");
  if (text.length > 2048) throw new TargetParseError("target is too long (over 2048 characters)");
  // Slack link markup: <ftp://host|label> or <http://host>
  const slack = /^<([^|>]+)(?:\|[^>]*)?>$/.exec(text);
  if (slack) text = slack[1]!;
  if (/[\s\x00-\x1f\x7f]/.test(text)) throw new TargetParseError("target contains spaces or control characters");

  let schemeTls: TlsMode | undefined;
  let defaultPort = 21;
  let user: string | undefined;
  let urlHadPassword = false;
  let path: string | undefined;
  let hostPort = text;

  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(text);
  if (scheme) {
    const s = scheme[1]!.toLowerCase();
    if (s === "ftps") {
      schemeTls = "implicit";
      defaultPort = 990;
    } else if (s === "ftpes") {
      schemeTls = "explicit";
    } else if (s === "sftp" || s === "ssh" || s === "scp") {
      throw new TargetParseError(`${s}:// is SSH file transfer, not FTP: ftp-doctor checks FTP and FTPS only`);
    } else if (s !== "ftp") {
      throw new TargetParseError(`unsupported scheme ${s}://: use ftp://, ftps:// (implicit TLS) or ftpes:// (explicit TLS)`);
    }
    let rest = text.slice(scheme[0].length);
    const slash = rest.indexOf("/");
    if (slash >= 0) {
      path = decodeSafe(rest.slice(slash));
      if (CONTROL.test(path)) throw new TargetParseError("the path in the URL contains control characters (an encoded line break?)");
      rest = rest.slice(0, slash);
    }
    const at = rest.lastIndexOf("@");
    if (at >= 0) {
      const cred = rest.slice(0, at);
      rest = rest.slice(at + 1);
      const colon = cred.indexOf(":");
      if (colon >= 0) urlHadPassword = true;
      user = decodeSafe(colon >= 0 ? cred.slice(0, colon) : cred);
      if (!user) user = undefined;
      // `USER <name>\r\n` goes on the wire as is: an encoded CR/LF would inject FTP commands.
      if (user !== undefined && CONTROL.test(user))
        throw new TargetParseError("the user name in the URL contains control characters (an encoded line break?)");
    }
    hostPort = rest;
    notes.push(`read the URL as ${schemeTls ? `${s} (${schemeTls} TLS) ` : ""}host and port`);
  } else if (text.includes("/")) {
    throw new TargetParseError(`"${mask(text)}" is not a host name: paths need a URL such as ftp://host/path`);
  }

  const { host, port } = splitHostPort(hostPort, defaultPort);
  return {
    host,
    port,
    ...(schemeTls ? { schemeTls } : {}),
    ...(user !== undefined ? { user } : {}),
    urlHadPassword,
    ...(path !== undefined ? { path } : {}),
    input: mask(text),
    notes,
  };
}

function splitHostPort(hp: string, defaultPort: number): { host: string; port: number } {
  if (hp.length === 0) throw new TargetParseError("no host in target");
  let host: string;
  let portText: string | undefined;
  if (hp.startsWith("[")) {
    const close = hp.indexOf("]");
    if (close < 0) throw new TargetParseError("unclosed [ in IPv6 address");
    host = hp.slice(1, close);
    const after = hp.slice(close + 1);
    if (after.length > 0) {
      if (!after.startsWith(":")) throw new TargetParseError("unexpected text after ]: use [v6-address]:port");
      portText = after.slice(1);
    }
    if (isIP(host) !== 6) throw new TargetParseError(`"${host}" is not an IPv6 address`);
  } else if ((hp.match(/:/g) ?? []).length > 1) {
    // Bare IPv6 literal without a port.
    host = hp;
    if (isIP(host) !== 6) throw new TargetParseError(`"${hp}" is neither host:port nor an IPv6 address`);
  } else {
    const colon = hp.indexOf(":");
    host = colon >= 0 ? hp.slice(0, colon) : hp;
    if (colon >= 0) portText = hp.slice(colon + 1);
    if (!isIP(host)) {
      if (!HOSTNAME.test(host)) throw new TargetParseError(`"${host}" is not a valid host name`);
      host = host.replace(/\.$/, "").toLowerCase();
    }
  }
  let port = defaultPort;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) throw new TargetParseError(`port "${portText}" is not a number from 1 to 65535`);
    port = Number(portText);
    if (port < 1 || port > 65535) throw new TargetParseError(`port ${port} is out of range 1-65535`);
  }
  return { host, port };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Mask a password in `scheme://user:password@host` so it never reaches a log or a chat. */
export function mask(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, "$1:****@");
}

export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
