/**
 * The two classic BSD-derived inetd-style daemons from Debian, unpacked into .deps/root (they
 * conflict with vsftpd and with each other: all three Provide ftp-server):
 *
 * - GNU inetutils ftpd 2.4 (`inetutils-ftpd`, .deps/root/usr/sbin/ftpd), no TLS;
 * - netkit ftpd with SSL (`ftpd` → `ftpd-ssl` 0.17, .deps/root/usr/sbin/in.ftpd), AUTH TLS via `-z`.
 *
 * Neither can listen on a port of our choosing (standalone `-D` binds the `ftp` service, port 21),
 * so each runs as an inetd `nowait` service under bin/inetd.ts: one daemon per connection, the
 * socket as stdin/stdout. Both authenticate system users through PAM (service `ftp`; without
 * /etc/pam.d/ftp PAM uses /etc/pam.d/other = common-auth) and take anonymous logins into the home
 * of the system user `ftp`, and both read /etc/ftpusers. So the listener runs in a private mount
 * namespace where we bind-mount, invisibly to the rest of the machine: our anonymous root over
 * ~ftp, our own /etc/ftpusers (which also switches anonymous off, as their man pages say), and a
 * fresh home for VSFTPD_USER (the system user the vsftpd harness creates) over its home.
 */
import { chmodSync, chownSync, cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  assertRoot,
  cleanOnFailure,
  type DaemonOptions,
  ensureVsftpdUser,
  getAccount,
  launch,
  prepare,
  type RunningServer,
  writeSampleFiles,
  writeTlsFiles,
} from "./daemons.js";
import { depsDir, requireTool } from "./env.js";

export interface InetdFtpdOptions extends Omit<DaemonOptions, "extra" | "pasvRange"> {
  /** Anonymous logins (`ftp`/`anonymous`) into a fresh `<dir>/anon` (root-owned, read-only). @defaultValue false */
  anonymous?: boolean;
  /** Add VSFTPD_USER to /etc/ftpusers (the deny list). @defaultValue false */
  denyUser?: boolean;
  /**
   * VSFTPD_USER's home: 'fresh' (a new writable dir with the sample files), 'readonly' (the same,
   * root-owned 0755), 'missing' (its parent hidden by an empty dir, so the home does not exist).
   * @defaultValue 'fresh'
   */
  home?: "fresh" | "readonly" | "missing";
  /** Also create `<home>/<name>`, root-owned 0700: a directory the user may not enter (home 'fresh' only). */
  forbiddenDir?: string;
  /** xinetd-style limit on simultaneous sessions: extra connections are closed at once, silently. */
  maxSessions?: number;
  /** Extra daemon arguments (e.g. inetutils `-q`, netkit `-z secure`). */
  args?: string[];
}

export interface NetkitFtpdOptions extends InetdFtpdOptions {
  /** netkit `-z secure`: refuse sessions that do not negotiate TLS. @defaultValue false */
  tlsRequired?: boolean;
}

const INETD_SCRIPT = fileURLToPath(new URL("./bin/inetd.js", import.meta.url));

const quote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

async function startInetd(
  name: string,
  daemon: string,
  daemonArgs: (dir: string) => string[],
  opts: InetdFtpdOptions,
  pamFtp = false,
): Promise<RunningServer> {
  assertRoot(name);
  const unshare = requireTool("unshare");
  const p = await prepare({ ...opts, pasvRange: [0, 0] }, `ftpd-${name}-`);
  return cleanOnFailure(p, async () => {
    const account = await ensureVsftpdUser();
    const ftp = await getAccount("ftp");
    if (ftp === null || ftp.uid === 0) throw new Error(`${name} needs the non-root system user ftp (apt-get install vsftpd creates it)`);
    const binds: [string, string][] = [];

    // Anonymous root over ~ftp (both daemons chroot anonymous sessions there).
    const anonRoot = path.join(p.dir, "anon");
    mkdirSync(anonRoot, { mode: 0o755 });
    writeSampleFiles(anonRoot);
    binds.push([anonRoot, ftp.home]);

    // /etc/ftpusers: the machine's list, plus `ftp`/`anonymous` to refuse anonymous logins.
    const denied = readFileSync("/etc/ftpusers", "utf8").split("\n");
    if (!opts.anonymous) denied.push("ftp", "anonymous");
    if (opts.denyUser) denied.push(account.home === "" ? "ftpdoctor" : path.basename(account.home));
    const ftpusers = path.join(p.dir, "ftpusers");
    writeFileSync(ftpusers, `${denied.join("\n")}\n`, { mode: 0o644 });
    binds.push([ftpusers, "/etc/ftpusers"]);

    const home = opts.home ?? "fresh";
    if (home === "missing") {
      const empty = path.join(p.dir, "no-homes");
      mkdirSync(empty, { mode: 0o755 });
      binds.push([empty, path.dirname(account.home)]);
    } else {
      const fresh = path.join(p.dir, "home");
      mkdirSync(fresh, { mode: 0o755 });
      if (home === "fresh") {
        writeSampleFiles(fresh, account.uid, account.gid);
        chownSync(fresh, account.uid, account.gid);
        if (opts.forbiddenDir !== undefined) mkdirSync(path.join(fresh, opts.forbiddenDir), { mode: 0o700 });
      } else {
        writeSampleFiles(fresh);
        chmodSync(fresh, 0o755);
      }
      binds.push([fresh, account.home]);
    }

    if (pamFtp) {
      // netkit authenticates anonymous users through PAM too, and needs the package's
      // /etc/pam.d/ftp (pam_ftp.so "sufficient" for ftp/anonymous): without it PAM falls back to
      // /etc/pam.d/other and anonymous gets "550 Authentication failure". The package is only
      // unpacked, so a copy of /etc/pam.d with its ftp file goes over /etc/pam.d here.
      const pamDir = path.join(p.dir, "pam.d");
      cpSync("/etc/pam.d", pamDir, { recursive: true });
      cpSync(path.join(depsDir(), "etc", "pam.d", "ftp"), path.join(pamDir, "ftp"));
      binds.push([pamDir, "/etc/pam.d"]);
    }

    const argv = [
      process.execPath,
      INETD_SCRIPT,
      p.host,
      String(p.port),
      String(opts.maxSessions ?? 0),
      "--",
      daemon,
      ...daemonArgs(p.dir),
    ];
    const script = `${binds.map(([from, to]) => `mount --bind ${quote(from)} ${quote(to)}`).join(" && ")} && exec ${argv.map(quote).join(" ")}`;
    const logText = (): string =>
      [`== ${name} (inetd) ==`, argv.join(" "), "== mounts ==", ...binds.map(([from, to]) => `${from} → ${to}`)].join("\n");
    // `unshare` and `sh` exec: the PID we hold is the listener's; sessions are its children.
    return launch(name, unshare, ["--mount", "--propagation", "private", "sh", "-c", script], p, opts, logText);
  });
}

/** GNU inetutils ftpd 2.4 (no TLS), one process per connection under our inetd. */
export function startInetutilsFtpd(opts: InetdFtpdOptions = {}): Promise<RunningServer> {
  const ftpd = requireTool("inetutils-ftpd");
  return startInetd("inetutils-ftpd", ftpd, () => [...(opts.args ?? [])], opts);
}

/** netkit ftpd-ssl 0.17 (`in.ftpd`), one process per connection under our inetd; AUTH TLS with `tls`. */
export function startNetkitFtpd(opts: NetkitFtpdOptions = {}): Promise<RunningServer> {
  const ftpd = requireTool("in.ftpd");
  return startInetd(
    "netkit-ftpd",
    ftpd,
    (dir) => {
      const args: string[] = [];
      if (opts.tls) {
        const files = writeTlsFiles(dir, opts.tls);
        // One PEM with the key, the leaf and the intermediates: with cert= and key= as separate
        // files the handshake fails ("SSL_accept error … no shared cipher": the key is not used).
        args.push("-z", `cert=${files.keyAndChain}`);
        if (opts.tlsRequired) args.push("-z", "secure");
      } else {
        args.push("-z", "nossl");
      }
      return [...args, ...(opts.args ?? [])];
    },
    opts,
    true,
  );
}
