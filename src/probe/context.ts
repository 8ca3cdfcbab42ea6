import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { adaptive, LIMITS } from "../config/defaults.js";
import type { Target } from "../target/parse.js";
import type { ControlChannel } from "./control.js";
import { classifyError, ECDH_CURVES, NetFailureError, PipeliningFailure } from "./net.js";
import { Budget, Recorder } from "./record.js";
import type { CheckOptions, NetError, Observations, ProbePolicy, Reply, StepRecord } from "./types.js";

export interface ProbeSecrets {
  /** The password for `options.user`; never stored in observations, logs or transcripts. */
  password?: string;
}

export interface ProbeHooks {
  /** Called as each step ends (live progress lines). */
  onStep?: (step: StepRecord) => void;
}

/** Verification contexts by extra CA text ("" for the system roots only): see ProbeContext.verifyContext. */
const VERIFY_CONTEXTS = new Map<string, tls.SecureContext>();

export function failureOf(err: unknown): NetError {
  if (err instanceof NetFailureError) return err.failure;
  return classifyError(err);
}

/** A reply's first line, bounded, for step details. */
export function describe(r: Reply | undefined): string {
  return r ? r.text.split("\n")[0]!.slice(0, 160) : "no reply";
}

/**
 * What one check shares between its steps (like basic-ftp's FtpContext): the control channel,
 * the budget and step deadlines, the recorder, the measured round-trip time, the TLS session
 * data connections resume, the sockets to close at the end, and the observations being built.
 * It sends no FTP commands itself; the step modules in ./steps do.
 */
export class ProbeContext {
  readonly rec: Recorder;
  readonly budget: Budget;
  readonly obs: Observations;
  /** The main control connection; undefined once it is lost. */
  ctl: ControlChannel | undefined;
  /** Control connect time, ms: every step deadline scales with it. */
  rtt = 0;
  /** The control connection's TLS session, resumed on data connections. */
  tlsSession: Buffer | undefined;
  /** A FEAT was sent and its reply not read yet (sent while nudging a silent server, or pipelined). */
  pendingFeat = false;
  /** A pipelined burst went unanswered: the check starts again on a fresh connection, in lock-step. */
  retryFresh = false;
  /** The missing reply of a pipelined burst, kept for the case where no lock-step retry can run. */
  unprovenTimeout: Observations["replyTimeout"];
  /** The side checks after the first TLS handshake run once per check, not again on a retry. */
  sideChecksStarted = false;
  /**
   * Start a data connection's TLS handshake only once the transfer command has its 1xx: pyftpdlib
   * resets a ClientHello that arrives before it took the command, and its control connection
   * then never answers again. Set for the fresh session that follows such a reset (engine.ts).
   */
  dataTlsAfterReply = false;
  /** The data TLS handshake was reset before the server took the transfer command, and no final reply came. */
  dataTlsReset: { command: string; error: NetError } | undefined;
  /** The EPSV reply read with the pipelined session setup, consumed by the data step. */
  pipelinedEpsv: Reply | undefined;
  /** Checks running off the critical path; the end of the check waits for them within the budget. */
  readonly sideTasks: Promise<void>[] = [];
  /**
   * Side checks the verdict should not wait for long once the main path is done (engine.ts
   * finish): each is given LIMITS.lateSideGraceMs more, then `abandon` records why it has no answer.
   */
  readonly lateTasks: {
    done: Promise<void>;
    abandon: () => void;
    /** When its answer is due (ctx.rec.now() time), if it is waiting for one; the grace ends no later. */
    answerDueAt?: () => number | undefined;
    /** A longer grace than lateGraceMs(), for a check with several round trips still to go. */
    graceMs?: number;
  }[] = [];
  /** The main login succeeded (side sessions log in only after it did, with the same credentials). */
  readonly loggedIn = new Milestone();
  /** The main listing's data connection is up (a side session's passive port never competes with it). */
  readonly dataConnected = new Milestone();
  private replaced = 0;
  private readonly extraCa: string | undefined;
  private readonly openSockets = new Set<net.Socket>();

  constructor(
    readonly target: Target,
    readonly options: CheckOptions,
    readonly secrets: ProbeSecrets,
    hooks: ProbeHooks,
    /** The target policy's hooks; without them the CLI's rules apply (same /24 for data hosts). */
    readonly policy: ProbePolicy = {},
  ) {
    this.rec = new Recorder(hooks.onStep);
    const idleMs = (options.idleSeconds ?? 0) * 1000;
    this.budget = new Budget(options.timeoutMs + idleMs);
    this.extraCa = options.caFile ? readFileSync(options.caFile, "utf8") : undefined;
    const { passwordEnv, ...rest } = options;
    this.obs = {
      target,
      options: { ...rest, ...(passwordEnv ? { passwordEnv } : {}) },
      startedAt: new Date().toISOString(),
      durationMs: 0,
      budgetMs: options.timeoutMs + idleMs,
      steps: this.rec.steps,
      transcript: this.rec.transcript,
      connects: [],
      side: [],
      controlConnections: 0,
    };
  }

  get tlsMode(): CheckOptions["tls"] {
    return this.target.schemeTls && this.options.tls === "auto" ? this.target.schemeTls : this.options.tls;
  }

  /** Register a socket so that the end of the check destroys it whatever happened. */
  track<T extends net.Socket>(s: T): T {
    this.openSockets.add(s);
    s.once("close", () => this.openSockets.delete(s));
    return s;
  }

  destroyAll(): void {
    for (const s of this.openSockets) s.destroy();
  }

  canOpenConnection(): boolean {
    return this.obs.controlConnections - this.replaced < LIMITS.maxControlConnections;
  }

  /** A retry's fresh session replaces the main one (closed): it does not count against the cap. */
  replaceMain(): void {
    this.replaced++;
  }

  /**
   * Step deadlines: a floor, scaled by the measured control round-trip time, never past the
   * check budget. Each is computed when the wait starts (the budget shrinks as the check runs).
   */
  replyTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.replyTimeoutMinMs, this.rtt, 10));
  }

  tlsTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.tlsTimeoutMinMs, this.rtt, 8));
  }

  /** How long a side check may still take once the main path is done: two round trips, at least LIMITS.lateSideGraceMs. */
  lateGraceMs(): number {
    return Math.max(LIMITS.lateSideGraceMs, this.rtt * 2);
  }

  greetingTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.greetingTimeoutMinMs, this.rtt, 20));
  }

  dataTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.dataConnectMinMs, this.rtt, 6));
  }

  tlsNames(): tls.ConnectionOptions {
    const host = this.target.host;
    return net.isIP(host) ? {} : { servername: host };
  }

  legacyOpts(): tls.ConnectionOptions {
    // Only to *prove* a server is outdated: never used for a session we send secrets on.
    return { minVersion: "TLSv1", ciphers: "DEFAULT:@SECLEVEL=0" };
  }

  /**
   * The system roots plus --ca, as one cached context: building it parses ~150 certificates
   * (about 20 ms of CPU), which per check was half the CPU of an FTPS check and a burst of
   * native memory under concurrency. A client context is safe to share between connections.
   */
  verifyContext(): tls.SecureContext {
    const key = this.extraCa ?? "";
    let ctx = VERIFY_CONTEXTS.get(key);
    if (!ctx) {
      ctx = tls.createSecureContext({
        ca: this.extraCa ? [...tls.rootCertificates, this.extraCa] : [...tls.rootCertificates],
        ecdhCurve: ECDH_CURVES,
      });
      if (VERIFY_CONTEXTS.size >= 16) VERIFY_CONTEXTS.delete(VERIFY_CONTEXTS.keys().next().value!);
      VERIFY_CONTEXTS.set(key, ctx);
    }
    return ctx;
  }

  /** Record how the main control connection was lost during `during`; drop it unless it merely timed out. */
  lost(during: string, err: unknown): void {
    if (err instanceof PipeliningFailure) {
      // Maybe our pipelining, not the server: recorded only if no lock-step retry can tell (engine.ts).
      const part = this.ctl?.unfinished;
      this.unprovenTimeout = { during, command: err.command, ...(part ? { unfinished: part } : {}) };
      // The connection is out of step: end it politely.
      void this.ctl?.quit(200);
      this.ctl = undefined;
      return;
    }
    const e = failureOf(err);
    if (e.kind === "timeout") {
      const part = this.ctl?.unfinished;
      this.obs.replyTimeout ??= { during, command: during, ...(part ? { unfinished: part } : {}) };
    } else if (e.kind === "malformed") {
      this.obs.protocolViolation ??= { during, detail: e.message };
    } else {
      // The last reply often explains the loss (vsftpd's "500 OOPS: …", even as plain text inside TLS).
      const last = this.ctl?.lastReply;
      this.obs.controlLost ??= { during, error: e, ...(last ? { lastReply: last } : {}) };
    }
    if (e.kind !== "timeout") {
      this.ctl?.destroy();
      this.ctl = undefined;
    }
  }
}

/** Something the main session reaches, or not: side sessions wait for it; the first outcome stays. */
export class Milestone {
  private outcome: boolean | undefined;
  private readonly waiters: ((ok: boolean) => void)[] = [];

  reached(): Promise<boolean> {
    if (this.outcome !== undefined) return Promise.resolve(this.outcome);
    return new Promise((r) => this.waiters.push(r));
  }

  settle(ok: boolean): void {
    if (this.outcome !== undefined) return;
    this.outcome = ok;
    for (const w of this.waiters.splice(0)) w(ok);
  }
}
