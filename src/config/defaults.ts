/**
 * Every bound ftp-doctor applies, in one place. A hostile or broken server meets one of
 * these before it can hang a worker or grow its memory.
 */
export const LIMITS = {
  /** Whole-check budget when the caller gives none. @defaultValue 15000 */
  defaultBudgetMs: 15_000,
  /** Smallest and largest budget a caller may ask for. */
  minBudgetMs: 1_000,
  maxBudgetMs: 600_000,
  /** Kept back from every step for QUIT and socket cleanup. */
  cleanupReserveMs: 150,
  /** DNS lookups (each of A and AAAA). */
  dnsTimeoutMs: 2_500,
  /** TCP connect before the round-trip time is known. The OS would wait 21 s to 2 min. */
  connectTimeoutMs: 3_000,
  /** Silence after connect before a TLS side probe and a nudge are tried. */
  greetingNudgeMinMs: 1_000,
  /** Silence after which a greeting is declared missing (at least; scaled by RTT). */
  greetingTimeoutMinMs: 2_000,
  /** Ordinary command replies (at least; scaled by RTT). */
  replyTimeoutMinMs: 2_500,
  /** USER/PASS: servers delay failed logins on purpose (vsftpd 1 s, PAM up to 3 s). */
  loginTimeoutMinMs: 5_000,
  /** TLS handshakes (at least; scaled by RTT). A stall after 234 is decided at this. */
  tlsTimeoutMinMs: 2_000,
  /** Data connection connect (at least; scaled by RTT): a blocked passive port is decided at this. */
  dataConnectMinMs: 1_500,
  /** Side probes on other ports (990, 22) when the main port fails. */
  sideProbeMs: 1_200,
  /** Largest single line and single reply accepted on the control channel. */
  maxLineBytes: 8_192,
  maxReplyBytes: 65_536,
  maxReplyLines: 400,
  /** Non-reply lines tolerated in a session before it is called a protocol violation. */
  maxGarbageLines: 20,
  /** Directory listing bytes read before the data connection is cut. */
  maxListingBytes: 1_048_576,
  /** Size of the --write test file. */
  writeTestBytes: 65_536,
  /** Text kept per reply, per transcript line, and in the whole transcript. */
  replyTextChars: 2_000,
  transcriptLineChars: 300,
  transcriptLines: 400,
  transcriptChars: 60_000,
  /** Control connections one check may open (per-IP caps and login bans: FAULTS.md). */
  maxControlConnections: 4,
  /** Budget left below which a check does not start again in lock-step after a pipelined command went unanswered. */
  lockstepRetryMinMs: 1_500,
  /**
   * How long a finished check still waits for the anonymous-login side check. A refused login is
   * delayed on purpose (vsftpd/PAM ~3 s, Pure-FTPd 3-6 s); an accepted one answers at once.
   */
  lateSideGraceMs: 100,
  /** How long a finished check still waits for the session-reuse check's own session (at least 4 round trips). */
  reuseSideGraceMs: 300,
  /** After a data TLS reset that followed the 1xx: how long a final reply may take before the control connection counts as stuck. */
  dataTlsResetGraceMs: 500,
  /** Certificates within this many days of expiry raise TLS_CERT_EXPIRING. */
  certExpiringDays: 21,
} as const;

/** Timeouts that adapt to the measured control round-trip time: fast on a LAN, patient on a slow path. */
export function adaptive(minMs: number, rttMs: number | undefined, rttFactor: number): number {
  const rtt = rttMs ?? 0;
  return Math.round(Math.max(minMs, minMs / 2 + rtt * rttFactor));
}
