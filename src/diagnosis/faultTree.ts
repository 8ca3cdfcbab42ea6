import type { FindingCode, Layer, RootCauseCode, Severity } from "./codes.js";
import { LIMITS } from "../config/defaults.js";
import { formatHostPort } from "../target/parse.js";
import type { NetError, Observations, Reply } from "../probe/types.js";
import { remediationFor } from "./remediation.js";
import { identifyServer, VULNERABLE_VERSIONS, type ServerIdentity } from "./software.js";

export interface Verdict {
  code: RootCauseCode;
  layer: Layer;
  title: string;
  explanation: string;
  evidence: string[];
  remediation: string[];
}

export interface Finding {
  code: FindingCode;
  severity: Severity;
  message: string;
}

export interface Diagnosis {
  verdict: Verdict;
  /** Other faults seen on the way, less fundamental than the root cause. */
  secondary: { code: RootCauseCode; title: string }[];
  findings: Finding[];
  server: ServerIdentity & { banner?: string };
  /** What the check could not cover (e.g. no credentials: data channel untested). */
  scope: string[];
}

export const LAYER_OF: Record<RootCauseCode, Layer> = {
  HEALTHY: "none",
  DNS_NXDOMAIN: "dns",
  DNS_NO_ADDRESS: "dns",
  DNS_TIMEOUT: "dns",
  DNS_PARTIAL: "dns",
  TCP_REFUSED: "tcp",
  TCP_TIMEOUT: "tcp",
  TCP_UNREACHABLE: "tcp",
  BANNER_TIMEOUT: "greeting",
  IMPLICIT_TLS_PORT: "greeting",
  CONNECTION_CLOSED: "greeting",
  SERVER_BUSY: "greeting",
  NOT_FTP_SSH: "greeting",
  NOT_FTP_HTTP: "greeting",
  FTPS_UNSUPPORTED: "tls",
  FTPS_REQUIRED: "tls",
  TLS_PROTOCOL_OUTDATED: "tls",
  TLS_HANDSHAKE_STALL: "tls",
  TLS_HANDSHAKE_FAILED: "tls",
  TLS_CERT_EXPIRED: "tls",
  TLS_CERT_SELF_SIGNED: "tls",
  TLS_CERT_UNTRUSTED: "tls",
  TLS_HOSTNAME_MISMATCH: "tls",
  AUTH_FAILED: "auth",
  LOGIN_POLICY_DENIED: "auth",
  CHROOT_WRITABLE_ROOT: "server",
  HOME_DIR_MISSING: "server",
  SERVER_CONFIG_ERROR: "server",
  STORAGE_FULL: "server",
  PERMISSION_DENIED: "server",
  IDLE_TIMEOUT: "server",
  PASV_ADDRESS_PRIVATE: "data",
  PASV_ADDRESS_WRONG: "data",
  PASV_PORTS_BLOCKED: "data",
  PASV_DISABLED: "data",
  EPSV_BROKEN: "data",
  DATA_FOREIGN_IP: "data",
  TLS_SESSION_REUSE_REQUIRED: "data",
  DATA_TLS_REQUIRED: "data",
  ACTIVE_MODE_BLOCKED: "data",
  CONNECTION_RESET: "server",
  PROTOCOL_VIOLATION: "server",
  REPLY_TIMEOUT: "server",
};

interface Fault {
  code: RootCauseCode;
  title: string;
  explanation: string;
  evidence: string[];
}

const q = (r: Reply | undefined): string => (r ? `"${r.text.split("\n").slice(0, 3).join(" | ").slice(0, 240)}"` : "no reply");
const err = (e: NetError | undefined): string =>
  e ? `${e.code}${e.message && e.message !== e.code ? ` (${e.message})` : ""}` : "unknown error";

/** vsftpd's fatal errors arrive as "500 OOPS: <what>" and end the session. */
function oops(r: Reply | undefined): string | undefined {
  const m = r && /OOPS:\s*(.*)/.exec(r.text);
  return m ? m[1]!.trim() : undefined;
}

const BUSY = /too many|maximum number of|max(imum)?[ _-]?clients|connection limit|try again later|server is busy|no more connections/i;
const TLS_NEEDED = /encrypt|\bssl\b|\btls\b|cleartext|clear text|secure connection|policy requires/i;

/**
 * The fault tree: a pure function from observations to one root cause, the other faults
 * seen on the way, and findings. Layers are walked in the order a client meets them; the
 * first fault that would stop a client is the root cause (shared/FAULTS.md).
 */
export function diagnose(obs: Observations, now: Date = new Date()): Diagnosis {
  const faults: Fault[] = [];
  const findings: Finding[] = [];
  const scope: string[] = [];
  const add = (code: RootCauseCode, title: string, explanation: string, evidence: string[]) =>
    faults.push({ code, title, explanation, evidence });
  const finding = (code: FindingCode, severity: Severity, message: string) => {
    if (!findings.some((f) => f.code === code)) findings.push({ code, severity, message });
  };
  const where = formatHostPort(obs.target.host, obs.target.port);
  const server: Diagnosis["server"] = {
    ...identifyServer(obs.greeting?.reply?.text ?? obs.greeting?.tlsProbe?.greeting?.text, obs.syst?.text, [
      obs.login?.userReply?.text,
      obs.login?.passReply?.text,
    ]),
    ...(obs.greeting?.reply ? { banner: obs.greeting.reply.text.split("\n")[0]! } : {}),
  };
  const rtt = obs.peer ? `control round trip ${obs.peer.rttMs.toFixed(1)} ms` : undefined;

  // ---------------------------------------------------------------- DNS
  const dns = obs.dns;
  if (dns && dns.status !== "ok" && dns.status !== "literal") {
    const pasted = obs.target.notes.length ? [`input read as: ${obs.target.notes.join("; ")}`] : [];
    if (dns.status === "nxdomain")
      add(
        "DNS_NXDOMAIN",
        `${obs.target.host} does not exist in DNS`,
        `The resolver (${dns.resolver}) answered NXDOMAIN: no such name. Nothing past DNS was tried.`,
        [`NXDOMAIN for ${obs.target.host} from ${dns.resolver} in ${dns.durationMs} ms`, ...pasted],
      );
    else if (dns.status === "nodata")
      add("DNS_NO_ADDRESS", `${obs.target.host} has no address records`, "The name exists but has neither an A nor an AAAA record.", [
        `no A/AAAA for ${obs.target.host} from ${dns.resolver}`,
      ]);
    else
      add("DNS_TIMEOUT", `DNS lookup of ${obs.target.host} failed`, `The resolver (${dns.resolver}) did not give an answer.`, [
        `${err(dns.error)} after ${dns.durationMs} ms`,
      ]);
    return finish();
  }

  // ---------------------------------------------------------------- TCP
  const okConnects = obs.connects.filter((c) => c.status === "ok");
  const badConnects = obs.connects.filter((c) => c.status !== "ok");
  if (obs.connects.length > 0 && okConnects.length === 0) {
    const kinds = new Set(badConnects.map((c) => c.status));
    const ev = badConnects.map(
      (c) => `${formatHostPort(c.address, obs.target.port)}: ${c.status} after ${c.durationMs} ms (${c.error?.code ?? "-"})`,
    );
    const side = obs.side.filter((s) => s.status === "open").map((s) => `port ${s.port} is open${s.banner ? `: "${s.banner}"` : ""}`);
    const sideHint = obs.side.find((s) => s.status === "open" && /^SSH-/.test(s.banner ?? ""))
      ? " Port 22 answers SSH: if you meant SFTP, use an SFTP client."
      : "";
    if (kinds.has("timeout") && !kinds.has("refused"))
      add(
        "TCP_TIMEOUT",
        `No answer from ${where}: connection attempts time out`,
        `TCP SYNs to port ${obs.target.port} got no reply within our ${badConnects[0]!.durationMs} ms deadline: something drops the packets (firewall, security group) or the host is down.${sideHint}`,
        [...ev, ...side],
      );
    else if (kinds.has("unreachable"))
      add(
        "TCP_UNREACHABLE",
        `${where} is unreachable from here`,
        "The network answered that there is no route to the host (ICMP unreachable).",
        [...ev, ...side],
      );
    else
      add(
        "TCP_REFUSED",
        `Connection refused on ${where}`,
        `The host answered at once with a reset: it is up, but nothing accepts connections on port ${obs.target.port}.${sideHint}`,
        [...ev, ...side],
      );
    return finish();
  }

  // ---------------------------------------------------------------- greeting
  const g = obs.greeting;
  if (g && g.status !== "ok") {
    const ev = [`${rtt ?? "connected"}`, `greeting wait ${g.durationMs} ms`];
    // Silence to plain FTP (the port may even close on our nudge), but TLS works: implicit FTPS.
    // The TLS probe only runs after silence, so any later reply was provoked by our nudge.
    const status = g.tlsProbe?.status === "ok" && g.status !== "ssh" ? "timeout" : g.status;
    switch (status) {
      case "ssh":
        add("NOT_FTP_SSH", `${where} speaks SSH, not FTP`, "The port answered with an SSH banner: this is an SFTP/SSH service.", [
          `banner: "${g.raw}"`,
        ]);
        break;
      case "http":
        add(
          "NOT_FTP_HTTP",
          `${where} speaks HTTP, not FTP`,
          "The port answered like a web server: the name may point at a web host, CDN or proxy instead of the FTP server.",
          [`answer: "${g.raw ?? g.nudge?.answer}"`, ...ev],
        );
        break;
      case "garbage":
        add("NOT_FTP_HTTP", `${where} does not speak FTP`, "The port answered with text that is not an FTP greeting.", [
          `first line: "${g.raw}"`,
        ]);
        break;
      case "oversize":
        add(
          "PROTOCOL_VIOLATION",
          `${where} sent an oversized greeting`,
          "The server sent more greeting text than any FTP server should; the connection was cut to protect the check.",
          [`cut after the limit of ${LIMITS.maxReplyBytes} bytes / ${LIMITS.maxLineBytes}-byte lines`],
        );
        break;
      case "timeout":
        if (g.tlsProbe?.status === "ok")
          add(
            "IMPLICIT_TLS_PORT",
            `${where} expects implicit FTPS (TLS first)`,
            "The port stays silent to plain FTP, but a TLS handshake on it succeeds: it is an implicit-FTPS port.",
            [
              ...ev,
              `TLS handshake on a second connection: ${g.tlsProbe.protocol}`,
              ...(g.tlsProbe.greeting ? [`greeting inside TLS: ${q(g.tlsProbe.greeting)}`] : []),
            ],
          );
        else
          add(
            "BANNER_TIMEOUT",
            `${where} accepts connections but never greets`,
            "TCP connects, but no 220 greeting arrived. Typical causes: the daemon does reverse DNS or ident lookups that time out, it is hung, or a proxy has no backend.",
            [
              ...ev,
              `TLS ClientHello on a second connection: ${g.tlsProbe?.status === "failed" ? `no handshake (${g.tlsProbe.detail})` : "not tried"}`,
              `text sent (FEAT): ${g.nudge?.answer ? `answered "${g.nudge.answer}"` : "no answer"}`,
              ...(g.unfinished
                ? [
                    `${g.unfinished.bytes} bytes arrived without completing a line ("${g.unfinished.text}"): the server trickles its greeting (slowloris) or stalled mid-line`,
                  ]
                : []),
            ],
          );
        break;
      case "closed":
      case "reset":
        add(
          "CONNECTION_CLOSED",
          `${where} closes the connection without a greeting`,
          "The server accepted TCP and then closed it without a reply: access control (tcp_wrappers, bans) or a load balancer without healthy backends.",
          [...ev, `connection ${g.status} after ${g.durationMs} ms`],
        );
        break;
      case "reply": {
        const r = g.reply;
        const o = oops(r);
        if (BUSY.test(r?.text ?? ""))
          add(
            "SERVER_BUSY",
            `${where} is refusing sessions: too many connections`,
            "The server answered the connection with a refusal citing its connection limits.",
            [`greeting: ${q(r)}`],
          );
        else if (o)
          add("SERVER_CONFIG_ERROR", `${where} reports a configuration error`, `The server's own words: ${o}`, [`greeting: ${q(r)}`]);
        else
          add(
            "CONNECTION_CLOSED",
            `${where} refuses the session at the greeting`,
            "The server answered the connection with a refusal instead of 220 (access control or a closing service).",
            [`greeting: ${q(r)}`],
          );
        break;
      }
    }
    return finish();
  }
  if (g?.late)
    finding(
      "SLOW_GREETING",
      "medium",
      `The greeting took ${g.durationMs} ms (slow reverse DNS or ident lookups on the server?); impatient clients and monitors give up.`,
    );

  // ---------------------------------------------------------------- TLS
  const t = obs.tls;
  const mode = obs.target.schemeTls && obs.options.tls === "auto" ? obs.target.schemeTls : obs.options.tls;
  if (t) {
    if (t.status === "refused") {
      if (mode === "explicit")
        add(
          "FTPS_UNSUPPORTED",
          `${where} does not offer FTPS`,
          "The check asked for explicit TLS and the server refused AUTH TLS: it has no TLS configured.",
          [`AUTH TLS → ${q(t.authReply)}`],
        );
      else
        finding(
          "TLS_FALLBACK_PLAIN",
          "medium",
          `The server refused AUTH TLS (${t.authReply?.code}): the check went on in plain FTP, so credentials and data travel unencrypted.`,
        );
    } else if (t.status === "stall") {
      add(
        "TLS_HANDSHAKE_STALL",
        `TLS handshake to ${where} stalls`,
        `AUTH TLS was accepted but the handshake never completed${t.plainCheck?.status === "ok" ? ", while plain FTP on another connection works" : ""}: the server's certificate flight is probably lost on the path (MTU/MSS black hole).`,
        [
          ...(t.authReply ? [`AUTH TLS → ${q(t.authReply)}`] : []),
          `handshake: ${err(t.error)}`,
          ...(t.plainCheck ? [`plain FTP on a second connection: ${t.plainCheck.detail}`] : []),
          ...(rtt ? [rtt] : []),
        ],
      );
    } else if (t.status === "failed") {
      const ev = [...(t.authReply ? [`AUTH TLS → ${q(t.authReply)}`] : []), `modern handshake: ${err(t.error)}`];
      if (t.legacyRetry?.status === "ok")
        add(
          "TLS_PROTOCOL_OUTDATED",
          `${where} only speaks outdated TLS`,
          `A modern TLS handshake fails, but one allowing legacy protocols and ciphers works (${t.legacyRetry.protocol}, ${t.legacyRetry.cipher}): current clients refuse this server.`,
          [...ev, `legacy-allowing handshake: ${t.legacyRetry.protocol} ${t.legacyRetry.cipher}`],
        );
      else if (t.mode === "implicit" && /wrong version number|packet length too long|http request/i.test(t.error?.message ?? ""))
        add(
          "TLS_HANDSHAKE_FAILED",
          `${where} is not an implicit-FTPS port`,
          "The check started TLS at once (implicit FTPS), but the port answered in plain text: it is a plain/explicit FTP port.",
          [...ev, "use ftpes:// or --tls explicit for this port, or the implicit port (990)"],
        );
      else
        add(
          "TLS_HANDSHAKE_FAILED",
          `TLS handshake with ${where} fails`,
          "The TLS handshake failed, and not because of an outdated protocol (a legacy-allowing retry failed too).",
          [...ev, ...(t.legacyRetry?.status === "failed" ? [`legacy-allowing handshake: ${err(t.legacyRetry.error)}`] : [])],
        );
    } else if (t.status === "ok") {
      const leaf = t.chain[0];
      const chainEv = t.chain.map(
        (c, i) => `chain[${i}]: ${c.subject} — issued by ${c.issuer}, valid ${c.validFrom.slice(0, 10)} → ${c.validTo.slice(0, 10)}`,
      );
      const expired = leaf && new Date(leaf.validTo) < now;
      const authErr = t.authorizationError ?? "";
      if (expired || authErr === "CERT_HAS_EXPIRED")
        add(
          "TLS_CERT_EXPIRED",
          `The TLS certificate of ${where} has expired`,
          `The certificate expired on ${leaf?.validTo.slice(0, 10)}: clients that verify certificates refuse the connection.`,
          [...chainEv, ...(authErr ? [`verification: ${authErr}`] : [])],
        );
      if (authErr === "DEPTH_ZERO_SELF_SIGNED_CERT" || authErr === "SELF_SIGNED_CERT_IN_CHAIN")
        add(
          "TLS_CERT_SELF_SIGNED",
          `${where} presents a self-signed certificate`,
          "The certificate is not issued by a trusted CA: clients that verify certificates refuse it.",
          [`verification: ${authErr}`, ...chainEv],
        );
      else if (authErr && authErr !== "CERT_HAS_EXPIRED")
        add(
          "TLS_CERT_UNTRUSTED",
          `The certificate chain of ${where} is not trusted`,
          `The chain the server sends does not lead to a trusted root (${authErr}); most often an intermediate certificate is missing.`,
          [`verification: ${authErr}`, `certificates received: ${t.chain.length}`, ...chainEv],
        );
      if (t.hostnameError)
        add(
          "TLS_HOSTNAME_MISMATCH",
          `The certificate does not match ${obs.target.host}`,
          `The certificate is for ${leaf?.sans.join(", ") || leaf?.subject}, not for the name used (${t.checkedName}).`,
          [`${t.hostnameError}`, ...chainEv.slice(0, 1)],
        );
      if (leaf && !expired) {
        const days = (new Date(leaf.validTo).getTime() - now.getTime()) / 86_400_000;
        if (days < LIMITS.certExpiringDays)
          finding(
            "TLS_CERT_EXPIRING",
            days < 7 ? "high" : "medium",
            `The certificate expires in ${Math.max(0, Math.floor(days))} days (${leaf.validTo.slice(0, 10)}).`,
          );
      }
      if (t.protocol === "TLSv1" || t.protocol === "TLSv1.1" || t.legacyAccepted)
        finding(
          "TLS_LEGACY_ACCEPTED",
          "medium",
          `The server still accepts ${t.protocol === "TLSv1" || t.protocol === "TLSv1.1" ? t.protocol : "TLS 1.0/1.1"}: disable protocols older than TLS 1.2.`,
        );
    }
  }

  // ---------------------------------------------------------------- login
  const login = obs.login;
  if (login && login.status === "refused") {
    const u = login.userReply;
    const p = login.passReply;
    const last = p ?? u;
    const ev = [
      `USER ${login.user} → ${q(u)}`,
      ...(p ? [`PASS **** → ${q(p)}`] : []),
      `session ${login.encrypted ? "encrypted (TLS)" : "not encrypted"}`,
    ];
    const o = oops(last);
    if (o && /writable root inside chroot/i.test(o))
      add(
        "CHROOT_WRITABLE_ROOT",
        "vsftpd refuses the login: the chroot directory is writable",
        "vsftpd will not chroot a user into a directory that user can write to, and ends the session.",
        ev,
      );
    else if (o && /cannot change directory|chdir|no such file/i.test(o))
      add(
        "HOME_DIR_MISSING",
        `The home directory of ${login.user} cannot be entered`,
        `The password was accepted, then the server could not enter the account's home: ${o}`,
        ev,
      );
    else if (o) add("SERVER_CONFIG_ERROR", "The server reports a configuration error at login", `The server's own words: ${o}`, ev);
    else if (BUSY.test(last?.text ?? ""))
      add(
        "SERVER_BUSY",
        `${where} refuses the login: too many connections`,
        "The server accepted the connection but refused the session because of its connection limits.",
        ev,
      );
    else if (!login.encrypted && TLS_NEEDED.test(last?.text ?? ""))
      add(
        "FTPS_REQUIRED",
        `${where} requires FTPS for logins`,
        "The server refuses logins over plain FTP; the client must use explicit TLS.",
        ev,
      );
    else if (/home|directory/i.test(p?.text ?? "") && p && p.code !== 530)
      add(
        "HOME_DIR_MISSING",
        `The home directory of ${login.user} cannot be entered`,
        "The server accepted the user but could not enter its home directory.",
        ev,
      );
    else if (login.defaultAnonymous)
      scope.push("anonymous login refused: pass --user and --password-env to test login and the data channel");
    else if (!p && u && u.code >= 500)
      add(
        "LOGIN_POLICY_DENIED",
        `${where} refuses the user ${login.user}`,
        "The server refused the user name before asking for a password: a policy (deny list, disabled account), not a wrong password.",
        ev,
      );
    else add("AUTH_FAILED", `Login failed for ${login.user}`, "The server rejected the credentials after the password was sent.", ev);
  } else if (login?.status === "error" && login.missingPassword) {
    add(
      "AUTH_FAILED",
      `No password available for ${login.user}`,
      "The server asks for a password and the check has none: set the profile's password variable.",
      [`USER ${login.user} → ${q(login.userReply)}`],
    );
  } else if (login?.status === "ok") {
    if (login.anonymous) finding("ANON_ENABLED", login.defaultAnonymous ? "medium" : "info", "Anonymous login is accepted.");
    else if (!login.encrypted)
      finding(
        "CLEARTEXT_AUTH_ALLOWED",
        "high",
        "The password was accepted over an unencrypted connection: anyone on the path can read it.",
      );
  } else if (!login && !faults.length && obs.tls?.status !== "refused" && obs.tls && obs.tls.status !== "ok") {
    scope.push("login not tested: TLS did not work");
  }

  // ---------------------------------------------------------------- data channel
  const d = obs.data;
  if (d && d.passive.length > 0) {
    const epsv = d.passive.find((p) => p.command === "EPSV");
    const pasv = d.passive.find((p) => p.command === "PASV");
    const pa = d.pasvAddress;
    const ev = d.passive.map(
      (p) =>
        `${p.command} → ${q(p.reply)}${p.connect ? `; connect ${p.connectedHost}:${p.port} ${p.connect.status} in ${p.connect.durationMs} ms` : ""}`,
    );
    if (rtt) ev.push(rtt);
    const refusedEpsv = epsv?.reply && epsv.reply.code >= 400;
    if (refusedEpsv && pasv?.reply && pasv.reply.code >= 400) {
      const act = obs.active;
      add(
        "PASV_DISABLED",
        `${where} refuses passive mode`,
        `Both EPSV and PASV are refused.${act ? ` Active mode ${act.status === "ok" ? "works" : "fails too"}.` : " Active mode was not tested (--active)."}`,
        ev,
      );
    } else {
      if (refusedEpsv && pasv?.connect?.status === "ok")
        finding(
          "EPSV_UNSUPPORTED",
          "low",
          `EPSV is refused (${epsv!.reply!.code}) while PASV works: IPv6 clients and some NAT setups will fail.`,
        );
      if (pa && !pa.same) {
        const used = `advertised ${pa.advertised}, control peer ${pa.controlPeer}`;
        if (pa.advertisedPrivate && !pa.peerPrivate)
          add(
            "PASV_ADDRESS_PRIVATE",
            `${where} advertises a private address for passive mode`,
            `The PASV reply tells clients to connect to ${pa.advertised}, a private address, while the server was reached at ${pa.controlPeer}. Clients that follow the reply fail; clients that swap in the control address (FileZilla, curl, lftp) hide the problem.`,
            [used, ...ev],
          );
        else if (
          !pa.permitted ||
          d.passive.some((p) => p.command === "PASV" && p.connectedHost === pa.advertised && p.connect && p.connect.status !== "ok")
        )
          add(
            "PASV_ADDRESS_WRONG",
            `${where} advertises the wrong address for passive mode`,
            `The PASV reply names ${pa.advertised}, not the address the server was reached at (${pa.controlPeer})${pa.permitted ? ", and nothing answers there" : "; ftp-doctor does not connect to third addresses that are not permitted targets (FTP bounce)"}.`,
            [used, ...ev],
          );
      }
      const failed = d.passive.filter((p) => p.connect && p.connect.status !== "ok" && p.connect.status !== "not-run");
      const epsvFailed = epsv?.connect && epsv.connect.status !== "ok";
      if (epsvFailed && pasv?.connect?.status === "ok")
        add(
          "EPSV_BROKEN",
          "EPSV data connections fail while PASV works",
          `The server accepted EPSV but its port (${epsv!.port}) is ${epsv!.connect!.status}, while the PASV port connects.`,
          ev,
        );
      else if (failed.length > 0 && !d.passive.some((p) => p.connect?.status === "ok") && !(pa && !pa.same && !pa.permitted)) {
        const how = failed.map((p) => p.connect!.status);
        const kind = how.includes("timeout")
          ? "time out (dropped by a firewall)"
          : how.includes("refused")
            ? "are refused (a REJECT rule or a missing port forward)"
            : "fail";
        add(
          "PASV_PORTS_BLOCKED",
          "Passive data ports are blocked",
          `Login works, but connections to the passive data port${failed.length > 1 ? "s" : ""} ${failed.map((p) => p.port).join(", ")} ${kind}.`,
          ev,
        );
      }
    }
    const lr = d.listReply;
    const lf = d.listFinalReply;
    const lt = `${lr?.text ?? ""}\n${lf?.text ?? ""}`;
    if (lr && lr.code >= 400) {
      if (/bad ip|foreign ip|foreign address/i.test(lr.text))
        add(
          "DATA_FOREIGN_IP",
          "The server rejects the data connection's source address",
          "The data connection arrived from a different IP than the control connection and the server refused it (multi-IP NAT egress or a proxy).",
          [`LIST → ${q(lr)}`, ...ev],
        );
      else if (/reuse|resum|operation not permitted/i.test(lr.text))
        add(
          "TLS_SESSION_REUSE_REQUIRED",
          "The server requires TLS session reuse on data connections",
          `The data connection's TLS session did not resume the control session${d.dataTls?.reused === false ? " (this data handshake was not resumed)" : ""}, and the server refuses that.`,
          [
            `LIST → ${q(lr)}`,
            ...(d.dataTls ? [`data TLS: ${d.dataTls.status}${d.dataTls.reused !== undefined ? `, reused=${d.dataTls.reused}` : ""}`] : []),
          ],
        );
      else if (TLS_NEEDED.test(lr.text) || /PROT P/i.test(lr.text))
        add(
          "DATA_TLS_REQUIRED",
          "The server requires encrypted data connections",
          "The server refuses unencrypted data connections: the client must send PBSZ 0 and PROT P.",
          [`LIST → ${q(lr)}`, `session ${d.protected ? "PROT P" : "unprotected"}`],
        );
      else if (lr.code === 550 || lr.code === 553 || lr.code === 530)
        add("PERMISSION_DENIED", "Listing the directory is not permitted", "Login works, but the server refuses the directory listing.", [
          `LIST → ${q(lr)}`,
          ...(obs.pwd ? [`PWD → ${q(obs.pwd)}`] : []),
        ]);
      else if (lr.code === 425)
        add(
          "PASV_PORTS_BLOCKED",
          "The server could not use the data connection",
          "The data connection was opened, but the server reports it never got it: a firewall or NAT forwarded it elsewhere.",
          [`LIST → ${q(lr)}`, ...ev],
        );
      else
        add("PROTOCOL_VIOLATION", "The server refused the directory listing", "LIST failed with a reply ftp-doctor does not recognise.", [
          `LIST → ${q(lr)}`,
        ]);
    } else if (lr && d.status === "failed") {
      if (d.dataTls?.status === "failed" && /reuse|resum/i.test(lt))
        add(
          "TLS_SESSION_REUSE_REQUIRED",
          "The server requires TLS session reuse on data connections",
          "The data connection's TLS session did not resume the control session, and the server refuses that.",
          [`LIST → ${q(lr)} then ${q(lf)}`, `data TLS: ${err(d.dataTls.error)}`],
        );
      // ProFTPD completes the data handshake, then checks resumption: "150 …" then "425 Unable to build data connection: Operation not permitted".
      else if (d.protected && lf && lf.code >= 400 && /reuse|resum|operation not permitted/i.test(lf.text))
        add(
          "TLS_SESSION_REUSE_REQUIRED",
          "The server requires TLS session reuse on data connections",
          `The data connection's TLS session did not resume the control session${d.dataTls?.reused === false ? " (this data handshake was not resumed)" : ""}, and the server refuses that.`,
          [
            `LIST → ${q(lr)} then ${q(lf)}`,
            ...(d.dataTls ? [`data TLS: ${d.dataTls.status}${d.dataTls.reused !== undefined ? `, reused=${d.dataTls.reused}` : ""}`] : []),
          ],
        );
      else if (d.dataTls?.status === "failed")
        add("CONNECTION_RESET", "TLS on the data connection failed", "The data connection's TLS handshake failed.", [
          `data TLS: ${err(d.dataTls.error)}`,
          `LIST → ${q(lr)}${lf ? ` then ${q(lf)}` : ""}`,
        ]);
      else if (d.error && d.error.kind === "oversize")
        add(
          "PROTOCOL_VIOLATION",
          "The directory listing is larger than the check reads",
          `The listing exceeded ${LIMITS.maxListingBytes} bytes and was cut.`,
          [err(d.error)],
        );
      else if ((lf && (lf.code === 426 || lf.code === 451)) || d.error?.kind === "reset" || d.error?.kind === "closed")
        add("CONNECTION_RESET", "The data transfer was cut", "The listing started but the transfer was aborted mid-way.", [
          `LIST → ${q(lr)}${lf ? ` then ${q(lf)}` : ""}`,
          ...(d.error ? [`data: ${err(d.error)}`] : []),
        ]);
      else if (lf && lf.code >= 400)
        add("PROTOCOL_VIOLATION", "The directory listing failed", "The server aborted the listing.", [`LIST → ${q(lr)} then ${q(lf)}`]);
    }
  }
  if (login?.status === "ok" && d?.status === "not-run" && !faults.length && !obs.controlLost) scope.push("data channel not tested");

  // ---------------------------------------------------------------- opt-in steps
  const w = obs.write;
  if (w && w.status === "failed") {
    const r = w.storFinalReply && w.storFinalReply.code >= 400 ? w.storFinalReply : w.storReply;
    const ev = [`STOR ${w.fileName} → ${q(w.storReply)}${w.storFinalReply ? ` then ${q(w.storFinalReply)}` : ""}`];
    if (r && (r.code === 452 || r.code === 552 || /space|storage|quota|disk full|failure writing/i.test(r.text)))
      add(
        "STORAGE_FULL",
        "Uploads fail: no space left",
        "The server could not store the test file: its disk or the user's quota is full.",
        ev,
      );
    else if (r && (r.code === 550 || r.code === 553 || r.code === 532 || r.code === 450))
      add("PERMISSION_DENIED", "Uploads are not permitted", "Login and listing work, but the server refuses to store a file here.", [
        ...ev,
        ...(obs.pwd ? [`PWD → ${q(obs.pwd)}`] : []),
      ]);
    else if (w.verified === false && w.storFinalReply && w.storFinalReply.code < 300)
      add(
        "STORAGE_FULL",
        "Uploaded data did not read back intact",
        "The upload was acknowledged but the file read back differs (a short write).",
        [...ev, `RETR → ${q(w.retrFinalReply)}`],
      );
    else if (w.error) add("CONNECTION_RESET", "The upload was cut", "The upload's data connection failed.", [...ev, err(w.error)]);
  }
  const a = obs.active;
  if (a && a.status !== "ok" && a.status !== "not-run")
    add(
      "ACTIVE_MODE_BLOCKED",
      "Active mode (PORT/EPRT) does not work",
      a.status === "refused"
        ? "The server refuses the PORT/EPRT command."
        : "The server accepted PORT/EPRT but the data connection back to this network failed.",
      [`${a.command} → ${q(a.reply)}`, ...(a.listReply ? [`LIST → ${q(a.listReply)}`] : []), ...(a.error ? [err(a.error)] : [])],
    );
  const idle = obs.idle;
  if (idle?.status === "dropped")
    add(
      "IDLE_TIMEOUT",
      `The session is dropped after ${idle.seconds} s idle`,
      "An idle control connection was closed by the server or a middlebox.",
      [idle.reply ? `after ${idle.seconds} s: ${q(idle.reply)}` : `after ${idle.seconds} s: ${err(idle.error)}`],
    );

  // ---------------------------------------------------------------- session-level failures
  if (obs.controlLost) {
    const e = obs.controlLost.error;
    const words = oops(obs.controlLost.lastReply);
    if (words)
      add("SERVER_CONFIG_ERROR", `${where} aborted the session during ${obs.controlLost.during}`, `The server's own words: ${words}`, [
        `during ${obs.controlLost.during}: ${q(obs.controlLost.lastReply)}`,
        `then: ${err(e)}`,
      ]);
    else if (e.kind === "oversize")
      add(
        "PROTOCOL_VIOLATION",
        "The server sent an oversized reply",
        `During ${obs.controlLost.during}, a reply broke the size limits and the connection was cut.`,
        [err(e)],
      );
    else
      add(
        "CONNECTION_RESET",
        `The control connection was ${e.kind === "reset" ? "reset" : "closed"} during ${obs.controlLost.during}`,
        "The connection ended mid-session without an FTP reply that explains it.",
        [`during ${obs.controlLost.during}: ${err(e)}`],
      );
  }
  if (obs.protocolViolation)
    add(
      "PROTOCOL_VIOLATION",
      `Malformed reply during ${obs.protocolViolation.during}`,
      "The server sent a reply that does not follow the FTP protocol.",
      [obs.protocolViolation.detail],
    );
  if (obs.replyTimeout)
    add(
      "REPLY_TIMEOUT",
      `The server stopped answering during ${obs.replyTimeout.during}`,
      "A command got no reply within the deadline, while the connection stayed open.",
      [
        `no reply during ${obs.replyTimeout.during}`,
        ...(obs.replyTimeout.unfinished
          ? [
              `${obs.replyTimeout.unfinished.bytes} bytes of a reply arrived without completing it ("${obs.replyTimeout.unfinished.text}"): the server trickles (slowloris) or stalled mid-reply`,
            ]
          : []),
        ...(rtt ? [rtt] : []),
      ],
    );

  // DNS_PARTIAL last: a session fault that hits every client outranks one that hits some.
  if (okConnects.length > 0 && badConnects.length > 0)
    add(
      "DNS_PARTIAL",
      `Some addresses of ${obs.target.host} do not answer`,
      `${obs.target.host} resolves to ${obs.connects.length} addresses; ${badConnects.length} of them fail, so clients fail or work depending on which one they pick.`,
      obs.connects.map((c) => `${formatHostPort(c.address, obs.target.port)}: ${c.status} (${c.durationMs} ms)`),
    );

  return finish();

  function finish(): Diagnosis {
    const sv = server.version;
    const vuln = sv ? VULNERABLE_VERSIONS.find((v) => v.software === server.software && v.version.test(sv)) : undefined;
    if (vuln) finding("VULNERABLE_VERSION", "high", `${vuln.why}; the greeting announces ${server.software} ${sv}.`);
    if (obs.dns?.aaaaQueried && obs.dns.status === "ok" && !obs.dns.addresses.some((x) => x.family === 6))
      finding("NO_IPV6", "info", `${obs.target.host} has no AAAA record: IPv6-only clients cannot reach it.`);
    const root = faults[0];
    const notTested = scope.length > 0;
    const verdict: Verdict = root
      ? {
          code: root.code,
          layer: LAYER_OF[root.code],
          title: root.title,
          explanation: root.explanation,
          evidence: root.evidence,
          remediation: remediationFor(root.code, server.software),
        }
      : {
          code: "HEALTHY",
          layer: "none",
          title: notTested ? `${where} answers; ${scope[0]!.split(":")[0]}` : `${where} is healthy`,
          explanation: healthySummary(obs),
          evidence: healthyEvidence(obs),
          remediation: remediationFor("HEALTHY", server.software),
        };
    const seen = new Set<RootCauseCode>([verdict.code]);
    const secondary = faults
      .slice(1)
      .filter((f) => !seen.has(f.code) && seen.add(f.code))
      .map((f) => ({ code: f.code, title: f.title }));
    return { verdict, secondary, findings, server, scope };
  }
}

function healthySummary(obs: Observations): string {
  const parts: string[] = [];
  if (obs.greeting?.status === "ok") parts.push("greets");
  if (obs.tls?.status === "ok") parts.push(`negotiates ${obs.tls.protocol} with a valid certificate`);
  if (obs.login?.status === "ok") parts.push(`accepts the login of ${obs.login.user}`);
  if (obs.data?.status === "ok")
    parts.push(
      `lists the directory over ${obs.data.passive.find((p) => p.connect?.status === "ok")?.command ?? "passive mode"}${obs.data.protected ? " with encrypted data" : ""}`,
    );
  if (obs.write?.status === "ok") parts.push("stores, reads back and deletes a test file");
  if (obs.active?.status === "ok") parts.push("works in active mode");
  if (obs.idle?.status === "ok") parts.push(`keeps an idle session for ${obs.idle.seconds} s`);
  return parts.length ? `Every step that ran succeeded: the server ${parts.join(", ")}.` : "Every step that ran succeeded.";
}

function healthyEvidence(obs: Observations): string[] {
  return obs.steps.filter((s) => s.status === "ok" || s.status === "warn").map((s) => `${s.id}: ${s.detail} (${s.durationMs} ms)`);
}
