import type { Target, TlsMode } from "../target/parse.js";

/**
 * Observations: everything a check saw, nothing it concluded. The fault tree
 * (src/diagnosis/faultTree.ts) is the only place that turns these into a verdict.
 */

export interface Reply {
  code: number;
  /** All lines of the reply joined with "\n", control characters replaced, length capped. */
  text: string;
}

/** How a network operation ended when it did not produce what we waited for. */
export type NetFailure = "refused" | "timeout" | "unreachable" | "reset" | "closed" | "oversize" | "malformed" | "tls-error" | "error";

export interface NetError {
  kind: NetFailure;
  /** errno-style code (ECONNREFUSED, ERR_SSL_...), or our own (TIMEOUT, CLOSED, OVERSIZE). */
  code: string;
  message: string;
}

export const STEP_IDS = [
  "resolve",
  "connect",
  "greeting",
  "tls",
  "login",
  "session",
  "path",
  "data",
  "write",
  "idle",
  "active",
  "side",
  "quit",
] as const;
export type StepId = (typeof STEP_IDS)[number];
export type StepStatus = "ok" | "fail" | "warn" | "skip";

export interface StepRecord {
  id: StepId;
  status: StepStatus;
  /** Milliseconds since the check started. */
  startMs: number;
  durationMs: number;
  detail: string;
  reply?: Reply;
  error?: NetError;
}

export interface TranscriptLine {
  /** Milliseconds since the check started. */
  t: number;
  /** ">" sent, "<" received, "*" event (connect, TLS, close). */
  dir: ">" | "<" | "*";
  /** Which connection: "ctl", "data", "side". */
  conn: string;
  text: string;
}

export interface ConnectAttempt {
  address: string;
  family: 4 | 6;
  status: "ok" | "refused" | "timeout" | "unreachable" | "error";
  durationMs: number;
  error?: NetError;
}

export interface DnsObservation {
  status: "ok" | "literal" | "nxdomain" | "nodata" | "timeout" | "error";
  resolver: string;
  addresses: { address: string; family: 4 | 6 }[];
  /** Whether an AAAA lookup was made and what it found (for NO_IPV6). */
  aaaaQueried: boolean;
  durationMs: number;
  error?: NetError;
}

export interface GreetingObservation {
  /** ok: a 2xx/1xx reply; reply: a complete non-2xx FTP reply (421, 530...). */
  status: "ok" | "reply" | "timeout" | "closed" | "reset" | "ssh" | "http" | "garbage" | "oversize";
  reply?: Reply;
  /** First bytes when they were not an FTP reply (sanitised). */
  raw?: string;
  durationMs: number;
  /** A slow greeting that did arrive. */
  late?: boolean;
  /** When silent: did a TLS handshake on a second connection succeed? */
  tlsProbe?: { status: "ok" | "failed" | "not-run"; protocol?: string; detail?: string; greeting?: Reply };
  /** When no greeting completed: the start of one that did not (a server trickling bytes, slowloris). */
  unfinished?: { bytes: number; text: string };
  /** When silent: what a line of text sent to it provoked. */
  nudge?: { sent: string; answer?: string; kind: "http" | "ftp" | "none" | "other" };
}

export interface CertFacts {
  subject: string;
  issuer: string;
  sans: string[];
  validFrom: string;
  validTo: string;
  fingerprint256: string;
  selfIssued: boolean;
}

export interface TlsObservation {
  mode: "explicit" | "implicit";
  /** explicit only: the reply to AUTH TLS. */
  authReply?: Reply;
  status: "ok" | "refused" | "stall" | "failed" | "not-run";
  protocol?: string;
  cipher?: string;
  handshakeMs?: number;
  chain: CertFacts[];
  /** Node's verification result against system CAs + --ca; undefined when trusted. */
  authorizationError?: string;
  hostnameError?: string;
  /** The name the certificate was checked against. */
  checkedName: string;
  error?: NetError;
  /** When the modern handshake failed: did a legacy-allowing handshake work? */
  legacyRetry?: { status: "ok" | "failed" | "not-run"; protocol?: string; cipher?: string; error?: NetError };
  /** When the handshake stalled: does a plain session work on another connection? */
  plainCheck?: { status: "ok" | "failed"; detail: string };
  /** Did the server accept a TLS 1.0/1.1-only handshake (side connection)? */
  legacyAccepted?: boolean;
}

export interface LoginObservation {
  user: string;
  anonymous: boolean;
  /** True when the credentials were not chosen by the user (default anonymous attempt). */
  defaultAnonymous: boolean;
  encrypted: boolean;
  userReply?: Reply;
  passReply?: Reply;
  status: "ok" | "refused" | "error" | "not-run" | "blocked-cleartext";
  error?: NetError;
  /** A password was needed but none was available. */
  missingPassword?: boolean;
}

export interface PassiveObservation {
  command: "EPSV" | "PASV";
  reply?: Reply;
  advertisedHost?: string;
  port?: number;
  /** Where we connected (may be the control peer when the advertised address was not trusted). */
  connectedHost?: string;
  connect?: {
    status: "ok" | "refused" | "timeout" | "unreachable" | "error" | "not-run";
    durationMs: number;
    error?: NetError;
    reason?: string;
  };
}

export interface DataObservation {
  protected: boolean;
  pbszReply?: Reply;
  protReply?: Reply;
  passive: PassiveObservation[];
  /** What the advertised PASV address looked like, compared with the control peer. */
  pasvAddress?: {
    advertised: string;
    controlPeer: string;
    same: boolean;
    advertisedPrivate: boolean;
    peerPrivate: boolean;
    permitted: boolean;
    rule?: string;
  };
  listCommand?: string;
  listReply?: Reply;
  listFinalReply?: Reply;
  listBytes?: number;
  listEntries?: number;
  dataTls?: { status: "ok" | "failed" | "not-run"; reused?: boolean; protocol?: string; error?: NetError };
  status: "ok" | "failed" | "not-run";
  error?: NetError;
}

export interface WriteObservation {
  status: "ok" | "failed" | "not-run";
  fileName: string;
  bytes: number;
  storReply?: Reply;
  storFinalReply?: Reply;
  retrFinalReply?: Reply;
  deleReply?: Reply;
  verified?: boolean;
  uploadMs?: number;
  downloadMs?: number;
  error?: NetError;
}

export interface IdleObservation {
  seconds: number;
  status: "ok" | "dropped" | "not-run";
  reply?: Reply;
  error?: NetError;
}

export interface ActiveObservation {
  command: "EPRT" | "PORT";
  status: "ok" | "refused" | "failed" | "not-run";
  reply?: Reply;
  listReply?: Reply;
  error?: NetError;
}

export interface SideProbe {
  port: number;
  status: "open" | "closed" | "timeout";
  banner?: string;
  tls?: boolean;
}

export interface CheckOptions {
  tls: TlsMode;
  user?: string;
  /** Name of the environment variable holding the password (the value never enters Observations). */
  passwordEnv?: string;
  anonymous: boolean;
  timeoutMs: number;
  resolver?: string;
  caFile?: string;
  write: boolean;
  idleSeconds?: number;
  active: boolean;
  /** Extra hosts/CIDRs a differing PASV address may be connected to. */
  allowDataHosts: string[];
}

/**
 * Hooks by which the target policy (issue 10; src/policy) steers a check. Not part of the
 * observations: the caller passes them with the check (runCheck's `policy`).
 */
export interface ProbePolicy {
  /** Called for every resolved address before any connection: refused → no connection at all. */
  address?(address: string, name: string): PolicyDecision;
  /** When present, decides whether a differing PASV/EPSV address may be connected to (replaces the /24 rule; --allow-data-host still adds). */
  dataHost?(address: string): PolicyDecision;
  /** A password only travels over TLS: stop before PASS on a plain session. */
  passwordRequiresTls?: boolean;
}
export interface PolicyDecision {
  permitted: boolean;
  rule: string;
}

export interface Observations {
  target: Target;
  options: Omit<CheckOptions, "passwordEnv"> & { passwordEnv?: string };
  startedAt: string;
  durationMs: number;
  budgetMs: number;
  steps: StepRecord[];
  transcript: TranscriptLine[];
  dns?: DnsObservation;
  connects: ConnectAttempt[];
  /** The address used for the session. */
  peer?: { address: string; family: 4 | 6; rttMs: number };
  greeting?: GreetingObservation;
  tls?: TlsObservation;
  /** Auto mode fell back to plain FTP (AUTH refused or TLS broken). */
  plainFallback?: { reason: string };
  feat?: { reply?: Reply; features: string[] };
  syst?: Reply;
  pwd?: Reply;
  login?: LoginObservation;
  data?: DataObservation;
  write?: WriteObservation;
  idle?: IdleObservation;
  active?: ActiveObservation;
  side: SideProbe[];
  /** The control connection failed mid-session: where, and how. */
  controlLost?: { during: string; error: NetError; lastReply?: Reply };
  /** A reply we could not use (malformed 227, garbage): where and what. */
  protocolViolation?: { during: string; detail: string };
  /** A server that stopped answering a command without closing. */
  replyTimeout?: { during: string; command: string; unfinished?: { bytes: number; text: string } };
  controlConnections: number;
  /** How commands were sent: pipelined, or lock-step after the server mishandled pipelining. */
  pipelining?: {
    mode: "pipelined" | "lockstep";
    /** Why lock-step: replies interleaved, a reply missing, or a banner naming such software (no detour). */
    fallback?: { during: string; reason: "interleaved" | "missing-reply" | "banner"; detail: string };
    /** After a missing reply: the check started again on a fresh connection ("run"), or could not ("not-run": cap or budget). */
    retry?: "run" | "not-run";
  };
  /**
   * The server reset the data TLS handshake we start with the transfer command, then went silent
   * (pyftpdlib): the session ran again on a fresh connection with the handshake after the 1xx.
   */
  dataTlsRetry?: { command: string; error: NetError; status: "run" | "not-run" };
  /** Anonymous login tried on a side connection while the main login was not anonymous. */
  anonymousSide?: { status: "accepted" | "refused" | "error" | "not-run"; reply?: Reply; canWrite?: boolean; detail?: string };
  /** A data connection with a fresh (not resumed) TLS session: does the server demand session reuse? */
  tlsReuse?: {
    status: "required" | "not-required" | "not-run";
    reply?: Reply;
    detail?: string;
    /** Remembered from an earlier check of the same server in this process (ISO time it was asked); not asked again. */
    askedAt?: string;
  };
  /** The directory from the URL: what CWD to it answered. */
  path?: { requested: string; status: "ok" | "missing" | "denied" | "error"; reply?: Reply };
  /** The target policy refused a resolved address: nothing was connected to. */
  policyRefusal?: { name: string; address: string; rule: string };
}
