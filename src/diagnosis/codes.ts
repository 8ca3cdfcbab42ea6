/**
 * The stable verdict vocabulary (shared/FAULTS.md). Codes are added, never renamed:
 * they appear in JSON output, CLI exit handling, Slack messages and stored history.
 */
export const ROOT_CAUSE_CODES = [
  "HEALTHY",
  // name and address
  "DNS_NXDOMAIN",
  "DNS_PARTIAL",
  "DNS_NO_ADDRESS",
  "DNS_TIMEOUT",
  // tcp
  "TCP_REFUSED",
  "TCP_TIMEOUT",
  "TCP_UNREACHABLE",
  // greeting
  "BANNER_TIMEOUT",
  "IMPLICIT_TLS_PORT",
  "CONNECTION_CLOSED",
  "SERVER_BUSY",
  "NOT_FTP_SSH",
  "NOT_FTP_HTTP",
  // tls
  "FTPS_UNSUPPORTED",
  "FTPS_REQUIRED",
  "TLS_PROTOCOL_OUTDATED",
  "TLS_HANDSHAKE_STALL",
  "TLS_HANDSHAKE_FAILED",
  "TLS_CERT_EXPIRED",
  "TLS_CERT_SELF_SIGNED",
  "TLS_CERT_UNTRUSTED",
  "TLS_HOSTNAME_MISMATCH",
  // login and session
  "AUTH_FAILED",
  "LOGIN_POLICY_DENIED",
  "CHROOT_WRITABLE_ROOT",
  "HOME_DIR_MISSING",
  "SERVER_CONFIG_ERROR",
  "STORAGE_FULL",
  "PERMISSION_DENIED",
  "IDLE_TIMEOUT",
  // data channel
  "PASV_ADDRESS_PRIVATE",
  "PASV_ADDRESS_WRONG",
  "PASV_PORTS_BLOCKED",
  "PASV_DISABLED",
  "EPSV_BROKEN",
  "DATA_FOREIGN_IP",
  "TLS_SESSION_REUSE_REQUIRED",
  "DATA_TLS_REQUIRED",
  "ACTIVE_MODE_BLOCKED",
  "CONNECTION_RESET",
  "PROTOCOL_VIOLATION",
  "REPLY_TIMEOUT",
  // the directory in the URL
  "PATH_NOT_FOUND",
  "PATH_DENIED",
  // our own policy: an outcome, not a server fault
  "CLEARTEXT_PASSWORD_BLOCKED",
  "TARGET_NOT_PERMITTED",
] as const;
export type RootCauseCode = (typeof ROOT_CAUSE_CODES)[number];

export const FINDING_CODES = [
  "ANON_ENABLED",
  "CLEARTEXT_AUTH_ALLOWED",
  "TLS_CERT_EXPIRING",
  "TLS_LEGACY_ACCEPTED",
  "EPSV_UNSUPPORTED",
  "VULNERABLE_VERSION",
  "NO_IPV6",
  "TLS_FALLBACK_PLAIN",
  "SLOW_GREETING",
  "TLS_REUSE_REQUIRED",
] as const;
export type FindingCode = (typeof FINDING_CODES)[number];

/** `policy`: our own target policy or credential policy stopped the check (nothing is wrong with the server). */
export const LAYERS = ["none", "dns", "policy", "tcp", "greeting", "tls", "auth", "data", "server"] as const;
export type Layer = (typeof LAYERS)[number];

export const SEVERITIES = ["info", "low", "medium", "high"] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SERVER_SOFTWARE = [
  "vsftpd",
  "proftpd",
  "pure-ftpd",
  "filezilla",
  "iis",
  "ftp-srv",
  "pyftpdlib",
  "twisted",
  "inetutils",
  "netkit",
  "unknown",
] as const;
export type ServerSoftware = (typeof SERVER_SOFTWARE)[number];
