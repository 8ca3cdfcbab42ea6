/**
 * Real FTP daemons for integration tests: vsftpd 3.0.3, ProFTPD 1.3.8, Pure-FTPd 1.0.50 (Debian 12).
 *
 * Each launcher runs its daemon in the FOREGROUND as root with its own config, ports, logs and
 * state in a temp dir, and resolves once the port is listening. All of them need root: they bind,
 * chroot, setuid, and (vsftpd local users, pure-ftpd anonymous) touch system accounts or mounts.
 *
 * The config quirks each line works around are commented where the line is written.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { TlsMaterial } from "./certs.js";
import { depsDir, freePort, freePortRange, isRoot, makeTempDir, MissingToolError, requireTool, runCommand, sleep } from "./env.js";
import { isListening, spawnDaemon, type DaemonProcess } from "./proc.js";

export interface RunningServer {
  /** Address the daemon listens on (what a client connects to). */
  host: string;
  port: number;
  /** Passive data ports configured, inclusive. */
  pasvRange: [number, number];
  pid: number;
  /** The server's state dir (config, logs, homes). Removed by stop() unless it was passed in. */
  dir: string;
  /** SIGTERM, then SIGKILL after 2 s, to the daemon and every session process it forked. */
  stop(): Promise<void>;
  /** Config file, daemon stdout/stderr and its log files, as one text (for assertion messages). */
  log(): string;
}

export type ExtraDirectives = Record<string, string | number | boolean>;

export interface DaemonOptions {
  /** Run inside this network namespace (see netns.ts); the listen address must exist there. */
  netns?: string;
  /** @defaultValue '127.0.0.1' */
  listenAddress?: string;
  /** @defaultValue a free port */
  port?: number;
  /** @defaultValue 10 free consecutive ports */
  pasvRange?: [number, number];
  /**
   * Raw directives merged into the generated config, overriding ours (vsftpd: `key=value`,
   * booleans → YES/NO; ProFTPD: `Directive value`, booleans → on/off; Pure-FTPd: command-line
   * flags such as `'-C': 2` or `'--maxclientsperip': 2`, true → bare flag, false → removed; use
   * the short flag to override one of ours).
   */
  extra?: ExtraDirectives;
  /** Enables FTPS (explicit, AUTH TLS) with this certificate/key/chain. */
  tls?: TlsMaterial;
  /** Use this directory for state instead of a fresh temp dir (it is then left in place). */
  dir?: string;
  /** @defaultValue 10000 */
  startTimeoutMs?: number;
}

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

/** System user for vsftpd local logins (PAM). Created by startVsftpd({ localUsers: true }); needs root. */
export const VSFTPD_USER: Credentials = { user: "ftpdoctor", password: "Ftp-Doctor-Test-1" };
/** Virtual user in ProFTPD's own AuthUserFile (no system account). */
export const PROFTPD_USER: Credentials = { user: "alice", password: "Alice-Test-1" };
/** Virtual user in Pure-FTPd's puredb (no system account). */
export const PUREFTPD_USER: Credentials = { user: "bob", password: "Bob-Test-1" };

/** Files placed in every anonymous root (and in the users' homes). */
export const SAMPLE_FILES: Readonly<Record<string, string>> = {
  "readme.txt": "ftp-doctor test server\n",
  "data.bin": "x".repeat(4096),
};

// ---------------------------------------------------------------------------------------------
// Shared plumbing

export function assertRoot(daemon: string): void {
  if (!isRoot()) throw new MissingToolError("root", `${daemon} must be started as root (it binds, chroots and setuids)`);
}

export interface Prepared {
  dir: string;
  ownDir: boolean;
  removeDir: () => void;
  host: string;
  port: number;
  pasvRange: [number, number];
  timeoutMs: number;
}

export async function prepare(opts: DaemonOptions, prefix: string): Promise<Prepared> {
  const host = opts.listenAddress ?? "127.0.0.1";
  // Inside a namespace the host cannot bind the namespace's address: check on loopback instead
  // (the namespace is ours and empty, so any port is free there).
  const probeHost = opts.netns !== undefined || !isLocalBindable(host) ? "127.0.0.1" : host;
  const port = opts.port ?? (await freePort(probeHost));
  const pasvRange = opts.pasvRange ?? (await freePortRange(10, probeHost));
  let dir: string;
  let removeDir: () => void;
  if (opts.dir !== undefined) {
    dir = opts.dir;
    mkdirSync(dir, { recursive: true });
    removeDir = () => undefined;
  } else {
    const t = makeTempDir(undefined, prefix);
    dir = t.path;
    removeDir = t.remove;
  }
  // Daemons drop privileges (nobody, ftp, ftpdoctor) before touching homes inside `dir`.
  chmodSync(dir, 0o755);
  return { dir, ownDir: opts.dir === undefined, removeDir, host, port, pasvRange, timeoutMs: opts.startTimeoutMs ?? 10_000 };
}

/** Runs the rest of a launcher; on failure removes the state dir it made (launch() does too). */
export async function cleanOnFailure<T>(p: Prepared, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (p.ownDir) p.removeDir();
    throw err;
  }
}

function isLocalBindable(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "0.0.0.0" || host === "::" || host.startsWith("127.");
}

export function writeSampleFiles(dir: string, uid?: number, gid?: number): void {
  for (const [name, content] of Object.entries(SAMPLE_FILES)) {
    const file = path.join(dir, name);
    writeFileSync(file, content, { mode: 0o644 });
    if (uid !== undefined && gid !== undefined) chownSync(file, uid, gid);
  }
}

export function readIfExists(file: string, maxBytes = 256 * 1024): string {
  try {
    const text = readFileSync(file, "utf8");
    return text.length > maxBytes ? `[... ${text.length - maxBytes} bytes cut ...]\n${text.slice(-maxBytes)}` : text;
  } catch {
    return "(missing)";
  }
}

export function writeTlsFiles(
  dir: string,
  tls: TlsMaterial,
): { cert: string; key: string; chain: string | null; fullChain: string; keyAndChain: string } {
  const cert = path.join(dir, "tls-cert.pem");
  const key = path.join(dir, "tls-key.pem");
  const fullChain = path.join(dir, "tls-fullchain.pem");
  const keyAndChain = path.join(dir, "tls-key-and-cert.pem");
  const chainPem = tls.chainPem ?? "";
  writeFileSync(cert, tls.certPem, { mode: 0o644 });
  writeFileSync(key, tls.keyPem, { mode: 0o600 });
  writeFileSync(fullChain, tls.certPem + chainPem, { mode: 0o644 });
  writeFileSync(keyAndChain, tls.keyPem + tls.certPem + chainPem, { mode: 0o600 });
  let chain: string | null = null;
  if (chainPem !== "") {
    chain = path.join(dir, "tls-chain.pem");
    writeFileSync(chain, chainPem, { mode: 0o644 });
  }
  return { cert, key, chain, fullChain, keyAndChain };
}

export interface Account {
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export async function getAccount(user: string): Promise<Account | null> {
  const r = await runCommand("getent", ["passwd", user], { timeoutMs: 5000 });
  if (r.code !== 0) return null;
  const f = r.stdout.trim().split(":");
  return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? "", shell: f[6] ?? "" };
}

export async function groupName(gid: number): Promise<string> {
  const r = await runCommand("getent", ["group", String(gid)], { timeoutMs: 5000 });
  return r.code === 0 ? (r.stdout.split(":")[0] ?? String(gid)) : String(gid);
}

/** Starts the process and waits for its port, or rejects with everything it said. */
export async function launch(
  name: string,
  cmd: string,
  args: string[],
  p: Prepared,
  opts: DaemonOptions,
  logText: () => string,
  env?: NodeJS.ProcessEnv,
): Promise<RunningServer> {
  const proc: DaemonProcess = spawnDaemon(cmd, args, { netns: opts.netns, env, cwd: p.dir });
  const describe = (): string => {
    const out = proc.output();
    return [`== ${name} command ==`, [cmd, ...args].join(" "), "== stdout ==", out.stdout, "== stderr ==", out.stderr, logText()].join(
      "\n",
    );
  };
  const deadline = Date.now() + p.timeoutMs;
  for (;;) {
    const status = proc.exited();
    if (status !== null) {
      const text = describe();
      await proc.stop().catch(() => undefined); // its forks, registry entry, exit hook
      if (p.ownDir) p.removeDir();
      throw new Error(
        `${name} exited before listening on ${p.host}:${p.port} (code ${String(status.code)}, signal ${String(status.signal)})\n${text}`,
      );
    }
    if (isListening(proc.pid, p.port)) break;
    if (Date.now() > deadline) {
      const text = describe();
      await proc.stop().catch(() => undefined);
      if (p.ownDir) p.removeDir();
      throw new Error(`${name} did not listen on ${p.host}:${p.port} within ${p.timeoutMs} ms\n${text}`);
    }
    await sleep(20);
  }

  let finalLog: string | null = null;
  let stopped: Promise<void> | undefined;
  return {
    host: p.host,
    port: p.port,
    pasvRange: p.pasvRange,
    pid: proc.pid,
    dir: p.dir,
    log: () => finalLog ?? describe(),
    stop() {
      stopped ??= (async () => {
        try {
          await proc.stop(2000);
        } finally {
          finalLog = describe();
          if (p.ownDir) p.removeDir();
        }
      })();
      return stopped;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// vsftpd

export interface VsftpdOptions extends DaemonOptions {
  /**
   * Anonymous logins (`anonymous` / `ftp`), chrooted to anonRoot.
   * @defaultValue true unless localUsers is true
   */
  anonymous?: boolean;
  /**
   * Anonymous root. vsftpd refuses a root the ftp user can write to ("500 OOPS: vsftpd: refusing
   * to run with writable root inside chroot()"), so the default is `<dir>/anon`, root-owned 0555.
   */
  anonRoot?: string;
  /** Local (PAM) logins as VSFTPD_USER, landing in localRoot. Creates the system user once. */
  localUsers?: boolean;
  /** Where local users land after login (vsftpd `local_root`). @defaultValue `<dir>/home`, owned by the user */
  localRoot?: string;
}

let vsftpdUserReady: Promise<Account> | undefined;

/**
 * Creates (once per machine, idempotently) the system user VSFTPD_USER for vsftpd's PAM logins,
 * and (re)sets its password. Needs root. Debian's /etc/pam.d/vsftpd then requires: the user not in
 * /etc/ftpusers (pam_listfile), a shell listed in /etc/shells (pam_shells), and a pam_unix password.
 */
export function ensureVsftpdUser(): Promise<Account> {
  vsftpdUserReady ??= (async () => {
    assertRoot("creating the vsftpd test user");
    const home = "/var/lib/ftp-doctor-test/ftpdoctor";
    let account = await getAccount(VSFTPD_USER.user);
    if (account === null) {
      mkdirSync(path.dirname(home), { recursive: true });
      const r = await runCommand(
        "useradd",
        ["--system", "--home-dir", home, "--create-home", "--shell", "/bin/bash", "--comment", "ftp-doctor test user", VSFTPD_USER.user],
        { timeoutMs: 15_000 },
      );
      // 9 = already exists: another test process created it meanwhile.
      if (r.code !== 0 && r.code !== 9) throw new Error(`useradd ${VSFTPD_USER.user} failed: ${r.stderr}`);
      account = await getAccount(VSFTPD_USER.user);
      if (account === null) throw new Error(`user ${VSFTPD_USER.user} still missing after useradd`);
    }
    const shells = readIfExists("/etc/shells");
    if (!shells.split("\n").includes(account.shell)) {
      throw new Error(
        `${VSFTPD_USER.user}'s shell ${account.shell} is not in /etc/shells: pam_shells in /etc/pam.d/vsftpd will refuse the login`,
      );
    }
    const ftpusers = readIfExists("/etc/ftpusers");
    if (
      ftpusers
        .split("\n")
        .map((l) => l.trim())
        .includes(VSFTPD_USER.user)
    ) {
      throw new Error(`${VSFTPD_USER.user} is listed in /etc/ftpusers: pam_listfile will refuse the login`);
    }
    // chpasswd locks /etc/shadow; a parallel test process may hold the lock for a moment.
    for (let attempt = 0; ; attempt++) {
      const r = await runCommand("chpasswd", [], { input: `${VSFTPD_USER.user}:${VSFTPD_USER.password}\n`, timeoutMs: 15_000 });
      if (r.code === 0) break;
      if (attempt >= 10) throw new Error(`chpasswd for ${VSFTPD_USER.user} failed: ${r.stderr}`);
      await sleep(200);
    }
    return account;
  })();
  vsftpdUserReady.catch(() => {
    vsftpdUserReady = undefined;
  });
  return vsftpdUserReady;
}

const yesNo = (v: string | number | boolean): string => (typeof v === "boolean" ? (v ? "YES" : "NO") : String(v));

/** vsftpd 3.0.3 in standalone mode, foreground. */
export async function startVsftpd(opts: VsftpdOptions = {}): Promise<RunningServer> {
  assertRoot("vsftpd");
  const vsftpd = requireTool("vsftpd");
  const localUsers = opts.localUsers ?? false;
  const anonymous = opts.anonymous ?? !localUsers;
  const p = await prepare(opts, "ftpd-vsftpd-");
  return cleanOnFailure(p, async () => {
    // Checked by vsftpd at every session start, not at startup: a missing one makes every
    // greeting "500 OOPS: vsftpd: not found: directory given in 'secure_chroot_dir':<path>".
    const emptyDir = path.join(p.dir, "empty");
    mkdirSync(emptyDir, { mode: 0o755 });

    let anonRoot = opts.anonRoot;
    if (anonymous && anonRoot === undefined) {
      anonRoot = path.join(p.dir, "anon");
      mkdirSync(anonRoot);
      writeSampleFiles(anonRoot);
      chmodSync(anonRoot, 0o555); // root-owned, not writable: see VsftpdOptions.anonRoot
    }

    let localRoot = opts.localRoot;
    if (localUsers) {
      const account = await ensureVsftpdUser();
      if (localRoot === undefined) {
        localRoot = path.join(p.dir, "home");
        mkdirSync(localRoot, { mode: 0o755 });
        writeSampleFiles(localRoot, account.uid, account.gid);
        chownSync(localRoot, account.uid, account.gid);
      }
    }

    const ipv6 = net.isIPv6(p.host);
    const conf = new Map<string, string>([
      // vsftpd's default is inetd mode; listen=YES makes it a standalone daemon and background=NO
      // keeps it in the foreground (otherwise it forks and the parent exits at once).
      ["listen", ipv6 ? "NO" : "YES"],
      ["listen_ipv6", ipv6 ? "YES" : "NO"],
      [ipv6 ? "listen_address6" : "listen_address", p.host],
      ["listen_port", String(p.port)],
      ["background", "NO"],
      // With the default seccomp_sandbox=YES the session process is killed by the filter on this
      // kernel/libc: LIST dies after EPSV (curl: "RETR response: 500") and the TLS handshake after
      // "234 Proceed with negotiation." fails. Not what we test.
      ["seccomp_sandbox", "NO"],
      ["secure_chroot_dir", emptyDir],
      // No port-20 binding for active mode: parallel servers (and netns tests) would fight over it.
      ["connect_from_port_20", "NO"],
      ["pasv_enable", "YES"],
      ["pasv_min_port", String(p.pasvRange[0])],
      ["pasv_max_port", String(p.pasvRange[1])],
      // Built-in default is anonymous_enable=YES: always say which we want.
      ["anonymous_enable", anonymous ? "YES" : "NO"],
      ["local_enable", localUsers ? "YES" : "NO"],
      ["write_enable", "YES"],
      ["anon_upload_enable", "NO"],
      ["anon_mkdir_write_enable", "NO"],
      // Debian's /etc/pam.d/vsftpd: pam_listfile (/etc/ftpusers), common-auth, pam_shells.
      ["pam_service_name", "vsftpd"],
      ["xferlog_enable", "YES"],
      ["vsftpd_log_file", path.join(p.dir, "vsftpd.log")],
      ["dual_log_enable", "YES"],
      ["xferlog_file", path.join(p.dir, "xferlog")],
      // Every command and reply goes to vsftpd.log: the best evidence when a test fails.
      ["log_ftp_protocol", "YES"],
      ["use_localtime", "NO"],
      ["dirmessage_enable", "NO"],
    ]);
    if (anonRoot !== undefined) conf.set("anon_root", anonRoot);
    if (localRoot !== undefined) conf.set("local_root", localRoot);
    if (opts.tls) {
      const files = writeTlsFiles(p.dir, opts.tls);
      conf.set("ssl_enable", "YES");
      // vsftpd loads rsa_cert_file with SSL_CTX_use_certificate_chain_file: leaf then intermediates.
      conf.set("rsa_cert_file", files.fullChain);
      conf.set("rsa_private_key_file", files.key);
      // (Debian's build defaults ssl_ciphers to ECDHE-RSA-AES256-GCM-SHA384 only, upstream 3.0.3 to
      // DES-CBC3-SHA; TLS 1.3 suites are not affected. We keep the distribution's default.)
      // Anonymous sessions over TLS are refused by default ("530 Anonymous sessions may not use
      // encryption."); allow them so an anonymous FTPS server is possible. force_local_logins_ssl
      // and force_local_data_ssl keep vsftpd's defaults (YES): plain local logins get
      // "530 Non-anonymous sessions must use encryption." as on a real FTPS-only server.
      conf.set("allow_anon_ssl", "YES");
    }
    for (const [k, v] of Object.entries(opts.extra ?? {})) conf.set(k, yesNo(v));

    const confFile = path.join(p.dir, "vsftpd.conf");
    const confText = `${[...conf].map(([k, v]) => `${k}=${v}`).join("\n")}\n`;
    // vsftpd refuses a config file not owned by the user running it ("500 OOPS: config file not
    // owned by correct user, or not a file"); root writes it here and runs it.
    writeFileSync(confFile, confText, { mode: 0o600 });

    const logText = (): string =>
      [
        `== ${confFile} ==`,
        confText,
        "== vsftpd.log ==",
        readIfExists(path.join(p.dir, "vsftpd.log")),
        "== xferlog ==",
        readIfExists(path.join(p.dir, "xferlog")),
      ].join("\n");
    // vsftpd writes its start-up errors ("500 OOPS: ...") to fd 0, not stderr: point fd 0 at the
    // stdout pipe so they reach us. `exec` keeps the PID vsftpd's own.
    return launch("vsftpd", "/bin/sh", ["-c", 'exec "$0" "$@" 0>&1', vsftpd, confFile], p, opts, logText);
  });
}

// ---------------------------------------------------------------------------------------------
// ProFTPD

export interface ProftpdOptions extends DaemonOptions {
  /** `<Anonymous>` block for `anonymous`/`ftp`, read-only. @defaultValue false */
  anonymous?: boolean;
  /** @defaultValue `<dir>/anon` */
  anonRoot?: string;
  /** Users in the AuthUserFile. @defaultValue [PROFTPD_USER] */
  users?: readonly Credentials[];
  /** Listen on IPv6 too (`UseIPv6 on`). @defaultValue true when listenAddress is IPv6 */
  ipv6?: boolean;
  /** Raw config text appended at the end (for `<Limit>`, `<IfModule>`, `<Directory>` blocks). */
  rawConfig?: string;
}

const onOff = (v: string | number | boolean): string => (typeof v === "boolean" ? (v ? "on" : "off") : String(v));

export async function cryptPassword(password: string): Promise<string> {
  // SHA-512 crypt, which ProFTPD's mod_auth_file checks with crypt(3).
  const openssl = requireTool("openssl");
  return (await runCommandChecked(openssl, ["passwd", "-6", "-stdin"], `${password}\n`)).trim();
}

async function runCommandChecked(cmd: string, args: string[], input: string): Promise<string> {
  const r = await runCommand(cmd, args, { input, timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** ProFTPD 1.3.8 standalone, foreground (`proftpd -n -c conf`), users from its own AuthUserFile. */
export async function startProftpd(opts: ProftpdOptions = {}): Promise<RunningServer> {
  assertRoot("proftpd");
  const proftpd = requireTool("proftpd");
  const modulePath = path.join(depsDir(), "usr", "lib", "proftpd");
  const p = await prepare(opts, "ftpd-proftpd-");
  return cleanOnFailure(p, async () => {
    const nobody = await getAccount("nobody");
    if (nobody === null) throw new Error("proftpd: needs the system user nobody");
    const nogroup = await groupName(nobody.gid);

    // Virtual users: uid/gid of nobody, homes inside our dir. ProFTPD only sees these accounts
    // (AuthOrder mod_auth_file.c), so nothing depends on the machine's /etc/passwd.
    const users = opts.users ?? [PROFTPD_USER];
    const passwdLines: string[] = [];
    for (const u of users) {
      const home = path.join(p.dir, "home", u.user);
      mkdirSync(home, { recursive: true, mode: 0o755 });
      writeSampleFiles(home, nobody.uid, nobody.gid);
      chownSync(home, nobody.uid, nobody.gid);
      passwdLines.push(`${u.user}:${await cryptPassword(u.password)}:${nobody.uid}:${nobody.gid}:ftp-doctor test:${home}:/bin/sh`);
    }
    const anonymous = opts.anonymous ?? false;
    let anonRoot = opts.anonRoot;
    if (anonymous) {
      if (anonRoot === undefined) {
        anonRoot = path.join(p.dir, "anon");
        mkdirSync(anonRoot, { mode: 0o755 });
        writeSampleFiles(anonRoot);
      }
      // The <Anonymous> block's `User ftp` is resolved through AuthOrder too, so it must be here.
      passwdLines.push(`ftp:*:${nobody.uid}:${nobody.gid}:anonymous:${anonRoot}:/bin/false`);
    }
    const passwdFile = path.join(p.dir, "ftpd.passwd");
    const groupFile = path.join(p.dir, "ftpd.group");
    // mod_auth_file refuses a world-READABLE file at startup ("fatal: AuthUserFile: unable to use
    // ...: Operation not permitted", after "unable to use world-readable AuthUserFile ... (perms
    // 0644)"); 0600 root works.
    writeFileSync(passwdFile, `${passwdLines.join("\n")}\n`, { mode: 0o600 });
    writeFileSync(groupFile, `${nogroup}:x:${nobody.gid}:\n`, { mode: 0o600 });

    const ipv6 = opts.ipv6 ?? net.isIPv6(p.host);
    const conf = new Map<string, string>([
      ["ServerName", '"ftp-doctor test"'],
      ["ServerType", "standalone"],
      // DefaultAddress + SocketBindTight: bind only the listen address, not every interface.
      // (DefaultServer is then ignored, with a log line saying so, so we leave it out.)
      ["DefaultAddress", p.host],
      ["SocketBindTight", "on"],
      ["Port", String(p.port)],
      ["UseIPv6", ipv6 ? "on" : "off"],
      // Reverse DNS of each client can stall the greeting for seconds without a resolver.
      ["UseReverseDNS", "off"],
      ["WtmpLog", "off"],
      ["User", "nobody"],
      ["Group", nogroup],
      ["ScoreboardFile", path.join(p.dir, "proftpd.scoreboard")],
      ["PidFile", path.join(p.dir, "proftpd.pid")],
      ["DelayTable", path.join(p.dir, "proftpd.delay")],
      ["SystemLog", path.join(p.dir, "proftpd.log")],
      ["TransferLog", path.join(p.dir, "xferlog")],
      ["ExtendedLog", `${path.join(p.dir, "extended.log")} ALL`],
      ["AuthOrder", "mod_auth_file.c"],
      ["AuthUserFile", passwdFile],
      ["AuthGroupFile", groupFile],
      // Our users have /bin/sh, but keep working for shells a test may want to break.
      ["RequireValidShell", "off"],
      ["PassivePorts", `${p.pasvRange[0]} ${p.pasvRange[1]}`],
      ["MaxInstances", "50"],
      ["Umask", "022"],
      ["AllowOverwrite", "on"],
      ["TimesGMT", "on"],
    ]);
    const modules = [
      "# IdentLookups lives in mod_ident, a DSO: without it loaded the directive is a fatal",
      '# "unknown configuration directive"; not loading it means no ident lookups at all.',
    ];
    let tlsLog: string | null = null;
    if (opts.tls) {
      const files = writeTlsFiles(p.dir, opts.tls);
      tlsLog = path.join(p.dir, "tls.log");
      modules.push("LoadModule mod_tls.c");
      conf.set("TLSEngine", "on");
      conf.set("TLSLog", tlsLog);
      conf.set("TLSProtocol", "TLSv1.2 TLSv1.3");
      conf.set("TLSRSACertificateFile", files.cert);
      conf.set("TLSRSACertificateKeyFile", files.key);
      if (files.chain !== null) conf.set("TLSCertificateChainFile", files.chain);
      conf.set("TLSVerifyClient", "off");
      // TLS offered, not required: tests require it with extra { TLSRequired: 'on' }.
      conf.set("TLSRequired", "off");
      conf.set("TLSRenegotiate", "none");
    }
    for (const [k, v] of Object.entries(opts.extra ?? {})) conf.set(k, onOff(v));

    const blocks: string[] = [];
    if (anonymous && anonRoot !== undefined) {
      blocks.push(
        `<Anonymous ${anonRoot}>`,
        "  User ftp",
        `  Group ${nogroup}`,
        "  UserAlias anonymous ftp",
        "  RequireValidShell off",
        "  <Limit WRITE>",
        "    DenyAll",
        "  </Limit>",
        "</Anonymous>",
      );
    }
    const confText = `${[
      `ModulePath ${modulePath}`,
      ...modules,
      "<IfModule mod_ident.c>",
      "  IdentLookups off",
      "</IfModule>",
      ...[...conf].map(([k, v]) => `${k} ${v}`),
      ...blocks,
      opts.rawConfig ?? "",
    ].join("\n")}\n`;
    const confFile = path.join(p.dir, "proftpd.conf");
    writeFileSync(confFile, confText, { mode: 0o600 });

    const logText = (): string =>
      [
        `== ${confFile} ==`,
        confText,
        "== proftpd.log ==",
        readIfExists(path.join(p.dir, "proftpd.log")),
        ...(tlsLog ? ["== tls.log ==", readIfExists(tlsLog)] : []),
        "== extended.log ==",
        readIfExists(path.join(p.dir, "extended.log")),
      ].join("\n");
    // -n: no daemon (foreground); -c: our config. (-q would quiet the stderr we want on failure.)
    return launch("proftpd", proftpd, ["-n", "-c", confFile], p, opts, logText);
  });
}

// ---------------------------------------------------------------------------------------------
// Pure-FTPd

export interface PureFtpdOptions extends DaemonOptions {
  /**
   * Anonymous logins. Pure-FTPd takes the anonymous root from the home of the system user `ftp`
   * (no option for it), so the launcher runs the daemon in a private mount namespace with
   * anonRoot bind-mounted over that home. Needs the `ftp` user (the vsftpd package creates it).
   * @defaultValue false (`-E`: without it Pure-FTPd allows anonymous whenever `ftp` exists)
   */
  anonymous?: boolean;
  /** @defaultValue `<dir>/anon` */
  anonRoot?: string;
  /**
   * `--tls` level when tls is given: 1 = optional, 2 = required for login, 3 = required for
   * login and data. @defaultValue 1
   */
  tlsLevel?: 1 | 2 | 3;
  /**
   * How PUREFTPD_USER's password is hashed. 'pure-pw-argon2' runs `pure-pw useradd` as an admin
   * would (argon2id: ~3 s to create and ~3 s per login).
   * @defaultValue 'sha512-crypt' (fast logins)
   */
  passwordHash?: "sha512-crypt" | "pure-pw-argon2";
}

/** Pure-FTPd 1.0.50 standalone, foreground (no -B), puredb virtual user PUREFTPD_USER. */
export async function startPureFtpd(opts: PureFtpdOptions = {}): Promise<RunningServer> {
  assertRoot("pure-ftpd");
  const pureFtpd = requireTool("pure-ftpd");
  const purePw = requireTool("pure-pw");
  const p = await prepare(opts, "ftpd-pureftpd-");
  return cleanOnFailure(p, async () => {
    const nobody = await getAccount("nobody");
    if (nobody === null) throw new Error("pure-ftpd: needs the system user nobody");

    const home = path.join(p.dir, "home", PUREFTPD_USER.user);
    mkdirSync(home, { recursive: true, mode: 0o755 });
    writeSampleFiles(home, nobody.uid, nobody.gid);
    chownSync(home, nobody.uid, nobody.gid);

    // The puredb holds PUREFTPD_USER. `pure-pw useradd` hashes the password with argon2id tuned to
    // ~3 s of CPU, and Pure-FTPd then spends those 3 s again on EVERY login (clients time out, tests
    // crawl). pure-ftpd checks any crypt(3) hash, so by default we write the passwd line with a
    // SHA-512 crypt hash ourselves and only let `pure-pw mkdb` build the indexed database.
    // (pure-pw reads PURE_PASSWDFILE / PURE_DBFILE - no underscore before FILE: PURE_PASSWD_FILE is
    // silently ignored and it writes /etc/pure-ftpd/pureftpd.passwd instead.)
    const passwdFile = path.join(p.dir, "pureftpd.passwd");
    const pdbFile = path.join(p.dir, "pureftpd.pdb");
    const pwEnv = { ...process.env, PURE_PASSWDFILE: passwdFile, PURE_DBFILE: pdbFile };
    if (opts.passwordHash === "pure-pw-argon2") {
      // The documented way: the password twice on stdin ("Password:", "Enter it again:"); -m runs mkdb.
      const pw = await runCommand(
        purePw,
        ["useradd", PUREFTPD_USER.user, "-f", passwdFile, "-u", String(nobody.uid), "-g", String(nobody.gid), "-d", home, "-m"],
        { input: `${PUREFTPD_USER.password}\n${PUREFTPD_USER.password}\n`, env: pwEnv, timeoutMs: 60_000 },
      );
      if (pw.code !== 0 || !existsSync(pdbFile))
        throw new Error(`pure-pw useradd failed (exit ${String(pw.code)}): ${pw.stderr}${pw.stdout}`);
    } else {
      const hash = await cryptPassword(PUREFTPD_USER.password);
      // login:hash:uid:gid:gecos:home/./ ("/./" = chroot to home, as pure-pw useradd -d writes it) + 12 empty limit fields
      writeFileSync(passwdFile, `${PUREFTPD_USER.user}:${hash}:${nobody.uid}:${nobody.gid}::${home}/./::::::::::::\n`, { mode: 0o600 });
      const pw = await runCommand(purePw, ["mkdb", pdbFile, "-f", passwdFile], { env: pwEnv, timeoutMs: 15_000 });
      if (pw.code !== 0 || !existsSync(pdbFile)) throw new Error(`pure-pw mkdb failed (exit ${String(pw.code)}): ${pw.stderr}${pw.stdout}`);
    }

    const anonymous = opts.anonymous ?? false;
    let anonRoot = opts.anonRoot;
    let ftpHome: string | null = null;
    if (anonymous) {
      const ftp = await getAccount("ftp");
      if (ftp === null || ftp.uid === 0)
        throw new Error("pure-ftpd anonymous mode needs a non-root system user `ftp` (apt-get install vsftpd creates it)");
      if (!existsSync(ftp.home))
        throw new Error(`pure-ftpd anonymous mode: home of user ftp (${ftp.home}) does not exist to bind-mount over`);
      ftpHome = ftp.home;
      if (anonRoot === undefined) {
        anonRoot = path.join(p.dir, "anon");
        mkdirSync(anonRoot, { mode: 0o755 });
        writeSampleFiles(anonRoot);
      }
    }

    const flags = new Map<string, string | true>([
      ["-S", `${p.host},${p.port}`],
      ["-p", `${p.pasvRange[0]}:${p.pasvRange[1]}`],
      ["-l", `puredb:${pdbFile}`],
      ["-g", path.join(p.dir, "pure-ftpd.pid")],
      ["-O", `clf:${path.join(p.dir, "xferlog")}`],
      // No reverse DNS per client (it would stall the greeting without a resolver).
      ["-H", true],
    ]);
    if (!anonymous) flags.set("-E", true);
    if (opts.tls) {
      const files = writeTlsFiles(p.dir, opts.tls);
      flags.set("-Y", String(opts.tlsLevel ?? 1));
      // One PEM with the key, the certificate and the intermediates (loaded as a chain file).
      flags.set("-2", files.keyAndChain);
    }
    for (const [k, v] of Object.entries(opts.extra ?? {})) {
      if (v === false) flags.delete(k);
      else flags.set(k, v === true ? true : String(v));
    }
    const args: string[] = [];
    for (const [k, v] of flags) {
      args.push(k);
      if (v !== true) args.push(v);
    }

    let cmd = pureFtpd;
    let argv = args;
    if (anonymous && anonRoot !== undefined && ftpHome !== null) {
      // Private mount namespace: the bind mount is invisible to the rest of the machine and goes
      // away with the daemon. `unshare` execs and `sh` execs, so the PID we hold is pure-ftpd's.
      const unshare = requireTool("unshare");
      const quoted = [pureFtpd, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
      cmd = unshare;
      argv = ["--mount", "--propagation", "private", "sh", "-c", `mount --bind '${anonRoot}' '${ftpHome}' && exec ${quoted}`];
    }

    const logText = (): string =>
      [
        "== pure-ftpd args ==",
        [pureFtpd, ...args].join(" "),
        "(session messages go to syslog, which this harness does not capture; startup errors are in stderr)",
        "== xferlog ==",
        readIfExists(path.join(p.dir, "xferlog")),
      ].join("\n");
    return launch("pure-ftpd", cmd, argv, p, opts, logText);
  });
}
