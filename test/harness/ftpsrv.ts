/**
 * ftp-srv 4.x (npm `ftp-srv`, a Node FTP server library) run as its own process (bin/ftpsrv.ts),
 * like the Debian daemons in daemons.ts: foreground, own config, ports and state dir, stopped by PID.
 */
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FtpSrvProcessConfig } from "./bin/ftpsrv.js";
import {
  type Credentials,
  cleanOnFailure,
  type DaemonOptions,
  getAccount,
  launch,
  prepare,
  type RunningServer,
  writeSampleFiles,
  writeTlsFiles,
} from "./daemons.js";
import { freePortRange } from "./env.js";

/** User in ftp-srv's login listener (a table in the config file; no system account). */
export const FTPSRV_USER: Credentials = { user: "carol", password: "Carol-Test-1" };

export interface FtpSrvOptions extends Omit<DaemonOptions, "extra"> {
  /** Anonymous logins (`anonymous` user, any password) into `<dir>/anon`. @defaultValue false */
  anonymous?: boolean;
  /**
   * ftp-srv `pasv_url`: the address PASV advertises to non-local clients (local clients get their
   * own address back). null leaves it unset: PASV then answers 502, EPSV still works.
   * @defaultValue the listen address
   */
  pasvUrl?: string | null;
  /** Implicit FTPS (`ftps://` URL) instead of explicit AUTH TLS, when tls is given. @defaultValue false */
  implicit?: boolean;
  /** ftp-srv `blacklist`, e.g. ['PASV', 'EPSV']. @defaultValue [] */
  blacklist?: string[];
  /** Node server maxConnections (what an app embedding ftp-srv sets). @defaultValue unlimited */
  maxConnections?: number;
  /**
   * FTPSRV_USER's root. ftp-srv does not check it at login; the first LIST/CWD fails.
   * @defaultValue `<dir>/home/carol`, owned by nobody
   */
  userRoot?: string;
  /** Run as nobody after binding (file permissions then apply). @defaultValue true */
  dropPrivileges?: boolean;
}

/** Path of the compiled server process (dist/test/harness/bin/ftpsrv.js beside this file). */
const SERVER_SCRIPT = fileURLToPath(new URL("./bin/ftpsrv.js", import.meta.url));

/** ftp-srv in its own Node process, as nobody, with FTPSRV_USER (and optionally anonymous). */
export async function startFtpSrv(opts: FtpSrvOptions = {}): Promise<RunningServer> {
  // ftp-srv 4.6 leaves a PASV listener open for its 30 s idle timeout when EPSV follows at once
  // (every check sends both), and its port finder gives up after 5 busy ports ("400 Unable to
  // find valid port"): a dozen checks in a row exhaust a 10-port range. 40 ports, as a real
  // deployment would give it, keep a test's burst of checks from measuring that leak.
  const p = await prepare({ ...opts, pasvRange: opts.pasvRange ?? (await freePortRange(40)) }, "ftpd-ftpsrv-");
  return cleanOnFailure(p, async () => {
    const nobody = await getAccount("nobody");
    if (nobody === null) throw new Error("ftp-srv: needs the system user nobody");
    const drop = opts.dropPrivileges ?? true;

    let userRoot = opts.userRoot;
    if (userRoot === undefined) {
      userRoot = path.join(p.dir, "home", FTPSRV_USER.user);
      mkdirSync(userRoot, { recursive: true, mode: 0o755 });
      writeSampleFiles(userRoot, nobody.uid, nobody.gid);
      chownSync(userRoot, nobody.uid, nobody.gid);
    }
    let anonRoot: string | null = null;
    if (opts.anonymous) {
      anonRoot = path.join(p.dir, "anon");
      mkdirSync(anonRoot, { mode: 0o755 }); // root-owned: anonymous can read, not write
      writeSampleFiles(anonRoot);
    }
    let tls: FtpSrvProcessConfig["tls"] = null;
    if (opts.tls) {
      const files = writeTlsFiles(p.dir, opts.tls);
      // ftp-srv hands `cert` to tls.createSecureContext: the leaf and its intermediates in one PEM.
      tls = { certFile: files.fullChain, keyFile: files.key };
    }
    const config: FtpSrvProcessConfig = {
      host: p.host,
      port: p.port,
      pasvRange: p.pasvRange,
      pasvUrl: opts.pasvUrl === undefined ? p.host : opts.pasvUrl,
      tls,
      implicit: opts.implicit ?? false,
      anonRoot,
      users: [{ ...FTPSRV_USER, root: userRoot }],
      blacklist: opts.blacklist ?? [],
      maxConnections: opts.maxConnections ?? null,
      runAs: drop ? { uid: nobody.uid, gid: nobody.gid } : null,
    };
    const configFile = path.join(p.dir, "ftpsrv.json");
    writeFileSync(configFile, JSON.stringify(config, null, 1), { mode: 0o600 });
    const logText = (): string => `== ${configFile} ==\n${JSON.stringify({ ...config, users: "(redacted)" }, null, 1)}`;
    return launch("ftp-srv", process.execPath, [SERVER_SCRIPT, configFile], p, opts, logText);
  });
}
