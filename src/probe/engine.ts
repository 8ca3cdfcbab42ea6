import dns from "node:dns";
import net from "node:net";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { parseList } from "basic-ftp";
import { adaptive, LIMITS } from "../config/defaults.js";
import type { Target } from "../target/parse.js";
import { addressMatches, isPrivateOrUnroutable, normalizeIp, parseEpsv, parsePasv, sameSubnet } from "./address.js";
import { ControlChannel } from "./control.js";
import { classifyError, connectTcp, ECDH_CURVES, netError, NetFailureError, sleep, tlsHandshake } from "./net.js";
import { Budget, Recorder } from "./record.js";
import { TapStream } from "./tap.js";
import type {
  CertFacts,
  CheckOptions,
  DataObservation,
  NetError,
  Observations,
  PassiveObservation,
  Reply,
  StepRecord,
  TlsObservation,
} from "./types.js";

export interface ProbeSecrets {
  /** The password for `options.user`; never stored in observations, logs or transcripts. */
  password?: string;
}

export interface ProbeHooks {
  /** Called as each step ends (live progress lines). */
  onStep?: (step: StepRecord) => void;
}

const ANON_PASSWORD = "ftp-doctor@example.invalid";
/** Verification contexts by extra CA text ("" for the system roots only): see Probe.verifyContext. */
const VERIFY_CONTEXTS = new Map<string, tls.SecureContext>();
/** Longest deliberate delay before a failed-login reply we know of (Pure-FTPd: 3-6 s), plus margin. */
const FAILED_LOGIN_DELAY_MS = 7_000;

function failureOf(err: unknown): NetError {
  if (err instanceof NetFailureError) return err.failure;
  return classifyError(err);
}

function describe(r: Reply | undefined): string {
  return r ? r.text.split("\n")[0]!.slice(0, 160) : "no reply";
}

/**
 * Probe one FTP/FTPS target and return what was seen. Never throws for anything the
 * network or the server does; every wait is bounded by the check budget.
 */
export async function probe(
  target: Target,
  options: CheckOptions,
  secrets: ProbeSecrets = {},
  hooks: ProbeHooks = {},
): Promise<Observations> {
  const p = new Probe(target, options, secrets, hooks);
  return p.run();
}

class Probe {
  private readonly rec: Recorder;
  private readonly budget: Budget;
  private readonly obs: Observations;
  private ctl: ControlChannel | undefined;
  private rtt = 0;
  private tlsSession: Buffer | undefined;
  private readonly extraCa: string | undefined;
  private readonly sideTasks: Promise<void>[] = [];
  private readonly openSockets = new Set<net.Socket>();

  constructor(
    private readonly target: Target,
    private readonly options: CheckOptions,
    private readonly secrets: ProbeSecrets,
    hooks: ProbeHooks,
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

  private get tlsMode() {
    return this.target.schemeTls && this.options.tls === "auto" ? this.target.schemeTls : this.options.tls;
  }

  async run(): Promise<Observations> {
    try {
      await this.main();
    } catch (err) {
      // A bug or an unexpected library error must not lose the observations gathered so far.
      this.obs.controlLost ??= { during: "probe", error: failureOf(err) };
    } finally {
      if (this.ctl) {
        const q = this.rec.begin("quit");
        const answer = await this.ctl.quit(Math.min(500, Math.max(100, this.rtt * 3)));
        q.end(answer ? "ok" : "skip", answer ? describe(answer) : "connection already closed");
      }
      // A cleared timer, not sleep(): a pending budget-long timer kept the process (CLI) alive after the verdict.
      let sideWait: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled(this.sideTasks),
        new Promise<void>((r) => (sideWait = setTimeout(r, Math.max(0, this.budget.remaining())))),
      ]);
      clearTimeout(sideWait);
      for (const s of this.openSockets) s.destroy();
      this.obs.durationMs = this.rec.now();
      this.rec.finish();
    }
    return this.obs;
  }

  private track<T extends net.Socket>(s: T): T {
    this.openSockets.add(s);
    s.once("close", () => this.openSockets.delete(s));
    return s;
  }

  private async main(): Promise<void> {
    const addresses = await this.resolve();
    if (addresses.length === 0) return;
    const primary = await this.connectAll(addresses);
    if (!primary) {
      await this.sideProbes(addresses[0]!.address);
      return;
    }
    const greeted = await this.greeting(primary);
    if (!greeted) return;
    if (!(await this.secure())) return;
    if (!(await this.login())) return;
    if (!(await this.sessionInfo())) return;
    const dataOk = await this.dataChannel();
    if (dataOk && this.options.write) await this.writeTest();
    if (this.options.active) await this.activeTest();
    if (this.options.idleSeconds) await this.idleTest(this.options.idleSeconds);
  }

  // ---------------------------------------------------------------- resolve
  private async resolve(): Promise<{ address: string; family: 4 | 6 }[]> {
    const step = this.rec.begin("resolve");
    const host = this.target.host;
    const fam = net.isIP(host);
    if (fam) {
      this.obs.dns = {
        status: "literal",
        resolver: "-",
        addresses: [{ address: host, family: fam as 4 | 6 }],
        aaaaQueried: false,
        durationMs: 0,
      };
      step.end("skip", `${host} is an IP address`);
      return this.obs.dns.addresses;
    }
    // Whole milliseconds: dns.Resolver throws ERR_OUT_OF_RANGE for a fractional timeout (budgets < 2.65 s).
    const timeout = Math.floor(this.budget.cap(LIMITS.dnsTimeoutMs));
    const started = this.rec.now();
    const dnsObs = (
      status: NonNullable<Observations["dns"]>["status"],
      addresses: { address: string; family: 4 | 6 }[],
      resolver: string,
      aaaaQueried: boolean,
      error?: NetError,
    ) => {
      this.obs.dns = { status, resolver, addresses, aaaaQueried, durationMs: this.rec.now() - started, ...(error ? { error } : {}) };
    };
    if (this.options.resolver) {
      const resolver = new dns.promises.Resolver({ timeout, tries: 1 });
      resolver.setServers([this.options.resolver]);
      // c-ares rounds its timeout up to whole seconds (1.2 s waits 2 s): our own deadline cancels.
      const deadline = setTimeout(() => resolver.cancel(), timeout);
      const [a, aaaa] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]).finally(() => clearTimeout(deadline));
      const addresses = [
        ...(a.status === "fulfilled" ? a.value.map((address) => ({ address, family: 4 as const })) : []),
        ...(aaaa.status === "fulfilled" ? aaaa.value.map((address) => ({ address, family: 6 as const })) : []),
      ];
      const errs = [a, aaaa]
        .filter((r): r is PromiseRejectedResult => r.status === "rejected")
        .map((r) => failureOf(r.reason))
        .map((e) =>
          e.code === "ECANCELLED"
            ? netError("timeout", "ETIMEOUT", `resolver ${this.options.resolver} did not answer within ${timeout} ms`)
            : e,
        );
      if (addresses.length > 0) {
        dnsObs("ok", addresses, this.options.resolver, true);
        step.end("ok", `${addresses.map((x) => x.address).join(", ")} via ${this.options.resolver}`);
        return addresses;
      }
      const codes = errs.map((e) => e.code);
      const status = codes.includes("ENOTFOUND")
        ? "nxdomain"
        : codes.every((c) => c === "ENODATA")
          ? "nodata"
          : codes.some((c) => c === "ETIMEOUT" || c === "ECONNREFUSED")
            ? "timeout"
            : "error";
      dnsObs(status, [], this.options.resolver, true, errs[0]);
      step.end(
        "fail",
        `${host}: ${status === "nxdomain" ? "no such name (NXDOMAIN)" : status === "nodata" ? "no A or AAAA record" : (errs[0]?.message ?? status)}`,
        errs[0] ? { error: errs[0] } : {},
      );
      return [];
    }
    try {
      const result = await Promise.race([
        dns.promises.lookup(host, { all: true, verbatim: true }),
        sleep(timeout).then(() => {
          throw new NetFailureError(netError("timeout", "ETIMEOUT", `system resolver did not answer within ${timeout} ms`));
        }),
      ]);
      const addresses = result.map((r) => ({ address: r.address, family: r.family as 4 | 6 }));
      dnsObs("ok", addresses, "system", false);
      step.end("ok", addresses.map((x) => x.address).join(", "));
      return addresses;
    } catch (err) {
      const e = failureOf(err);
      const status =
        e.code === "ENOTFOUND"
          ? "nxdomain"
          : e.code === "ENODATA"
            ? "nodata"
            : e.code === "ETIMEOUT" || e.code === "EAI_AGAIN"
              ? "timeout"
              : "error";
      dnsObs(status, [], "system", false, e);
      step.end("fail", `${host}: ${status === "nxdomain" ? "no such name (NXDOMAIN)" : e.message}`, { error: e });
      return [];
    }
  }

  // ---------------------------------------------------------------- connect
  private async connectAll(addresses: { address: string; family: 4 | 6 }[]): Promise<ControlChannel | undefined> {
    const step = this.rec.begin("connect");
    const timeout = this.budget.cap(LIMITS.connectTimeoutMs);
    const port = this.target.port;
    // Every address in parallel: DNS_PARTIAL is only visible when all of them are tried.
    const results = await Promise.all(
      addresses.map(async ({ address, family }) => {
        const started = performance.now();
        try {
          const { socket, ms } = await connectTcp(address, port, timeout);
          this.track(socket);
          return { address, family, socket, ms, error: undefined };
        } catch (err) {
          return { address, family, socket: undefined, ms: performance.now() - started, error: failureOf(err) };
        }
      }),
    );
    let primary: (typeof results)[number] | undefined;
    for (const r of results) {
      const status = r.socket
        ? "ok"
        : r.error!.kind === "refused" || r.error!.kind === "timeout" || r.error!.kind === "unreachable"
          ? r.error!.kind
          : "error";
      this.obs.connects.push({
        address: r.address,
        family: r.family,
        status,
        durationMs: Math.round(r.ms),
        ...(r.error ? { error: r.error } : {}),
      });
      this.rec.line(
        "*",
        "ctl",
        `connect ${r.address}:${port} → ${status}${r.socket ? ` in ${r.ms.toFixed(1)} ms` : ` (${r.error!.code})`}`,
      );
      if (r.socket && !primary) primary = r;
      else r.socket?.destroy();
    }
    if (!primary) {
      const e = results[0]!.error!;
      step.end("fail", `${addresses.length > 1 ? "no address" : addresses[0]!.address} accepted a connection on port ${port}: ${e.kind}`, {
        error: e,
      });
      return undefined;
    }
    this.rtt = primary.ms;
    this.obs.peer = { address: primary.address, family: primary.family, rttMs: Math.round(primary.ms * 100) / 100 };
    this.obs.controlConnections++;
    const failed = results.filter((r) => !r.socket);
    step.end(
      failed.length ? "warn" : "ok",
      `${primary.address}:${port} in ${primary.ms.toFixed(1)} ms${failed.length ? `; ${failed.length} of ${results.length} addresses failed` : ""}`,
    );
    return new ControlChannel(primary.socket!, this.rec, "ctl");
  }

  /** When the main port fails: is something else listening where people usually mean? */
  private async sideProbes(address: string): Promise<void> {
    const ports = [990, 21, 22].filter((p) => p !== this.target.port);
    if (this.budget.remaining() < 600) return;
    const step = this.rec.begin("side");
    const timeout = this.budget.cap(LIMITS.sideProbeMs);
    await Promise.all(
      ports.map(async (port) => {
        try {
          const { socket } = await connectTcp(address, port, timeout);
          this.track(socket);
          const banner = await firstBytes(socket, Math.min(timeout, 800));
          socket.destroy();
          this.obs.side.push({ port, status: "open", ...(banner ? { banner } : {}) });
        } catch (err) {
          const e = failureOf(err);
          this.obs.side.push({ port, status: e.kind === "timeout" ? "timeout" : "closed" });
        }
      }),
    );
    const open = this.obs.side.filter((s) => s.status === "open");
    step.end(
      "ok",
      open.length
        ? `open: ${open.map((s) => `${s.port}${s.banner ? ` (${s.banner.slice(0, 40)})` : ""}`).join(", ")}`
        : `ports ${ports.join(", ")} closed too`,
    );
  }

  // ---------------------------------------------------------------- greeting
  private async greeting(ctl: ControlChannel): Promise<boolean> {
    if (this.tlsMode === "implicit") {
      const ok = await this.handshake(ctl, "implicit");
      if (!ok) return false;
    }
    this.ctl = ctl;
    const step = this.rec.begin("greeting");
    const started = performance.now();
    const nudgeAt = this.budget.cap(adaptive(LIMITS.greetingNudgeMinMs, this.rtt, 10));
    const giveUpAt = this.greetingTimeout();
    const elapsed = () => Math.round(performance.now() - started);
    let first;
    try {
      first = await ctl.next(nudgeAt);
    } catch (err) {
      const e = failureOf(err);
      if (e.kind !== "timeout") return this.greetingFailed(step, e, elapsed());
      first = await this.silentGreeting(ctl, Math.max(1, giveUpAt - nudgeAt), elapsed);
      if (!first) {
        const part = ctl.unfinished;
        if (part && this.obs.greeting) this.obs.greeting.unfinished = part;
        step.end("fail", `no greeting within ${elapsed()} ms${part ? ` (${part.bytes} bytes of an unfinished line)` : ""}`, {
          error: netError("timeout", "TIMEOUT", part ? "greeting never completed" : "server sent nothing"),
        });
        return false;
      }
    }
    if (first.type === "garbage") {
      const raw = first.text;
      const status = /^SSH-/i.test(raw) ? "ssh" : /^HTTP\/\d/i.test(raw) || /<html|<!doctype/i.test(raw) ? "http" : "garbage";
      this.obs.greeting = { status, raw, durationMs: elapsed() };
      step.end("fail", `not an FTP greeting: ${raw.slice(0, 80)}`);
      return false;
    }
    let reply = first.reply;
    // 120: "service ready in nnn minutes" (RFC 959) — wait once more for the 220.
    if (reply.code === 120) {
      try {
        reply = await ctl.reply(this.greetingTimeout());
      } catch (err) {
        return this.greetingFailed(step, failureOf(err), elapsed(), reply);
      }
    }
    const late = elapsed() > nudgeAt;
    if (reply.code >= 200 && reply.code < 300) {
      this.obs.greeting = { ...this.obs.greeting, status: "ok", reply, durationMs: elapsed(), ...(late ? { late: true } : {}) };
      step.end(late ? "warn" : "ok", `${describe(reply)}${late ? ` (after ${elapsed()} ms)` : ""}`, { reply });
      return true;
    }
    this.obs.greeting = { ...this.obs.greeting, status: "reply", reply, durationMs: elapsed() };
    step.end("fail", describe(reply), { reply });
    return false;
  }

  private greetingFailed(step: ReturnType<Recorder["begin"]>, e: NetError, ms: number, reply?: Reply): false {
    const status = e.kind === "reset" ? "reset" : e.kind === "oversize" ? "oversize" : e.kind === "timeout" ? "timeout" : "closed";
    this.obs.greeting = { status, durationMs: ms, ...(reply ? { reply } : {}) };
    step.end("fail", `${status === "closed" ? "connection closed" : status} before a greeting (${ms} ms)`, { error: e });
    return false;
  }

  /**
   * Silence after connect. Two questions in parallel: is it an implicit-TLS port (a TLS
   * ClientHello on a second connection gets an answer)? Is it an HTTP server or anything
   * else that speaks only when spoken to (a line of text on this connection gets an answer)?
   */
  private async silentGreeting(ctl: ControlChannel, waitMs: number, elapsed: () => number) {
    this.obs.greeting = { status: "timeout", durationMs: 0 };
    const tlsProbe = this.canOpenConnection() ? this.implicitTlsProbe(waitMs) : Promise.resolve(undefined);
    // "FEAT" is harmless to a slow FTP server (it is answered after the 220) and makes an
    // HTTP server answer "400 Bad Request".
    let nudged = true;
    try {
      ctl.send("FEAT");
    } catch {
      nudged = false;
    }
    let first;
    let error: NetError | undefined;
    try {
      first = await ctl.next(waitMs);
    } catch (err) {
      error = failureOf(err);
    }
    const probeResult = await tlsProbe;
    if (probeResult) this.obs.greeting.tlsProbe = probeResult;
    if (first?.type === "reply" && first.reply.code < 400) {
      // A slow but working FTP server: the FEAT reply follows the greeting.
      if (nudged) this.pendingFeat = true;
      return first;
    }
    if (first?.type === "garbage") {
      this.obs.greeting.nudge = { sent: "FEAT", answer: first.text, kind: /^HTTP\//i.test(first.text) ? "http" : "other" };
      if (/^HTTP\//i.test(first.text)) {
        this.obs.greeting.status = "http";
        this.obs.greeting.raw = first.text;
      } else return first;
    } else if (first?.type === "reply" && first.reply.code === 421) {
      // A late refusal (busy, access denied) is still the server's greeting.
      return first;
    } else if (first?.type === "reply") {
      // An error reply to our FEAT without any greeting first: something that parses commands
      // but never greets (a hung daemon, a half-working proxy). Still a missing greeting.
      this.obs.greeting.nudge = { sent: "FEAT", answer: first.reply.text.split("\n")[0]!, kind: "ftp" };
    } else {
      this.obs.greeting.nudge = { sent: "FEAT", kind: "none", ...(error && error.kind !== "timeout" ? { answer: `${error.kind}` } : {}) };
      if (error && error.kind !== "timeout") this.obs.greeting.status = error.kind === "reset" ? "reset" : "closed";
    }
    this.obs.greeting.durationMs = elapsed();
    return undefined;
  }

  private pendingFeat = false;
  private pipelinedEpsv: Reply | undefined;

  private async implicitTlsProbe(waitMs: number): Promise<NonNullable<NonNullable<Observations["greeting"]>["tlsProbe"]>> {
    this.obs.controlConnections++;
    const address = this.obs.peer!.address;
    try {
      const { socket } = await connectTcp(address, this.target.port, this.budget.cap(waitMs));
      this.track(socket);
      const { socket: t } = await tlsHandshake({ socket, ...this.tlsNames(), ...this.legacyOpts() }, this.budget.cap(waitMs));
      this.track(t);
      const ch = new ControlChannel(t as unknown as net.Socket, this.rec, "side");
      this.rec.line("*", "side", `TLS handshake on a second connection succeeded (${t.getProtocol()})`);
      let greeting: Reply | undefined;
      try {
        greeting = await ch.reply(this.budget.cap(waitMs));
      } catch {
        // a TLS service that is not FTP still proves the port speaks TLS
      }
      void ch.quit(200);
      return { status: "ok", protocol: t.getProtocol() ?? "", ...(greeting ? { greeting } : {}) };
    } catch (err) {
      return { status: "failed", detail: failureOf(err).message };
    }
  }

  private canOpenConnection(): boolean {
    return this.obs.controlConnections < LIMITS.maxControlConnections;
  }

  // ---------------------------------------------------------------- TLS
  private tlsNames(): tls.ConnectionOptions {
    const host = this.target.host;
    return net.isIP(host) ? {} : { servername: host };
  }

  private legacyOpts(): tls.ConnectionOptions {
    // Only to *prove* a server is outdated: never used for a session we send secrets on.
    return { minVersion: "TLSv1", ciphers: "DEFAULT:@SECLEVEL=0" };
  }

  private async secure(): Promise<boolean> {
    const ctl = this.ctl!;
    const mode = this.tlsMode;
    if (mode === "implicit") return true;
    if (mode === "off") return true;
    const step = this.rec.begin("tls");
    // FEAT rides along with AUTH TLS: one round trip for both (servers answer in order).
    const featSent = this.sendFeat();
    let auth: Reply;
    try {
      ctl.send("AUTH TLS");
      if (featSent) await this.readFeat();
      auth = await ctl.reply(this.replyTimeout());
    } catch (err) {
      this.lost("AUTH TLS", err);
      step.end("fail", "connection lost at AUTH TLS", { error: failureOf(err) });
      return false;
    }
    if (auth.code !== 234) {
      this.obs.tls = { mode: "explicit", authReply: auth, status: "refused", chain: [], checkedName: this.target.host };
      if (mode === "auto") {
        this.obs.plainFallback = { reason: `AUTH TLS refused: ${describe(auth)}` };
        step.end("warn", `AUTH TLS refused (${auth.code}); continuing without TLS`, { reply: auth });
        return true;
      }
      step.end("fail", `AUTH TLS refused: ${describe(auth)}`, { reply: auth });
      return false;
    }
    this.obs.tls = { mode: "explicit", authReply: auth, status: "not-run", chain: [], checkedName: this.target.host };
    step.end("ok", "234 AUTH TLS accepted", { reply: auth });
    return this.handshake(ctl, "explicit");
  }

  /** TLS on the control connection (after 234, or at once for implicit FTPS). */
  private async handshake(ctl: ControlChannel, mode: "explicit" | "implicit"): Promise<boolean> {
    const step = this.rec.begin("tls");
    const raw = ctl.detach();
    const checkedName = this.target.host;
    const obs: TlsObservation = (this.obs.tls ??= { mode, status: "not-run", chain: [], checkedName });
    const timeout = this.tlsTimeout();
    try {
      const tap = new TapStream(raw as net.Socket);
      const { socket, ms } = await tlsHandshake(
        { socket: tap as unknown as net.Socket, ...this.tlsNames(), secureContext: this.verifyContext() },
        timeout,
      );
      this.track(socket);
      socket.on("session", (s: Buffer) => (this.tlsSession = s));
      // TLS 1.2 and older: the session (ID or ticket) arrives during the handshake, before we
      // could listen; without it data connections do not resume (ProFTPD: "425 Unable to build
      // data connection: Operation not permitted"). TLS 1.3 tickets come later, via "session".
      if (socket.getProtocol() !== "TLSv1.3") this.tlsSession ??= socket.getSession();
      ctl.attach(socket, () => tap.plaintextReply());
      Object.assign(obs, tlsFacts(socket, checkedName), { status: "ok", handshakeMs: Math.round(ms) });
      this.rec.line(
        "*",
        "ctl",
        `TLS ${obs.protocol} ${obs.cipher}; certificate ${obs.chain[0]?.subject ?? "?"}${obs.authorizationError ? ` (${obs.authorizationError})` : ""}${obs.hostnameError ? " (name mismatch)" : ""}`,
      );
      const problem = obs.authorizationError ?? (obs.hostnameError ? "hostname mismatch" : undefined);
      step.end(
        problem ? "warn" : "ok",
        `${obs.protocol} ${obs.cipher} in ${Math.round(ms)} ms${problem ? `; certificate: ${problem}` : ""}`,
      );
      if (!this.ctl) this.ctl = ctl;
      this.startSideChecks();
      return true;
    } catch (err) {
      const e = failureOf(err);
      obs.error = e;
      if (e.kind === "timeout") {
        obs.status = "stall";
        step.end("fail", `TLS handshake stalled: no progress within ${Math.round(timeout)} ms`, { error: e });
        this.ctl = undefined;
        await this.plainAfterBrokenTls();
      } else {
        obs.status = "failed";
        step.end("fail", `TLS handshake failed: ${e.message}`, { error: e });
        this.ctl = undefined;
        await this.legacyRetry(mode);
      }
      return false;
    }
  }

  /**
   * The system roots plus --ca, as one cached context: building it parses ~150 certificates
   * (about 20 ms of CPU), which per check was half the CPU of an FTPS check and a burst of
   * native memory under concurrency. A client context is safe to share between connections.
   */
  private verifyContext(): tls.SecureContext {
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

  /** After a failed modern handshake: would a legacy-allowing one work? Proves TLS_PROTOCOL_OUTDATED. */
  private async legacyRetry(mode: "explicit" | "implicit"): Promise<void> {
    const obs = this.obs.tls!;
    if (!this.canOpenConnection() || this.budget.remaining() < 500) {
      obs.legacyRetry = { status: "not-run" };
      return;
    }
    const step = this.rec.begin("side");
    this.obs.controlConnections++;
    try {
      const socket = await this.openForTls(mode, "side");
      const { socket: t } = await tlsHandshake({ socket, ...this.tlsNames(), ...this.legacyOpts() }, this.tlsTimeout());
      this.track(t);
      obs.legacyRetry = { status: "ok", protocol: t.getProtocol() ?? "", cipher: t.getCipher()?.name ?? "" };
      step.end("ok", `legacy-allowing handshake works: ${obs.legacyRetry.protocol} ${obs.legacyRetry.cipher}`);
      const ch = new ControlChannel(t as unknown as net.Socket, this.rec, "side");
      if (mode === "implicit") await ch.reply(this.budget.cap(1000)).catch(() => undefined);
      await ch.quit(200);
    } catch (err) {
      const e = failureOf(err);
      obs.legacyRetry = { status: "failed", error: e };
      step.end("fail", `legacy-allowing handshake fails too: ${e.message}`, { error: e });
    }
  }

  /** A fresh connection up to the point where TLS starts (greeting + AUTH TLS for explicit). */
  private async openForTls(mode: "explicit" | "implicit", conn: string): Promise<net.Socket> {
    const { socket } = await connectTcp(this.obs.peer!.address, this.target.port, this.budget.cap(LIMITS.connectTimeoutMs));
    this.track(socket);
    if (mode === "implicit") return socket;
    const ch = new ControlChannel(socket, this.rec, conn);
    const g = await ch.reply(this.greetingTimeout());
    if (g.code !== 220) throw new NetFailureError(netError("error", "NO_GREETING", `greeting ${describe(g)}`));
    const a = await ch.command("AUTH TLS", this.replyTimeout());
    if (a.code !== 234) throw new NetFailureError(netError("error", "AUTH_REFUSED", `AUTH TLS ${describe(a)}`));
    return ch.detach() as net.Socket;
  }

  /** TLS stalled after 234: does plain FTP work on another connection? (MTU/MSS black hole vs dead server) */
  private async plainAfterBrokenTls(): Promise<void> {
    const obs = this.obs.tls!;
    if (!this.canOpenConnection() || this.budget.remaining() < 500 || this.tlsMode === "implicit") return;
    const step = this.rec.begin("side");
    this.obs.controlConnections++;
    try {
      const { socket } = await connectTcp(this.obs.peer!.address, this.target.port, this.budget.cap(LIMITS.connectTimeoutMs));
      this.track(socket);
      const ch = new ControlChannel(socket, this.rec, "side");
      const g = await ch.reply(this.greetingTimeout());
      const f = await ch.command("FEAT", this.replyTimeout());
      obs.plainCheck = { status: g.code === 220 ? "ok" : "failed", detail: `plain session: ${describe(g)}; FEAT ${f.code}` };
      step.end("ok", obs.plainCheck.detail);
      await ch.quit(200);
    } catch (err) {
      const e = failureOf(err);
      obs.plainCheck = { status: "failed", detail: e.message };
      step.end("fail", `plain session fails too: ${e.message}`, { error: e });
    }
  }

  /** Off the critical path: does the server still accept TLS 1.0/1.1? Is anonymous login open? */
  private startSideChecks(): void {
    const tlsObs = this.obs.tls;
    if (tlsObs?.status !== "ok") return;
    const modern = tlsObs.protocol === "TLSv1.2" || tlsObs.protocol === "TLSv1.3";
    if (modern && this.canOpenConnection()) {
      this.obs.controlConnections++;
      const mode = tlsObs.mode;
      this.sideTasks.push(
        (async () => {
          try {
            const socket = await this.openForTls(mode, "side");
            const { socket: t } = await tlsHandshake(
              { socket, ...this.tlsNames(), minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT:@SECLEVEL=0" },
              this.tlsTimeout(),
            );
            this.track(t);
            tlsObs.legacyAccepted = true;
            this.rec.line("*", "side", `server accepts ${t.getProtocol()}`);
            const ch = new ControlChannel(t as unknown as net.Socket, this.rec, "side");
            if (mode === "implicit") await ch.reply(this.budget.cap(1000)).catch(() => undefined);
            await ch.quit(200);
          } catch (err) {
            const e = failureOf(err);
            if (e.kind === "tls-error" || e.kind === "closed" || e.kind === "reset") tlsObs.legacyAccepted = false;
            this.rec.line("*", "side", `TLS 1.0/1.1 handshake: ${e.kind === "tls-error" ? "refused" : e.kind}`);
          }
        })(),
      );
    }
  }

  // ---------------------------------------------------------------- FEAT
  private sendFeat(): boolean {
    if (this.obs.feat || this.pendingFeat) {
      // A FEAT sent while nudging a silent server is already on its way.
      return this.pendingFeat;
    }
    this.ctl!.send("FEAT");
    this.pendingFeat = true;
    return true;
  }

  private async readFeat(): Promise<void> {
    if (!this.pendingFeat) return;
    this.pendingFeat = false;
    const reply = await this.ctl!.reply(this.replyTimeout());
    const features =
      reply.code === 211
        ? reply.text
            .split("\n")
            .slice(1, -1)
            .map((l) => l.trim().toUpperCase())
            .filter(Boolean)
        : [];
    this.obs.feat = { reply, features };
  }

  // ---------------------------------------------------------------- login
  private async login(): Promise<boolean> {
    const ctl = this.ctl!;
    const step = this.rec.begin("login");
    const explicitUser = this.options.anonymous ? undefined : (this.options.user ?? this.target.user);
    const anonymous = !explicitUser;
    const user = explicitUser ?? "anonymous";
    const encrypted = this.obs.tls?.status === "ok";
    const login = (this.obs.login = {
      user,
      anonymous,
      defaultAnonymous: anonymous && !this.options.anonymous,
      encrypted,
      status: "not-run" as "ok" | "refused" | "error" | "not-run",
    });
    const password = anonymous ? ANON_PASSWORD : this.secrets.password;
    // Never send a real password in clear text after TLS was attempted and broke.
    if (!anonymous && !encrypted && this.obs.tls && this.obs.tls.status !== "refused") {
      step.end("skip", "not sending the password: TLS is not working on this session");
      return false;
    }
    const timeout = () => this.budget.cap(adaptive(LIMITS.loginTimeoutMinMs, this.rtt, 10));
    try {
      const featSent = this.sendFeat();
      ctl.send(`USER ${user}`);
      if (featSent) await this.readFeat();
      const u = await ctl.reply(timeout());
      Object.assign(login, { userReply: u });
      if (u.code === 331 || u.code === 332) {
        if (password === undefined) {
          Object.assign(login, { status: "error", missingPassword: true });
          step.end("fail", `server asks for a password for ${user} and none was given`, { reply: u });
          return false;
        }
        // Servers delay a refused password on purpose (Pure-FTPd sleeps 3-6 s before "530 Login
        // authentication failed"): wait for that within the budget instead of timing out.
        const pw = await ctl.command(`PASS ${password}`, Math.max(timeout(), this.budget.cap(FAILED_LOGIN_DELAY_MS)), "PASS ****");
        Object.assign(login, { passReply: pw });
        if (pw.code >= 200 && pw.code < 300) {
          login.status = "ok";
          step.end("ok", `${user}: ${describe(pw)}`, { reply: pw });
          return true;
        }
        login.status = "refused";
        step.end(login.defaultAnonymous && !/OOPS/.test(pw.text) ? "skip" : "fail", `${user}: ${describe(pw)}`, { reply: pw });
        return false;
      }
      if (u.code >= 200 && u.code < 300) {
        login.status = "ok";
        step.end("ok", `${user}: ${describe(u)} (no password needed)`, { reply: u });
        return true;
      }
      login.status = "refused";
      step.end(login.defaultAnonymous && u.code === 530 ? "skip" : "fail", `${user}: ${describe(u)}`, { reply: u });
      return false;
    } catch (err) {
      const e = failureOf(err);
      login.status = "error";
      Object.assign(login, { error: e });
      this.lost("login", err);
      step.end("fail", `login: ${e.message}`, { error: e });
      return false;
    }
  }

  private lost(during: string, err: unknown): void {
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

  // ---------------------------------------------------------------- session
  private async sessionInfo(): Promise<boolean> {
    const ctl = this.ctl!;
    const step = this.rec.begin("session");
    const prot = this.obs.tls?.status === "ok";
    const data: DataObservation = (this.obs.data = { protected: false, passive: [], status: "not-run" });
    // One round trip for all of these: servers answer pipelined commands in order.
    // PASV rides along even though EPSV is what we use: its advertised address is what PASV
    // clients (FileZilla on IPv4, many libraries) will follow, and EPSV hides it (RFC 2428).
    const cmds = [...(prot ? ["PBSZ 0", "PROT P"] : []), "SYST", "PWD", "TYPE I", "PASV", "EPSV"];
    try {
      for (const c of cmds) ctl.send(c);
      const replies: Reply[] = [];
      for (let i = 0; i < cmds.length; i++) replies.push(await ctl.reply(this.replyTimeout()));
      let i = 0;
      if (prot) {
        data.pbszReply = replies[i++]!;
        data.protReply = replies[i++]!;
        data.protected = data.protReply.code >= 200 && data.protReply.code < 300;
      }
      this.obs.syst = replies[i++]!;
      this.obs.pwd = replies[i++]!;
      i++; // TYPE I
      const pasv = replies[i++]!;
      this.pipelinedEpsv = replies[i++]!;
      if (pasv.code === 227) {
        const parsed = parsePasv(pasv.text);
        if (parsed) this.analysePasv(parsed.host, pasv);
        // Even when EPSV works: every PASV client (FileZilla on IPv4, many libraries) fails on it.
        else this.obs.protocolViolation ??= { during: "PASV", detail: `unparseable PASV reply: ${describe(pasv)}` };
      }
      const oops = replies.find((r) => /^500 OOPS/.test(r.text));
      // vsftpd ends the session after an OOPS: that, not the missing data channel, is the finding.
      if (oops)
        this.obs.controlLost ??= {
          during: "session setup",
          error: netError("closed", "OOPS", "the server ended the session with 500 OOPS"),
          lastReply: oops,
        };
      step.end(
        oops ? "fail" : "ok",
        `SYST ${describe(this.obs.syst)}; PWD ${describe(this.obs.pwd)}${prot ? `; PROT P ${data.protReply!.code}` : ""}`,
      );
      return !oops;
    } catch (err) {
      this.lost("session setup", err);
      step.end("fail", `session setup: ${failureOf(err).message}`, { error: failureOf(err) });
      return false;
    }
  }

  // ---------------------------------------------------------------- data channel
  /**
   * Step deadlines: a floor, scaled by the measured control round-trip time, never past the
   * check budget. Each is computed when the wait starts (the budget shrinks as the check runs).
   */
  private replyTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.replyTimeoutMinMs, this.rtt, 10));
  }

  private tlsTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.tlsTimeoutMinMs, this.rtt, 8));
  }

  private greetingTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.greetingTimeoutMinMs, this.rtt, 20));
  }

  private dataTimeout(): number {
    return this.budget.cap(adaptive(LIMITS.dataConnectMinMs, this.rtt, 6));
  }

  /** Compare a PASV address with the control peer before anything connects to it (FAULTS.md). */
  private analysePasv(advertised: string, reply: Reply): NonNullable<DataObservation["pasvAddress"]> {
    const peer = normalizeIp(this.ctl?.remoteAddress || this.obs.peer!.address);
    const same = advertised === peer;
    const permitted = same || sameSubnet(advertised, peer) || addressMatches(advertised, this.options.allowDataHosts);
    const pa = {
      advertised,
      controlPeer: peer,
      same,
      advertisedPrivate: isPrivateOrUnroutable(advertised),
      peerPrivate: isPrivateOrUnroutable(peer),
      permitted,
    };
    this.obs.data!.pasvAddress = pa;
    if (!same)
      this.rec.line(
        "*",
        "data",
        `${describe(reply)}: advertises ${advertised}, control peer is ${peer}${permitted ? " (a permitted target)" : " (not a permitted target: never connected to)"}`,
      );
    return pa;
  }

  /** EPSV or PASV; never connect to an advertised address that is not a permitted target. */
  private async openPassive(kind: "EPSV" | "PASV", prefetched?: Reply): Promise<{ socket?: net.Socket; obs: PassiveObservation }> {
    const ctl = this.ctl!;
    const data = this.obs.data!;
    const peer = normalizeIp(ctl.remoteAddress || this.obs.peer!.address);
    const obs: PassiveObservation = { command: kind };
    data.passive.push(obs);
    const reply = prefetched ?? (await ctl.command(kind, this.replyTimeout()));
    obs.reply = reply;
    if (kind === "EPSV") {
      if (reply.code !== 229) return { obs };
      const port = parseEpsv(reply.text);
      if (!port) {
        this.obs.protocolViolation ??= { during: "EPSV", detail: `unparseable EPSV reply: ${describe(reply)}` };
        return { obs };
      }
      Object.assign(obs, { port, advertisedHost: peer, connectedHost: peer });
    } else {
      if (reply.code !== 227) return { obs };
      const parsed = parsePasv(reply.text);
      if (!parsed) {
        this.obs.protocolViolation ??= { during: "PASV", detail: `unparseable PASV reply: ${describe(reply)}` };
        return { obs };
      }
      const pa = this.analysePasv(parsed.host, reply);
      // FTP bounce / SSRF: a third address is connected to only when it is a permitted target.
      Object.assign(obs, { port: parsed.port, advertisedHost: parsed.host, connectedHost: pa.permitted ? parsed.host : peer });
    }
    const started = performance.now();
    try {
      const { socket, ms } = await connectTcp(obs.connectedHost!, obs.port!, this.dataTimeout());
      this.track(socket);
      obs.connect = { status: "ok", durationMs: Math.round(ms) };
      this.rec.line("*", "data", `data connection to ${obs.connectedHost}:${obs.port} in ${ms.toFixed(1)} ms`);
      return { socket, obs };
    } catch (err) {
      const e = failureOf(err);
      const status = e.kind === "refused" || e.kind === "timeout" || e.kind === "unreachable" ? e.kind : "error";
      obs.connect = { status, durationMs: Math.round(performance.now() - started), error: e };
      this.rec.line("*", "data", `data connection to ${obs.connectedHost}:${obs.port} ${status}`);
      return { obs };
    }
  }

  private async passive(prefetchedEpsv?: Reply): Promise<net.Socket | undefined> {
    const epsv = await this.openPassive("EPSV", prefetchedEpsv);
    if (epsv.socket) return epsv.socket;
    // EPSV refused, or its port unreachable: PASV tells EPSV_BROKEN from PASV_PORTS_BLOCKED.
    const pasv = await this.openPassive("PASV");
    return pasv.socket;
  }

  private async dataChannel(): Promise<boolean> {
    const step = this.rec.begin("data");
    const data = this.obs.data!;
    try {
      const epsv = this.pipelinedEpsv;
      this.pipelinedEpsv = undefined;
      const socket = await this.passive(epsv);
      if (!socket) {
        data.status = "failed";
        const last = data.passive[data.passive.length - 1];
        step.end(
          "fail",
          `no data connection: ${data.passive.map((p) => `${p.command} ${p.reply?.code ?? "-"}${p.connect ? ` connect ${p.connect.status}` : ""}`).join(", ")}`,
          last?.reply ? { reply: last.reply } : {},
        );
        return false;
      }
      const result = await this.transfer(socket, "LIST", "read");
      data.listCommand = "LIST";
      if (result.first) data.listReply = result.first;
      if (result.final) data.listFinalReply = result.final;
      if (result.tls) data.dataTls = result.tls;
      if (result.bytes !== undefined) data.listBytes = result.bytes;
      if (result.body !== undefined) data.listEntries = countEntries(result.body);
      if (result.error) data.error = result.error;
      const ok = !!result.final && result.final.code >= 200 && result.final.code < 300 && !result.error;
      data.status = ok ? "ok" : "failed";
      await this.verifyPasvAddress();
      step.end(
        ok ? "ok" : "fail",
        ok
          ? `LIST: ${data.listEntries ?? 0} entries, ${result.bytes} bytes${data.dataTls?.status === "ok" ? `, TLS${data.dataTls.reused ? " (session reused)" : ""}` : ""}`
          : `LIST: ${describe(result.final ?? result.first)}${result.error ? ` (${result.error.message})` : ""}`,
        (result.final ?? result.first) ? { reply: (result.final ?? result.first)! } : {},
      );
      return ok;
    } catch (err) {
      data.status = "failed";
      this.lost("data channel", err);
      step.end("fail", `data channel: ${failureOf(err).message}`, { error: failureOf(err) });
      return false;
    }
  }

  /**
   * The data went over EPSV, but PASV advertised a different address that we may connect to:
   * does anything answer there? (PASV clients will go there.)
   */
  private async verifyPasvAddress(): Promise<void> {
    const pa = this.obs.data?.pasvAddress;
    if (!pa || pa.same || !pa.permitted || !this.ctl || this.budget.remaining() < 1000) return;
    if (this.obs.data!.passive.some((p) => p.command === "PASV" && p.connect)) return;
    const { socket } = await this.openPassive("PASV");
    socket?.destroy();
  }

  /**
   * Run one transfer command on an open data socket. Under PROT P the TLS handshake on the
   * data connection starts together with the command (the server's accept will find our
   * ClientHello waiting), reusing the control session: vsftpd's require_ssl_reuse and
   * FileZilla Server refuse data connections that do not resume it.
   */
  private async transfer(
    socket: net.Socket,
    command: string,
    direction: "read" | "write",
    payload?: Buffer,
  ): Promise<{ first?: Reply; final?: Reply; bytes?: number; body?: Buffer; tls?: DataObservation["dataTls"]; error?: NetError }> {
    const ctl = this.ctl!;
    const prot = this.obs.data?.protected ?? false;
    let stream: net.Socket = socket;
    let tlsInfo: DataObservation["dataTls"] | undefined;
    const handshake = prot
      ? tlsHandshake({ socket, ...this.tlsNames(), ...(this.tlsSession ? { session: this.tlsSession } : {}) }, this.tlsTimeout()).then(
          ({ socket: t }) => {
            this.track(t);
            tlsInfo = { status: "ok", reused: t.isSessionReused(), protocol: t.getProtocol() ?? "" };
            return t as net.Socket;
          },
          (err) => {
            tlsInfo = { status: "failed", error: failureOf(err) };
            return undefined;
          },
        )
      : Promise.resolve(socket);
    // Collect bytes as soon as they flow; a bounded buffer.
    const reader =
      direction === "read" ? handshake.then((s) => (s ? readAll(s, LIMITS.maxListingBytes, this.replyTimeout()) : undefined)) : undefined;
    ctl.send(command);
    let first: Reply;
    try {
      first = await ctl.reply(this.replyTimeout());
    } catch (err) {
      socket.destroy();
      throw err;
    }
    if (first.code !== 150 && first.code !== 125) {
      socket.destroy();
      await handshake.catch(() => undefined);
      return { first, ...(tlsInfo ? { tls: tlsInfo } : {}) };
    }
    const s = await handshake;
    let bytes = 0;
    let body: Buffer | undefined;
    let error: NetError | undefined;
    if (!s) {
      socket.destroy();
      error = tlsInfo?.error;
    } else if (direction === "read") {
      const r = await reader!;
      if (r) {
        body = r.body;
        bytes = r.bytes;
        if (r.error) error = r.error;
      }
    } else {
      stream = s;
      try {
        await writeAll(stream, payload!, this.replyTimeout());
        bytes = payload!.length;
      } catch (err) {
        error = failureOf(err);
      }
    }
    let final: Reply | undefined;
    try {
      final = await ctl.reply(this.replyTimeout());
    } catch (err) {
      this.lost(`${command} completion`, err);
      error ??= failureOf(err);
    }
    return {
      first,
      ...(final ? { final } : {}),
      bytes,
      ...(body ? { body } : {}),
      ...(tlsInfo ? { tls: tlsInfo } : {}),
      ...(error ? { error } : {}),
    };
  }

  // ---------------------------------------------------------------- opt-in: write, idle, active
  private async writeTest(): Promise<void> {
    const step = this.rec.begin("write");
    const fileName = `.ftp-doctor-${randomBytes(6).toString("hex")}.tmp`;
    const payload = randomBytes(LIMITS.writeTestBytes);
    const w: NonNullable<Observations["write"]> = (this.obs.write = { status: "not-run", fileName, bytes: payload.length });
    try {
      const up = await this.passive();
      if (!up) {
        w.status = "failed";
        step.end("fail", "no data connection for the upload");
        return;
      }
      const t0 = performance.now();
      const stor = await this.transfer(up, `STOR ${fileName}`, "write", payload);
      w.uploadMs = Math.round(performance.now() - t0);
      if (stor.first) w.storReply = stor.first;
      if (stor.final) w.storFinalReply = stor.final;
      if (stor.error) w.error = stor.error;
      const stored = !!stor.final && stor.final.code >= 200 && stor.final.code < 300;
      if (!stored) {
        w.status = "failed";
        step.end(
          "fail",
          `STOR: ${describe(stor.final ?? stor.first)}`,
          (stor.final ?? stor.first) ? { reply: (stor.final ?? stor.first)! } : {},
        );
        if (stor.first && stor.first.code < 400) await this.cleanupFile(fileName, w);
        return;
      }
      const down = await this.passive();
      if (down) {
        const t1 = performance.now();
        const retr = await this.transfer(down, `RETR ${fileName}`, "read");
        w.downloadMs = Math.round(performance.now() - t1);
        if (retr.final) w.retrFinalReply = retr.final;
        w.verified = !!retr.body && retr.body.equals(payload);
      }
      await this.cleanupFile(fileName, w);
      w.status = w.verified ? "ok" : "failed";
      const kbps = (payload.length / 1024 / Math.max(1, w.uploadMs)) * 1000;
      step.end(
        w.verified ? "ok" : "fail",
        `${payload.length} bytes up in ${w.uploadMs} ms (${kbps.toFixed(0)} KiB/s)${w.verified ? ", read back identical" : ", read-back differs"}, ${w.deleReply ? `DELE ${w.deleReply.code}` : "not deleted"}`,
      );
    } catch (err) {
      w.status = "failed";
      w.error = failureOf(err);
      this.lost("write test", err);
      step.end("fail", `write test: ${w.error.message}`, { error: w.error });
    }
  }

  private async cleanupFile(name: string, w: NonNullable<Observations["write"]>): Promise<void> {
    try {
      w.deleReply = await this.ctl!.command(`DELE ${name}`, this.replyTimeout());
    } catch {
      // reported as "not deleted"
    }
  }

  private async idleTest(seconds: number): Promise<void> {
    if (!this.ctl) return;
    const step = this.rec.begin("idle");
    const idle: NonNullable<Observations["idle"]> = (this.obs.idle = { seconds, status: "not-run" });
    const ctl = this.ctl;
    try {
      // Idle: whatever the server says meanwhile (421 Timeout) is read at the end.
      await sleep(Math.min(seconds * 1000, Math.max(0, this.budget.remaining() - 1500)));
      const r = ctl.closed ? undefined : await ctl.command("NOOP", this.replyTimeout());
      if (!r) throw new NetFailureError(ctl.closed!);
      idle.reply = r;
      idle.status = r.code >= 200 && r.code < 300 ? "ok" : "dropped";
      step.end(idle.status === "ok" ? "ok" : "fail", `after ${seconds} s idle: ${describe(r)}`, { reply: r });
    } catch (err) {
      const e = failureOf(err);
      // A 421 sent during the idle period arrives before the error.
      idle.status = "dropped";
      idle.error = e;
      step.end("fail", `after ${seconds} s idle: ${e.kind}`, { error: e });
      this.ctl?.destroy();
      this.ctl = undefined;
    }
  }

  private async activeTest(): Promise<void> {
    if (!this.ctl) return;
    const ctl = this.ctl;
    const step = this.rec.begin("active");
    const local = normalizeIp(ctl.localAddress);
    const v6 = net.isIPv6(local);
    const server = net.createServer();
    const act: NonNullable<Observations["active"]> = (this.obs.active = { command: v6 ? "EPRT" : "PORT", status: "not-run" });
    try {
      await new Promise<void>((res, rej) => {
        server.once("error", rej);
        server.listen(0, local, () => res());
      });
      const port = (server.address() as net.AddressInfo).port;
      const incoming = new Promise<net.Socket>((res) => server.once("connection", (s) => res(this.track(s))));
      const cmd = v6 ? `EPRT |2|${local}|${port}|` : `PORT ${local.split(".").join(",")},${port >> 8},${port & 255}`;
      const r = await ctl.command(cmd, this.replyTimeout());
      act.reply = r;
      if (r.code !== 200) {
        act.status = "refused";
        step.end("fail", `${act.command}: ${describe(r)}`, { reply: r });
        return;
      }
      ctl.send("LIST");
      const first = await ctl.reply(this.replyTimeout());
      act.listReply = first;
      if (first.code !== 150 && first.code !== 125) {
        act.status = "failed";
        step.end("fail", `LIST in active mode: ${describe(first)}`, { reply: first });
        return;
      }
      const sock = await Promise.race([incoming, sleep(this.dataTimeout()).then(() => undefined)]);
      if (sock) {
        let stream: net.Socket = sock;
        if (this.obs.data?.protected) {
          const { socket: t } = await tlsHandshake(
            { socket: sock, ...this.tlsNames(), ...(this.tlsSession ? { session: this.tlsSession } : {}) },
            this.tlsTimeout(),
          );
          stream = this.track(t);
        }
        await readAll(stream, LIMITS.maxListingBytes, this.dataTimeout());
      }
      const fin = await ctl.reply(this.replyTimeout());
      act.listReply = fin;
      act.status = sock && fin.code >= 200 && fin.code < 300 ? "ok" : "failed";
      step.end(act.status === "ok" ? "ok" : "fail", `active mode LIST: ${describe(fin)}`, { reply: fin });
    } catch (err) {
      act.status = "failed";
      act.error = failureOf(err);
      this.lost("active mode", err);
      step.end("fail", `active mode: ${act.error.message}`, { error: act.error });
    } finally {
      server.close();
    }
  }
}

// ---------------------------------------------------------------- helpers

function tlsFacts(socket: tls.TLSSocket, checkedName: string): Partial<TlsObservation> {
  const chain: CertFacts[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert?.fingerprint256 && !seen.has(cert.fingerprint256) && chain.length < 10) {
    seen.add(cert.fingerprint256);
    chain.push({
      subject: nameOf(cert.subject),
      issuer: nameOf(cert.issuer),
      sans: (cert.subjectaltname ?? "").split(/,\s*/).filter(Boolean),
      validFrom: new Date(cert.valid_from).toISOString(),
      validTo: new Date(cert.valid_to).toISOString(),
      fingerprint256: cert.fingerprint256,
      selfIssued: nameOf(cert.subject) === nameOf(cert.issuer),
    });
    cert = cert.issuerCertificate;
  }
  const leaf = socket.getPeerCertificate();
  let hostnameError: string | undefined;
  if (leaf?.subject) {
    const err = tls.checkServerIdentity(checkedName, leaf);
    if (err) hostnameError = err.message;
  }
  // Node reports a name mismatch as the authorization error when a servername was given;
  // we keep the chain verdict and the name verdict apart.
  let authErr: string | Error | undefined = socket.authorizationError;
  const authCode = typeof authErr === "string" ? authErr : (authErr as NodeJS.ErrnoException | undefined)?.code;
  if (authCode === "ERR_TLS_CERT_ALTNAME_INVALID") {
    hostnameError ??= typeof authErr === "string" ? "certificate does not match the host name" : authErr!.message;
    authErr = undefined;
  }
  return {
    protocol: socket.getProtocol() ?? "",
    cipher: socket.getCipher()?.name ?? "",
    chain,
    ...(authErr
      ? { authorizationError: typeof authErr === "string" ? authErr : ((authErr as NodeJS.ErrnoException).code ?? authErr.message) }
      : {}),
    ...(hostnameError ? { hostnameError } : {}),
  };
}

function nameOf(n: tls.Certificate | undefined): string {
  if (!n) return "";
  const parts: string[] = [];
  for (const k of ["CN", "O", "OU"] as const) {
    const v = n[k];
    if (v) parts.push(`${k}=${Array.isArray(v) ? v.join("+") : v}`);
  }
  return parts.join(", ");
}

function readAll(socket: net.Socket, maxBytes: number, timeoutMs: number): Promise<{ body: Buffer; bytes: number; error?: NetError }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const finish = (error?: NetError) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.removeAllListeners("data");
      resolve({ body: Buffer.concat(chunks), bytes, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => {
      socket.destroy();
      finish(netError("timeout", "TIMEOUT", `data transfer did not finish within ${Math.round(timeoutMs)} ms`));
    }, timeoutMs);
    socket.on("data", (c: Buffer) => {
      bytes += c.length;
      if (bytes > maxBytes) {
        socket.destroy();
        finish(netError("oversize", "OVERSIZE", `data exceeded ${maxBytes} bytes; cut`));
        return;
      }
      chunks.push(c);
    });
    socket.once("end", () => finish());
    socket.once("close", () => finish());
    socket.once("error", (e) => finish(classifyError(e)));
  });
}

function writeAll(socket: net.Socket, payload: Buffer, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new NetFailureError(netError("timeout", "TIMEOUT", `upload did not finish within ${Math.round(timeoutMs)} ms`)));
    }, timeoutMs);
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(new NetFailureError(classifyError(e)));
    });
    socket.end(payload, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function firstBytes(socket: net.Socket, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    socket.once("data", (c: Buffer) => {
      clearTimeout(timer);
      resolve(
        c
          .subarray(0, 120)
          .toString("utf8")
          .split(/\r?\n/)[0]!
          .replace(/[^\x20-\x7e]/g, "?"),
      );
    });
    socket.once("error", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

function countEntries(body: Buffer): number {
  const text = body.toString("utf8");
  try {
    return parseList(text).length;
  } catch {
    return text.split(/\r?\n/).filter((l) => l.trim() && !/^total \d+/.test(l)).length;
  }
}
