import type { FindingCode } from "./codes.js";

/** The facts each finding's message needs. */
export interface FindingFacts {
  ANON_ENABLED: { side?: { user: string; canWrite: boolean } };
  CLEARTEXT_AUTH_ALLOWED: Record<string, never>;
  TLS_CERT_EXPIRING: { days: number; validTo: string };
  TLS_LEGACY_ACCEPTED: { protocol: string };
  EPSV_UNSUPPORTED: { code: number };
  VULNERABLE_VERSION: { why: string; software: string; version: string };
  NO_IPV6: { host: string };
  TLS_FALLBACK_PLAIN: { code?: number };
  SLOW_GREETING: { ms: number };
  TLS_REUSE_REQUIRED: { setting: string };
}

/** Every finding's wording, in one table the compiler checks is complete. */
export const FINDING_TEXT: { [C in FindingCode]: (f: FindingFacts[C]) => string } = {
  ANON_ENABLED: (f) =>
    f.side
      ? "Anonymous login is accepted (tried on a side connection; " +
        `the check itself logged in as ${f.side.user})` +
        `${f.side.canWrite ? ", and the anonymous session can write: anyone can store files here" : ""}.`
      : "Anonymous login is accepted.",
  CLEARTEXT_AUTH_ALLOWED: () => "The password was accepted over an unencrypted connection: anyone on the path can read it.",
  TLS_CERT_EXPIRING: (f) => `The certificate expires in ${f.days} days (${f.validTo}).`,
  TLS_LEGACY_ACCEPTED: (f) => `The server still accepts ${f.protocol}: disable protocols older than TLS 1.2.`,
  EPSV_UNSUPPORTED: (f) => `EPSV is refused (${f.code}) while PASV works: IPv6 clients and some NAT setups will fail.`,
  VULNERABLE_VERSION: (f) => `${f.why}; the greeting announces ${f.software} ${f.version}.`,
  NO_IPV6: (f) => `${f.host} has no AAAA record: IPv6-only clients cannot reach it.`,
  TLS_FALLBACK_PLAIN: (f) =>
    `The server refused AUTH TLS (${f.code}): the check went on in plain FTP, so credentials and data travel unencrypted.`,
  TLS_REUSE_REQUIRED: (f) =>
    "The server refuses data connections whose TLS session does not resume the " +
    `control session (${f.setting}). Clients that resume work (curl, lftp, FileZilla, ` +
    "basic-ftp); clients that do not fail on every transfer: Python ftplib, " +
    "many Java and .NET libraries (Apache Commons Net FTPSClient, .NET FtpWebRequest).",
  SLOW_GREETING: (f) =>
    `The greeting took ${f.ms} ms (slow reverse DNS or ident lookups on the server?); impatient clients and monitors give up.`,
};
