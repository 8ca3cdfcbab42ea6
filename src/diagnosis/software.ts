import type { ServerSoftware } from "./codes.js";

export interface ServerIdentity {
  software: ServerSoftware;
  version?: string;
}

type Known = Exclude<ServerSoftware, "unknown">;

/** How each daemon is called in remediation text. */
export const SOFTWARE_LABEL: Record<Known, string> = {
  vsftpd: "vsftpd",
  proftpd: "ProFTPD",
  "pure-ftpd": "Pure-FTPd",
  filezilla: "FileZilla Server",
  iis: "IIS FTP",
  "ftp-srv": "ftp-srv (Node.js)",
  pyftpdlib: "pyftpdlib",
  twisted: "Twisted FTP",
  inetutils: "GNU inetutils ftpd",
  netkit: "netkit ftpd (linux-ftpd)",
};

/** Banners and SYST replies that name the daemon (and its version). */
const PATTERNS: { software: Known; re: RegExp }[] = [
  { software: "vsftpd", re: /vsftpd\s*\(?v?([\d.]+\w*)?/i },
  { software: "proftpd", re: /proftpd\s*([\d.]+[a-z]?\w*)?/i },
  { software: "pure-ftpd", re: /pure-?ftpd\s*(?:v?([\d.]+))?/i },
  { software: "filezilla", re: /filezilla server\s*(?:version\s*)?v?([\d.]+[\w.-]*)?/i },
  { software: "iis", re: /microsoft ftp service()/i },
  // pyftpdlib's default banner: "220 pyftpdlib 1.5.7 ready."
  { software: "pyftpdlib", re: /pyftpdlib\s*([\d.]+)?/i },
  // Twisted's FTPFactory.welcomeMessage: "220 Twisted 22.4.0 FTP Server"
  { software: "twisted", re: /twisted\s*([\d.]+)?\s*ftp/i },
  // "220 host FTP server (GNU inetutils 2.4) ready."; SYST "215 UNIX Type: L8 Version: BSD-199506" is not unique.
  { software: "inetutils", re: /gnu inetutils\s*([\d.]+)?/i },
  // netkit/linux-ftpd (Debian ftpd, ftpd-ssl): "220 host FTP server (Version 6.4/OpenBSD/Linux-ftpd-0.17) ready."
  { software: "netkit", re: /linux-ftpd-([\d.]+)|netkit/i },
];

/**
 * Messages only one daemon sends: they identify it when the greeting itself is a refusal
 * (a 421 "too many connections" greeting carries no banner) or the banner was customised.
 */
const SIGNATURES: { software: Known; re: RegExp }[] = [
  {
    software: "vsftpd",
    re: new RegExp(
      "^500 OOPS: |There are too many connected users|too many connections from your internet address|" +
        "Non-anonymous sessions must use encryption|Please login with USER and PASS",
      "m",
    ),
  },
  {
    software: "pure-ftpd",
    re: /Too many connections \(\d+\) from this IP|cleartext sessions and weak ciphers are not accepted|users \(the maximum\) are already logged in/i,
  },
  { software: "proftpd", re: /maximum number of clients \(\d+\)|maximum number of (?:allowed )?users/i },
  { software: "filezilla", re: /TLS session of data connection not resumed/i },
  {
    software: "pyftpdlib",
    re: new RegExp(
      String.raw`Too many connections from the same IP address|Too many connections\. Service temporarily unavailable|` +
        String.raw`^331 Username ok, send password\.|^234 AUTH TLS successful\.|^227 Entering passive mode \(`,
      "m",
    ),
  },
  // inetutils SYST: "215 UNIX Type: L8 Version: Linux 6.1.0-…"
  { software: "inetutils", re: /^215 UNIX Type: L8 Version: /m },
  { software: "twisted", re: /Too many users right now, try again in a few minutes|Sorry, Authentication failed\./i },
  // ftp-srv: "220 Features: a ." (anonymous on), its own 227/229/234/221 wording (servers-quirks.md).
  {
    software: "ftp-srv",
    re: new RegExp(
      String.raw`^220 Features: (?:\w+ )+\.$|^227 PASV OK \(|^229 EPSV OK \(|^234 Honored$|` +
        "Username okay, awaiting password|Command requires authentication|Command (?:not allowed|blacklisted): ",
      "m",
    ),
  },
  { software: "netkit", re: /^215 UNIX Type: L8 \(Linux\)|Will not talk unprotected/m },
];

/** Identify the daemon from its greeting and SYST reply (banners can be customised: best effort). */
export function identifyServer(greeting: string | undefined, syst: string | undefined, other: (string | undefined)[] = []): ServerIdentity {
  for (const text of [greeting, syst]) {
    if (!text) continue;
    for (const { software, re } of PATTERNS) {
      const m = re.exec(text);
      if (m) return m[1] ? { software, version: m[1].replace(/\)$/, "") } : { software };
    }
  }
  if (syst && /windows_nt/i.test(syst)) return { software: "iis" };
  for (const text of [greeting, syst, ...other]) {
    const hit = text && SIGNATURES.find((s) => s.re.test(text));
    if (hit) return { software: hit.software };
  }
  return { software: "unknown" };
}

/**
 * Versions whose greeting alone is worth an alarm (known backdoors / remote code execution).
 * We match the version string; we never try the exploit.
 */
export const VULNERABLE_VERSIONS: { software: ServerSoftware; version: RegExp; why: string }[] = [
  { software: "vsftpd", version: /^2\.3\.4$/, why: "vsFTPd 2.3.4 shipped with a backdoor (CVE-2011-2523)" },
  { software: "proftpd", version: /^1\.3\.3c$/i, why: "ProFTPD 1.3.3c shipped with a backdoor (OSVDB-69562)" },
  { software: "proftpd", version: /^1\.3\.5(?:[ab]?)$/i, why: "ProFTPD 1.3.5 mod_copy allows unauthenticated file copy (CVE-2015-3306)" },
  { software: "filezilla", version: /^0\.9\./, why: "FileZilla Server 0.9.x is unmaintained and speaks only outdated TLS" },
];
