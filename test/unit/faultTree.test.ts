import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { diagnose } from "../../src/diagnosis/faultTree.js";
import { ROOT_CAUSE_CODES, type RootCauseCode } from "../../src/diagnosis/codes.js";
import { CAUSES } from "../../src/diagnosis/causes.js";
import { identifyServer } from "../../src/diagnosis/software.js";
import { parseTarget } from "../../src/target/parse.js";
import type { Observations, Reply } from "../../src/probe/types.js";

const NOW = new Date("2026-06-01T00:00:00Z");
const r = (code: number, text: string): Reply => ({ code, text: `${code} ${text}` });

/** A healthy anonymous plain-FTP session, to be bent into each fault. */
function base(over: Partial<Observations> = {}): Observations {
  return {
    target: parseTarget("ftp.example.com"),
    options: { tls: "off", anonymous: false, timeoutMs: 15000, write: false, active: false, allowDataHosts: [] },
    startedAt: NOW.toISOString(),
    durationMs: 40,
    budgetMs: 15000,
    steps: [],
    transcript: [],
    dns: { status: "ok", resolver: "system", addresses: [{ address: "203.0.113.10", family: 4 }], aaaaQueried: false, durationMs: 1 },
    connects: [{ address: "203.0.113.10", family: 4, status: "ok", durationMs: 2 }],
    peer: { address: "203.0.113.10", family: 4, rttMs: 2 },
    greeting: { status: "ok", reply: r(220, "(vsFTPd 3.0.3)"), durationMs: 2 },
    login: {
      user: "alice",
      anonymous: false,
      defaultAnonymous: false,
      encrypted: false,
      status: "ok",
      userReply: r(331, "Please specify the password."),
      passReply: r(230, "Login successful."),
    },
    syst: r(215, "UNIX Type: L8"),
    pwd: r(257, '"/" is the current directory'),
    data: {
      protected: false,
      passive: [
        {
          command: "EPSV",
          reply: r(229, "Entering Extended Passive Mode (|||40001|)"),
          port: 40001,
          advertisedHost: "203.0.113.10",
          connectedHost: "203.0.113.10",
          connect: { status: "ok", durationMs: 2 },
        },
      ],
      listReply: r(150, "Here comes the directory listing."),
      listFinalReply: r(226, "Directory send OK."),
      status: "ok",
    },
    side: [],
    controlConnections: 1,
    ...over,
  };
}

const tlsOk = (over: Partial<NonNullable<Observations["tls"]>> = {}): NonNullable<Observations["tls"]> => ({
  mode: "explicit",
  authReply: r(234, "Proceed with negotiation."),
  status: "ok",
  protocol: "TLSv1.3",
  cipher: "TLS_AES_256_GCM_SHA384",
  chain: [
    {
      subject: "CN=ftp.example.com",
      issuer: "CN=Test CA",
      sans: ["DNS:ftp.example.com"],
      validFrom: "2026-01-01T00:00:00.000Z",
      validTo: "2027-01-01T00:00:00.000Z",
      fingerprint256: "AA",
      selfIssued: false,
    },
  ],
  checkedName: "ftp.example.com",
  ...over,
});

const CASES: [string, () => Observations, RootCauseCode][] = [
  ["healthy plain", () => base(), "HEALTHY"],
  [
    "NXDOMAIN",
    () =>
      base({
        dns: {
          status: "nxdomain",
          resolver: "127.0.0.1:53",
          addresses: [],
          aaaaQueried: true,
          durationMs: 3,
          error: { kind: "error", code: "ENOTFOUND", message: "queryA ENOTFOUND" },
        },
        connects: [],
      }),
    "DNS_NXDOMAIN",
  ],
  [
    "no address",
    () => base({ dns: { status: "nodata", resolver: "x", addresses: [], aaaaQueried: true, durationMs: 3 }, connects: [] }),
    "DNS_NO_ADDRESS",
  ],
  [
    "resolver down",
    () => base({ dns: { status: "timeout", resolver: "x", addresses: [], aaaaQueried: true, durationMs: 2500 }, connects: [] }),
    "DNS_TIMEOUT",
  ],
  [
    "refused",
    () =>
      base({
        connects: [
          {
            address: "203.0.113.10",
            family: 4,
            status: "refused",
            durationMs: 1,
            error: { kind: "refused", code: "ECONNREFUSED", message: "" },
          },
        ],
        greeting: undefined,
      }),
    "TCP_REFUSED",
  ],
  [
    "timeout",
    () => base({ connects: [{ address: "203.0.113.10", family: 4, status: "timeout", durationMs: 3000 }], greeting: undefined }),
    "TCP_TIMEOUT",
  ],
  [
    "unreachable",
    () => base({ connects: [{ address: "203.0.113.10", family: 4, status: "unreachable", durationMs: 1 }], greeting: undefined }),
    "TCP_UNREACHABLE",
  ],
  [
    "partial",
    () =>
      base({
        connects: [
          { address: "203.0.113.10", family: 4, status: "ok", durationMs: 2 },
          { address: "203.0.113.11", family: 4, status: "refused", durationMs: 1 },
        ],
      }),
    "DNS_PARTIAL",
  ],
  [
    "silent",
    () =>
      base({
        greeting: {
          status: "timeout",
          durationMs: 2000,
          tlsProbe: { status: "failed", detail: "timeout" },
          nudge: { sent: "FEAT", kind: "none" },
        },
      }),
    "BANNER_TIMEOUT",
  ],
  [
    "implicit port",
    () =>
      base({
        greeting: { status: "timeout", durationMs: 2000, tlsProbe: { status: "ok", protocol: "TLSv1.3", greeting: r(220, "ready") } },
      }),
    "IMPLICIT_TLS_PORT",
  ],
  ["closed at once", () => base({ greeting: { status: "closed", durationMs: 1 } }), "CONNECTION_CLOSED"],
  [
    "tcp_wrappers",
    () => base({ greeting: { status: "reply", reply: r(421, "Connection refused: tcp_wrappers denial."), durationMs: 1 } }),
    "CONNECTION_CLOSED",
  ],
  [
    "vsftpd busy",
    () => base({ greeting: { status: "reply", reply: r(421, "There are too many connected users, please try later."), durationMs: 1 } }),
    "SERVER_BUSY",
  ],
  [
    "proftpd busy at login",
    () =>
      base({
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "refused",
          userReply: r(530, "Sorry, the maximum number of clients (1) from your host are already connected."),
        },
      }),
    "SERVER_BUSY",
  ],
  ["ssh", () => base({ greeting: { status: "ssh", raw: "SSH-2.0-OpenSSH_9.2", durationMs: 1 } }), "NOT_FTP_SSH"],
  ["http", () => base({ greeting: { status: "http", raw: "HTTP/1.1 400 Bad Request", durationMs: 2000 } }), "NOT_FTP_HTTP"],
  [
    "AUTH refused in explicit mode",
    () =>
      base({
        options: { ...base().options, tls: "explicit" },
        tls: { mode: "explicit", authReply: r(530, "Please login with USER and PASS."), status: "refused", chain: [], checkedName: "x" },
        login: undefined,
        data: undefined,
      }),
    "FTPS_UNSUPPORTED",
  ],
  [
    "AUTH refused in auto mode is a finding",
    () =>
      base({
        options: { ...base().options, tls: "auto" },
        tls: { mode: "explicit", authReply: r(500, "AUTH not understood"), status: "refused", chain: [], checkedName: "x" },
      }),
    "HEALTHY",
  ],
  [
    "vsftpd requires TLS",
    () =>
      base({
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "refused",
          userReply: r(530, "Non-anonymous sessions must use encryption."),
        },
      }),
    "FTPS_REQUIRED",
  ],
  [
    "pure-ftpd requires TLS",
    () =>
      base({
        login: {
          user: "bob",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "refused",
          userReply: r(421, "Sorry, cleartext sessions and weak ciphers are not accepted on this server."),
        },
      }),
    "FTPS_REQUIRED",
  ],
  [
    "outdated TLS",
    () =>
      base({
        tls: {
          mode: "explicit",
          status: "failed",
          chain: [],
          checkedName: "x",
          error: { kind: "tls-error", code: "ERR_SSL_UNSUPPORTED_PROTOCOL", message: "unsupported protocol" },
          legacyRetry: { status: "ok", protocol: "TLSv1", cipher: "AES256-SHA" },
        },
        login: undefined,
        data: undefined,
      }),
    "TLS_PROTOCOL_OUTDATED",
  ],
  [
    "stall",
    () =>
      base({
        tls: {
          mode: "explicit",
          status: "stall",
          chain: [],
          checkedName: "x",
          error: { kind: "timeout", code: "TIMEOUT", message: "" },
          plainCheck: { status: "ok", detail: "220" },
        },
        login: undefined,
        data: undefined,
      }),
    "TLS_HANDSHAKE_STALL",
  ],
  [
    "expired",
    () =>
      base({
        tls: tlsOk({ authorizationError: "CERT_HAS_EXPIRED", chain: [{ ...tlsOk().chain[0]!, validTo: "2025-01-01T00:00:00.000Z" }] }),
      }),
    "TLS_CERT_EXPIRED",
  ],
  ["self-signed", () => base({ tls: tlsOk({ authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT" }) }), "TLS_CERT_SELF_SIGNED"],
  ["untrusted", () => base({ tls: tlsOk({ authorizationError: "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }) }), "TLS_CERT_UNTRUSTED"],
  [
    "name mismatch",
    () => base({ tls: tlsOk({ hostnameError: "Host: ftp.example.com. is not in the cert's altnames: DNS:*.hoster.example" }) }),
    "TLS_HOSTNAME_MISMATCH",
  ],
  [
    "wrong password",
    () =>
      base({
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: true,
          status: "refused",
          userReply: r(331, "Please specify the password."),
          passReply: r(530, "Login incorrect."),
        },
      }),
    "AUTH_FAILED",
  ],
  [
    "refused at USER",
    () =>
      base({
        login: {
          user: "root",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: true,
          status: "refused",
          userReply: r(530, "Permission denied."),
        },
      }),
    "LOGIN_POLICY_DENIED",
  ],
  [
    "default anonymous refused is not a fault",
    () =>
      base({
        login: {
          user: "anonymous",
          anonymous: true,
          defaultAnonymous: true,
          encrypted: false,
          status: "refused",
          userReply: r(331, "Please specify the password."),
          passReply: r(530, "Login incorrect."),
        },
        data: undefined,
      }),
    "HEALTHY",
  ],
  [
    "writable chroot",
    () =>
      base({
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "refused",
          userReply: r(331, "Please specify the password."),
          passReply: r(500, "OOPS: vsftpd: refusing to run with writable root inside chroot()"),
        },
      }),
    "CHROOT_WRITABLE_ROOT",
  ],
  [
    "home missing",
    () =>
      base({
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "refused",
          userReply: r(331, "Please specify the password."),
          passReply: r(500, "OOPS: cannot change directory:/home/alice"),
        },
      }),
    "HOME_DIR_MISSING",
  ],
  [
    "other OOPS",
    () =>
      base({
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "refused",
          userReply: r(331, "Please specify the password."),
          passReply: r(500, "OOPS: invalid pasv_address"),
        },
      }),
    "SERVER_CONFIG_ERROR",
  ],
  [
    "PASV private",
    () =>
      base({
        data: {
          protected: false,
          passive: [
            { command: "EPSV", reply: r(500, "Unknown command.") },
            {
              command: "PASV",
              reply: r(227, "Entering Passive Mode (10,0,0,5,156,64)"),
              advertisedHost: "10.0.0.5",
              connectedHost: "203.0.113.10",
              port: 40000,
              connect: { status: "ok", durationMs: 2 },
            },
          ],
          pasvAddress: {
            advertised: "10.0.0.5",
            controlPeer: "203.0.113.10",
            same: false,
            advertisedPrivate: true,
            peerPrivate: false,
            permitted: false,
          },
          listReply: r(150, "ok"),
          listFinalReply: r(226, "ok"),
          status: "ok",
        },
      }),
    "PASV_ADDRESS_PRIVATE",
  ],
  [
    "PASV wrong",
    () =>
      base({
        data: {
          protected: false,
          passive: [
            { command: "EPSV", reply: r(229, "(|||40000|)"), port: 40000, connect: { status: "timeout", durationMs: 1500 } },
            {
              command: "PASV",
              reply: r(227, "Entering Passive Mode (203,0,113,99,156,64)"),
              advertisedHost: "203.0.113.99",
              connectedHost: "203.0.113.99",
              port: 40000,
              connect: { status: "refused", durationMs: 2 },
            },
          ],
          pasvAddress: {
            advertised: "203.0.113.99",
            controlPeer: "203.0.113.10",
            same: false,
            advertisedPrivate: false,
            peerPrivate: false,
            permitted: true,
          },
          status: "failed",
        },
      }),
    "PASV_ADDRESS_WRONG",
  ],
  [
    "ports blocked",
    () =>
      base({
        data: {
          protected: false,
          passive: [
            { command: "EPSV", reply: r(229, "(|||40000|)"), port: 40000, connect: { status: "timeout", durationMs: 1500 } },
            {
              command: "PASV",
              reply: r(227, "(203,0,113,10,156,65)"),
              port: 40001,
              advertisedHost: "203.0.113.10",
              connectedHost: "203.0.113.10",
              connect: { status: "timeout", durationMs: 1500 },
            },
          ],
          pasvAddress: {
            advertised: "203.0.113.10",
            controlPeer: "203.0.113.10",
            same: true,
            advertisedPrivate: false,
            peerPrivate: false,
            permitted: true,
          },
          status: "failed",
        },
      }),
    "PASV_PORTS_BLOCKED",
  ],
  [
    "passive disabled",
    () =>
      base({
        data: {
          protected: false,
          passive: [
            { command: "EPSV", reply: r(550, "Permission denied.") },
            { command: "PASV", reply: r(550, "Permission denied.") },
          ],
          status: "failed",
        },
      }),
    "PASV_DISABLED",
  ],
  [
    "EPSV broken",
    () =>
      base({
        data: {
          protected: false,
          passive: [
            { command: "EPSV", reply: r(229, "(|||40000|)"), port: 40000, connect: { status: "refused", durationMs: 1 } },
            { command: "PASV", reply: r(227, "(203,0,113,10,156,65)"), port: 40001, connect: { status: "ok", durationMs: 1 } },
          ],
          listReply: r(150, "ok"),
          listFinalReply: r(226, "ok"),
          status: "ok",
        },
      }),
    "EPSV_BROKEN",
  ],
  [
    "foreign IP",
    () =>
      base({ data: { ...base().data!, listReply: r(425, "Security: Bad IP connecting."), listFinalReply: undefined, status: "failed" } }),
    "DATA_FOREIGN_IP",
  ],
  [
    "session reuse",
    () =>
      base({
        tls: tlsOk(),
        data: {
          ...base().data!,
          protected: true,
          listReply: r(150, "Here comes the directory listing."),
          listFinalReply: r(522, "SSL connection failed: session reuse required"),
          dataTls: { status: "failed", error: { kind: "reset", code: "ECONNRESET", message: "" } },
          status: "failed",
        },
      }),
    "TLS_SESSION_REUSE_REQUIRED",
  ],
  [
    "session reuse (ProFTPD, after 150)",
    () =>
      base({
        tls: tlsOk(),
        data: {
          ...base().data!,
          protected: true,
          listReply: r(150, "Opening BINARY mode data connection for file list"),
          listFinalReply: r(425, "Unable to build data connection: Operation not permitted"),
          dataTls: { status: "ok", reused: false, protocol: "TLSv1.2" },
          status: "failed",
        },
      }),
    "TLS_SESSION_REUSE_REQUIRED",
  ],
  [
    "data TLS required",
    () =>
      base({
        data: { ...base().data!, listReply: r(522, "Data connections must be encrypted."), listFinalReply: undefined, status: "failed" },
      }),
    "DATA_TLS_REQUIRED",
  ],
  [
    "list denied",
    () => base({ data: { ...base().data!, listReply: r(550, "Permission denied."), listFinalReply: undefined, status: "failed" } }),
    "PERMISSION_DENIED",
  ],
  [
    "reset mid list",
    () =>
      base({
        data: {
          ...base().data!,
          listFinalReply: r(426, "Failure writing network stream."),
          error: { kind: "reset", code: "ECONNRESET", message: "" },
          status: "failed",
        },
      }),
    "CONNECTION_RESET",
  ],
  [
    "disk full",
    () =>
      base({
        write: {
          status: "failed",
          fileName: "x",
          bytes: 10,
          storReply: r(150, "Ok to send data."),
          storFinalReply: r(452, "Insufficient storage space"),
        },
      }),
    "STORAGE_FULL",
  ],
  [
    "upload denied",
    () => base({ write: { status: "failed", fileName: "x", bytes: 10, storReply: r(550, "Permission denied.") } }),
    "PERMISSION_DENIED",
  ],
  ["idle drop", () => base({ idle: { seconds: 5, status: "dropped", reply: r(421, "Timeout.") } }), "IDLE_TIMEOUT"],
  [
    "active refused",
    () => base({ active: { command: "PORT", status: "refused", reply: r(500, "Illegal PORT command.") } }),
    "ACTIVE_MODE_BLOCKED",
  ],
  [
    "control lost",
    () => base({ data: undefined, controlLost: { during: "login", error: { kind: "reset", code: "ECONNRESET", message: "" } } }),
    "CONNECTION_RESET",
  ],
  [
    "malformed 227",
    () =>
      base({
        data: {
          protected: false,
          passive: [
            { command: "EPSV", reply: r(500, "no") },
            { command: "PASV", reply: r(227, "Entering Passive Mode (garbage)") },
          ],
          status: "failed",
        },
        protocolViolation: { during: "PASV", detail: "unparseable PASV reply" },
      }),
    "PROTOCOL_VIOLATION",
  ],
  ["hung server", () => base({ data: undefined, replyTimeout: { during: "session setup", command: "PWD" } }), "REPLY_TIMEOUT"],
  [
    "URL directory missing (ProFTPD words)",
    () =>
      base({
        path: { requested: "/upload", status: "missing", reply: r(550, "/upload: No such file or directory") },
        data: { protected: false, passive: [], status: "not-run" },
      }),
    "PATH_NOT_FOUND",
  ],
  [
    "URL directory forbidden (status from the words: pyftpdlib)",
    () =>
      base({
        path: { requested: "/private", status: "error", reply: r(550, "Permission denied.") },
        data: { protected: false, passive: [], status: "not-run" },
      }),
    "PATH_DENIED",
  ],
  [
    "password withheld on a plain session (AUTH TLS refused, profile without tls: off)",
    () =>
      base({
        tls: { mode: "explicit", authReply: r(500, "AUTH not understood"), status: "refused", chain: [], checkedName: "ftp.example.com" },
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "blocked-cleartext",
          userReply: r(331, "Please specify the password."),
        },
        data: undefined,
      }),
    "CLEARTEXT_PASSWORD_BLOCKED",
  ],
  [
    "name resolves to an address the policy refuses",
    () =>
      base({
        dns: {
          status: "ok",
          resolver: "127.0.0.1:53",
          addresses: [{ address: "169.254.169.254", family: 4 }],
          aaaaQueried: true,
          durationMs: 1,
        },
        policyRefusal: { name: "ftp.example.com", address: "169.254.169.254", rule: "link-local/metadata addresses are never probed" },
        connects: [],
        peer: undefined,
        greeting: undefined,
        login: undefined,
        data: undefined,
      }),
    "TARGET_NOT_PERMITTED",
  ],
];

for (const [name, make, expected] of CASES) {
  test(`fault tree: ${name} → ${expected}`, () => {
    const d = diagnose(make(), NOW);
    assert.equal(d.verdict.code, expected);
    assert.ok(d.verdict.title.length > 0 && d.verdict.title.length <= 150, "title fits a Slack header");
    assert.ok(d.verdict.explanation.length > 0);
    if (expected !== "HEALTHY") {
      assert.ok(d.verdict.evidence.length > 0, "a fault always carries evidence");
      assert.ok(d.verdict.remediation.length > 0, "a fault always carries remediation");
    }
  });
}

test("every root cause code has remediation and a fixture or a scenario", () => {
  for (const c of ROOT_CAUSE_CODES) assert.ok(CAUSES[c].fix.any.length > 0, c);
  const covered = new Set(CASES.map((c) => c[2]));
  const notInFixtures = ROOT_CAUSE_CODES.filter((c) => !covered.has(c));
  assert.deepEqual(notInFixtures, ["TLS_HANDSHAKE_FAILED"], "codes without a unit fixture (covered by scenarios)");
});

test("remediation names the detected server's own setting first", () => {
  const busy = (banner: string, refusal = "Sorry, the maximum number of clients (1) from your host are already connected.") =>
    diagnose(
      base({
        greeting: { status: "ok", reply: r(220, banner), durationMs: 1 },
        login: {
          user: "alice",
          anonymous: false,
          defaultAnonymous: false,
          encrypted: false,
          status: "refused",
          userReply: r(530, refusal),
        },
      }),
      NOW,
    ).verdict;
  assert.match(busy("ProFTPD 1.3.8 Server (Debian)").remediation[0]!, /MaxClients/);
  assert.match(busy("(vsFTPd 3.0.3)").remediation[0]!, /max_clients/);
  // Unknown software: the general advice, then every server's own setting.
  // A signature message identifies the daemon even behind a neutral banner.
  assert.match(busy("ready").remediation[0]!, /MaxClients/);
  // Unknown software: numbered steps that apply to any server; each daemon's setting is an alternative.
  const unknown = busy("ready", "Server is busy, try again later.");
  assert.match(unknown.remediation[0]!, /connection limits/);
  assert.ok(!unknown.remediation.some((l) => /max_clients|MaxClients|max_cons/.test(l)), "no daemon's setting among the steps");
  const alternatives = new Map(unknown.perServer!.map((p) => [p.software, p.steps.join(" ")]));
  assert.match(alternatives.get("Pure-FTPd")!, /-C/);
  assert.match(alternatives.get("pyftpdlib")!, /max_cons_per_ip/);
  assert.match(alternatives.get("Twisted FTP")!, /connectionLimit/);
  assert.equal(busy("(vsFTPd 3.0.3)").perServer, undefined, "a known daemon gets its own setting, no alternatives");
});

test("remediation names the settings of ftp-srv, pyftpdlib, Twisted, inetutils and netkit ftpd", () => {
  const fix = (banner: string, o: Partial<Observations>) =>
    diagnose(base({ greeting: { status: "ok", reply: r(220, banner), durationMs: 1 }, ...o }), NOW).verdict;
  const blocked = {
    data: {
      protected: false,
      passive: [
        {
          command: "EPSV" as const,
          reply: r(229, "Entering Extended Passive Mode (|||40001|)"),
          port: 40001,
          connectedHost: "203.0.113.10",
          connect: { status: "timeout" as const, durationMs: 2000 },
        },
      ],
      status: "failed" as const,
    },
  };
  assert.match(fix("pyftpdlib 1.5.7 ready.", blocked).remediation[0]!, /passive_ports/);
  assert.match(fix("Twisted 22.4.0 FTP Server", blocked).remediation[0]!, /passivePortRange/);
  assert.match(fix("Features: a .", blocked).remediation[0]!, /pasv_min/);
  assert.match(fix("localhost FTP server (GNU inetutils 2.4) ready.", blocked).remediation[0]!, /ip_local_port_range/);
  assert.match(fix("localhost FTP server (Version 6.4/OpenBSD/Linux-ftpd-0.17) ready.", blocked).remediation[0]!, /-h/);
  const idle = { idle: { seconds: 30, status: "dropped" as const, reply: r(421, "Timeout.") } };
  assert.match(fix("pyftpdlib 1.5.7 ready.", idle).remediation[0]!, /FTPHandler\.timeout/);
  assert.match(fix("Twisted 22.4.0 FTP Server", idle).remediation[0]!, /timeOut/);
  assert.match(fix("localhost FTP server (GNU inetutils 2.4) ready.", idle).remediation[0]!, /--timeout/);
});

test("an earlier definite fault is not buried by a later symptom", () => {
  const expired = tlsOk({ authorizationError: "CERT_HAS_EXPIRED", chain: [{ ...tlsOk().chain[0]!, validTo: "2026-01-31T00:00:00.000Z" }] });
  // Explicit FTPS: the certificate is bad, the check goes on, and later the server stops answering.
  const later = diagnose(
    base({
      tls: expired,
      login: { ...base().login!, encrypted: true },
      data: undefined,
      replyTimeout: { during: "login", command: "PASS" },
    }),
    NOW,
  );
  assert.equal(later.verdict.code, "TLS_CERT_EXPIRED");
  assert.deepEqual(
    later.secondary.map((s) => s.code),
    ["REPLY_TIMEOUT"],
  );
  // Implicit FTPS: TLS comes before the greeting; a self-signed certificate, then no greeting inside TLS.
  const implicit = diagnose(
    base({
      tls: tlsOk({ mode: "implicit", authReply: undefined, authorizationError: "DEPTH_ZERO_SELF_SIGNED_CERT" }),
      greeting: { status: "timeout", durationMs: 2000 },
      login: undefined,
      data: undefined,
    }),
    NOW,
  );
  assert.equal(implicit.verdict.code, "TLS_CERT_SELF_SIGNED");
  assert.deepEqual(
    implicit.secondary.map((s) => s.code),
    ["BANNER_TIMEOUT"],
  );
  // Implicit FTPS, then the server closes without a greeting: still the certificate.
  const closed = diagnose(
    base({ tls: { ...expired, mode: "implicit" }, greeting: { status: "closed", durationMs: 5 }, login: undefined, data: undefined }),
    NOW,
  );
  assert.equal(closed.verdict.code, "TLS_CERT_EXPIRED");
});

test("a 550 to PASV/EPSV demanding TLS on the data channel is not PASV_DISABLED", () => {
  const demand = (encrypted: boolean) =>
    diagnose(
      base({
        ...(encrypted ? { tls: tlsOk() } : {}),
        greeting: { status: "ok", reply: r(220, "pyftpdlib 1.5.7 ready."), durationMs: 1 },
        login: { ...base().login!, encrypted },
        data: {
          protected: false,
          passive: [
            { command: "EPSV", reply: r(550, "SSL/TLS required on the data channel.") },
            { command: "PASV", reply: r(550, "SSL/TLS required on the data channel.") },
          ],
          status: "failed",
        },
      }),
      NOW,
    ).verdict;
  const tls = demand(true);
  assert.equal(tls.code, "DATA_TLS_REQUIRED");
  assert.match(tls.remediation[0]!, /tls_data_required/);
  const plain = demand(false);
  assert.equal(plain.code, "FTPS_REQUIRED");
  assert.match(plain.title, /data/);
  // vsftpd pasv_enable=NO says "550 Permission denied.": that one is PASV_DISABLED.
  const disabled = diagnose(
    base({
      data: {
        protected: false,
        passive: [
          { command: "EPSV", reply: r(550, "Permission denied.") },
          { command: "PASV", reply: r(550, "Permission denied.") },
        ],
        status: "failed",
      },
    }),
    NOW,
  ).verdict;
  assert.equal(disabled.code, "PASV_DISABLED");
  assert.match(disabled.remediation[0]!, /pasv_enable=YES/);
});

test("a 421 greeting saying the server is full is SERVER_BUSY in any daemon's words", () => {
  const greet = (text: string) =>
    diagnose(base({ greeting: { status: "reply", reply: { code: 421, text }, durationMs: 1 }, login: undefined, data: undefined }), NOW)
      .verdict;
  for (const [text, software] of [
    ["421 1 users (the maximum) are already logged in, sorry", "pure-ftpd"],
    ["421 Too many users right now, try again in a few minutes.", "twisted"],
    ["421 Too many connections from the same IP address.", "pyftpdlib"],
    ["421 Too many connections. Service temporarily unavailable.", "pyftpdlib"],
    ["421 There are too many connections from your internet address.", "vsftpd"],
    ["421 Too many users are connected, please try again later.", undefined],
  ] as const) {
    const v = greet(text);
    assert.equal(v.code, "SERVER_BUSY", text);
    if (software)
      assert.equal(
        diagnose(base({ greeting: { status: "reply", reply: { code: 421, text }, durationMs: 1 } }), NOW).server.software,
        software,
      );
  }
  assert.equal(greet("421 Connection refused: tcp_wrappers denial.").code, "CONNECTION_CLOSED");
  assert.equal(greet("421 Service not available, closing control connection.").code, "CONNECTION_CLOSED");
});

test("evidence lines carry one duration", () => {
  const d = diagnose(
    base({
      steps: [
        { id: "connect", status: "ok", startMs: 0, durationMs: 1, detail: "203.0.113.10:21 in 0.5 ms" },
        { id: "tls", status: "ok", startMs: 1, durationMs: 21, detail: "TLSv1.3 TLS_AES_256_GCM_SHA384 in 13 ms" },
        { id: "greeting", status: "ok", startMs: 2, durationMs: 3, detail: "220 (vsFTPd 3.0.3)" },
      ],
    }),
    NOW,
  );
  assert.deepEqual(d.verdict.evidence, [
    "connect: 203.0.113.10:21 in 0.5 ms",
    "tls: TLSv1.3 TLS_AES_256_GCM_SHA384 in 13 ms",
    "greeting: 220 (vsFTPd 3.0.3) (3 ms)",
  ]);
});

test("a session fault outranks a partially dead DNS set; the other is kept as secondary", () => {
  const d = diagnose(
    base({
      connects: [
        { address: "203.0.113.10", family: 4, status: "ok", durationMs: 2 },
        { address: "203.0.113.11", family: 4, status: "timeout", durationMs: 3000 },
      ],
      login: {
        user: "alice",
        anonymous: false,
        defaultAnonymous: false,
        encrypted: true,
        status: "refused",
        userReply: r(331, "p"),
        passReply: r(530, "Login incorrect."),
      },
    }),
    NOW,
  );
  assert.equal(d.verdict.code, "AUTH_FAILED");
  assert.deepEqual(
    d.secondary.map((s) => s.code),
    ["DNS_PARTIAL"],
  );
});

test("findings: anonymous, cleartext, expiring, legacy TLS, vulnerable version, no IPv6", () => {
  const codes = (o: Observations) =>
    diagnose(o, NOW)
      .findings.map((f) => f.code)
      .sort();
  assert.deepEqual(codes(base({ login: { ...base().login!, anonymous: true, user: "anonymous", defaultAnonymous: true } })), [
    "ANON_ENABLED",
  ]);
  assert.deepEqual(codes(base()), ["CLEARTEXT_AUTH_ALLOWED"]);
  const soon = tlsOk({ legacyAccepted: true, chain: [{ ...tlsOk().chain[0]!, validTo: "2026-06-10T00:00:00.000Z" }] });
  assert.deepEqual(codes(base({ tls: soon, login: { ...base().login!, encrypted: true } })), ["TLS_CERT_EXPIRING", "TLS_LEGACY_ACCEPTED"]);
  assert.deepEqual(
    codes(
      base({ greeting: { status: "ok", reply: r(220, "(vsFTPd 2.3.4)"), durationMs: 1 }, login: { ...base().login!, encrypted: true } }),
    ),
    ["VULNERABLE_VERSION"],
  );
  assert.deepEqual(
    codes(
      base({
        dns: {
          status: "ok",
          resolver: "127.0.0.1:53",
          addresses: [{ address: "203.0.113.10", family: 4 }],
          aaaaQueried: true,
          durationMs: 1,
        },
        login: { ...base().login!, encrypted: true },
      }),
    ),
    ["NO_IPV6"],
  );
});

test("server identification from greetings", () => {
  assert.deepEqual(identifyServer("220 (vsFTPd 3.0.3)", undefined), { software: "vsftpd", version: "3.0.3" });
  assert.deepEqual(identifyServer("220 ProFTPD 1.3.8 Server (Debian) [::ffff:127.0.0.1]", undefined), {
    software: "proftpd",
    version: "1.3.8",
  });
  assert.equal(identifyServer("220---------- Welcome to Pure-FTPd [privsep] [TLS] ----------", undefined).software, "pure-ftpd");
  assert.equal(identifyServer("220-FileZilla Server 1.8.0", undefined).software, "filezilla");
  assert.equal(identifyServer("220 Microsoft FTP Service", undefined).software, "iis");
  assert.equal(identifyServer("220 ready", "215 Windows_NT").software, "iis");
  assert.equal(identifyServer("220 ready", "215 UNIX Type: L8").software, "unknown");
  assert.deepEqual(identifyServer("220 pyftpdlib 1.5.7 ready.", "215 UNIX Type: L8"), { software: "pyftpdlib", version: "1.5.7" });
  assert.deepEqual(identifyServer("220 Twisted 22.4.0 FTP Server", undefined), { software: "twisted", version: "22.4.0" });
  assert.deepEqual(identifyServer("220 box FTP server (GNU inetutils 2.4) ready.", undefined), { software: "inetutils", version: "2.4" });
  assert.deepEqual(identifyServer("220 box FTP server (Version 6.4/OpenBSD/Linux-ftpd-0.17) ready.", undefined), {
    software: "netkit",
    version: "0.17",
  });
  assert.equal(identifyServer("220 box FTP server ready.", "215 UNIX Type: L8 (Linux)").software, "netkit");
  // ftp-srv has no name in its greeting: "220 Features: a ." (anonymous on), or its PASV/EPSV wording.
  assert.equal(identifyServer("220 Features: a .", "215 UNIX Type: L8").software, "ftp-srv");
  assert.equal(identifyServer("220 Ready", "215 UNIX Type: L8", ["229 EPSV OK (|||40001|)"]).software, "ftp-srv");
  // Signature messages identify a daemon whose greeting was a refusal.
  assert.equal(identifyServer("421 Too many users right now, try again in a few minutes.", undefined).software, "twisted");
  assert.equal(identifyServer("421 Too many connections from the same IP address.", undefined).software, "pyftpdlib");
});

// Observations recorded from real servers by the scenario suite (test/fixtures/observations/*.json):
// the verdict of a recorded run must not change when the fault tree is edited.
const fixtureDir = new URL("../../../test/fixtures/observations/", import.meta.url);
if (existsSync(fixtureDir)) {
  for (const f of readdirSync(fixtureDir).filter((n) => n.endsWith(".json"))) {
    test(`recorded transcript ${f}`, () => {
      const { expected, observations, at } = JSON.parse(readFileSync(new URL(f, fixtureDir), "utf8")) as {
        expected: RootCauseCode;
        observations: Observations;
        at: string;
      };
      assert.equal(diagnose(observations, new Date(at)).verdict.code, expected);
    });
  }
}

test("engine v2 observations: the new verdicts say what, where and how to fix it", () => {
  const path = diagnose(
    base({ path: { requested: "/upload", status: "missing", reply: r(550, "Failed to change directory.") }, data: undefined }),
    NOW,
  );
  assert.equal(path.verdict.code, "PATH_NOT_FOUND");
  assert.equal(path.verdict.layer, "server");
  assert.match(path.verdict.title, /\/upload/);
  assert.ok(path.verdict.evidence.some((e) => e.startsWith("CWD /upload → ")));
  // vsftpd says the same words for missing and forbidden; the engine's status decides, else "not found".
  assert.equal(
    diagnose(base({ path: { requested: "/x", status: "error", reply: r(550, "Failed to change directory.") }, data: undefined }), NOW)
      .verdict.code,
    "PATH_NOT_FOUND",
  );
  assert.equal(
    diagnose(base({ path: { requested: "/x", status: "denied", reply: r(550, "Failed to change directory.") }, data: undefined }), NOW)
      .verdict.code,
    "PATH_DENIED",
  );
  assert.equal(diagnose(base({ path: { requested: "/upload", status: "ok", reply: r(250, "ok") } }), NOW).verdict.code, "HEALTHY");

  const blocked = diagnose(
    base({
      login: { user: "alice", anonymous: false, defaultAnonymous: false, encrypted: false, status: "blocked-cleartext" },
      data: undefined,
    }),
    NOW,
  ).verdict;
  assert.equal(blocked.code, "CLEARTEXT_PASSWORD_BLOCKED");
  assert.equal(blocked.layer, "policy");
  assert.match(blocked.explanation, /not a server fault/);
  assert.ok(
    blocked.remediation.some((l) => /tls: off/.test(l)),
    "says how to accept plain FTP knowingly",
  );
  assert.match(blocked.remediation[0]!, /ssl_enable=YES/, "vsftpd: enable FTPS first");

  const refused = diagnose(
    base({
      policyRefusal: { name: "ftp.example.com", address: "10.0.0.7", rule: "not in targets.allow" },
      connects: [],
      peer: undefined,
      greeting: undefined,
      login: undefined,
      data: undefined,
    }),
    NOW,
  ).verdict;
  assert.equal(refused.code, "TARGET_NOT_PERMITTED");
  assert.equal(refused.layer, "policy");
  for (const what of ["ftp.example.com", "10.0.0.7", "not in targets.allow"])
    assert.ok(`${refused.title} ${refused.explanation}`.includes(what), what);
  // Another address of the name was probed and works: no false alarm; the refused one is "not covered".
  const partly = diagnose(base({ policyRefusal: { name: "ftp.example.com", address: "10.0.0.7", rule: "not in targets.allow" } }), NOW);
  assert.equal(partly.verdict.code, "HEALTHY");
  assert.deepEqual(partly.scope, ["10.0.0.7 not checked: the target policy refused it (not in targets.allow)"]);
});

test("findings: anonymous access on a side connection, TLS session reuse demanded", () => {
  const findings = (o: Partial<Observations>) =>
    diagnose(base({ tls: tlsOk(), login: { ...base().login!, encrypted: true }, ...o }), NOW).findings;
  const readOnly = findings({ anonymousSide: { status: "accepted", reply: r(230, "Login successful."), canWrite: false } });
  assert.deepEqual(
    readOnly.map((f) => [f.code, f.severity]),
    [["ANON_ENABLED", "medium"]],
  );
  assert.match(readOnly[0]!.message, /side connection.*alice/);
  const writable = findings({ anonymousSide: { status: "accepted", canWrite: true } });
  assert.deepEqual(
    writable.map((f) => [f.code, f.severity]),
    [["ANON_ENABLED", "high"]],
  );
  assert.match(writable[0]!.message, /can write/);
  assert.deepEqual(findings({ anonymousSide: { status: "refused", reply: r(530, "Login incorrect.") } }), []);
  // Anonymous works even though the user's own login failed: still worth knowing.
  const failedLogin = diagnose(
    base({
      login: { ...base().login!, status: "refused", passReply: r(530, "Login incorrect.") },
      anonymousSide: { status: "accepted", canWrite: false },
    }),
    NOW,
  );
  assert.equal(failedLogin.verdict.code, "AUTH_FAILED");
  assert.deepEqual(
    failedLogin.findings.map((f) => f.code),
    ["ANON_ENABLED"],
  );

  const reuse = findings({ tlsReuse: { status: "required", reply: r(522, "SSL connection failed: session reuse required") } });
  assert.deepEqual(
    reuse.map((f) => f.code),
    ["TLS_REUSE_REQUIRED"],
  );
  assert.match(reuse[0]!.message, /Python ftplib/);
  assert.match(reuse[0]!.message, /Java/);
  assert.match(reuse[0]!.message, /require_ssl_reuse/, "names the detected daemon's setting (vsftpd)");
  const proftpd = diagnose(
    base({
      greeting: { status: "ok", reply: r(220, "ProFTPD 1.3.8 Server (Debian)"), durationMs: 1 },
      tls: tlsOk(),
      login: { ...base().login!, encrypted: true },
      tlsReuse: { status: "required" },
    }),
    NOW,
  ).findings;
  assert.match(proftpd.find((f) => f.code === "TLS_REUSE_REQUIRED")!.message, /NoSessionReuseRequired/);
  assert.deepEqual(findings({ tlsReuse: { status: "not-required" } }), []);
});

test("a third-host PASV address refused by the policy names the rule", () => {
  const d = diagnose(
    base({
      data: {
        ...base().data!,
        pasvAddress: {
          advertised: "198.51.100.9",
          controlPeer: "203.0.113.10",
          same: false,
          advertisedPrivate: false,
          peerPrivate: false,
          permitted: false,
          rule: "not in targets.allow",
        },
      },
    }),
    NOW,
  );
  assert.equal(d.verdict.code, "PASV_ADDRESS_WRONG");
  assert.ok(d.verdict.evidence[0]!.includes("target policy: not in targets.allow"));
});
