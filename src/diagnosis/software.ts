import type { ServerSoftware } from "./codes.js";

export interface ServerIdentity {
  software: ServerSoftware;
  version?: string;
}

const PATTERNS: { software: Exclude<ServerSoftware, "unknown">; re: RegExp }[] = [
  { software: "vsftpd", re: /vsftpd\s*\(?v?([\d.]+\w*)?/i },
  { software: "proftpd", re: /proftpd\s*([\d.]+[a-z]?\w*)?/i },
  { software: "pure-ftpd", re: /pure-?ftpd\s*(?:v?([\d.]+))?/i },
  { software: "filezilla", re: /filezilla server\s*(?:version\s*)?v?([\d.]+[\w.-]*)?/i },
  { software: "iis", re: /microsoft ftp service()/i },
];

/** Identify the daemon from its greeting and SYST reply (banners can be customised: best effort). */
export function identifyServer(greeting: string | undefined, syst: string | undefined): ServerIdentity {
  for (const text of [greeting, syst]) {
    if (!text) continue;
    for (const { software, re } of PATTERNS) {
      const m = re.exec(text);
      if (m) return m[1] ? { software, version: m[1].replace(/\)$/, "") } : { software };
    }
  }
  if (syst && /windows_nt/i.test(syst)) return { software: "iis" };
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
