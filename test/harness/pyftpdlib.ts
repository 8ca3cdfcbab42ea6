/**
 * pyftpdlib 1.5.7 (Debian python3-pyftpdlib; TLS via python3-openssl) run by our small script
 * bin/pyftpd.py, like the daemons in daemons.ts: foreground, own config, ports and state dir,
 * stopped by PID. One Python process serves every session (no fork), as root, with pyftpdlib's
 * own virtual users (DummyAuthorizer) and permission letters.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  assertRoot,
  type Credentials,
  cleanOnFailure,
  type DaemonOptions,
  launch,
  prepare,
  readIfExists,
  type RunningServer,
  writeSampleFiles,
  writeTlsFiles,
} from "./daemons.js";
import { repoRoot, requireTool } from "./env.js";

/** Virtual user in pyftpdlib's DummyAuthorizer. */
export const PYFTPDLIB_USER: Credentials = { user: "dave", password: "Dave-Test-1" };

export interface PyftpdlibOptions extends Omit<DaemonOptions, "extra"> {
  /** `add_anonymous(<dir>/anon, perm)`. @defaultValue false */
  anonymous?: boolean;
  /** pyftpdlib permission letters for anonymous. @defaultValue 'elr' (read-only) */
  anonPerm?: string;
  /** pyftpdlib permission letters for PYFTPDLIB_USER. @defaultValue 'elradfmwMT' (all) */
  perm?: string;
  /** TLS_FTPHandler.tls_control_required (USER/PASS refused without AUTH TLS). @defaultValue false */
  tlsControlRequired?: boolean;
  /** TLS_FTPHandler.tls_data_required (PASV/EPSV/PORT/EPRT refused without PROT P). @defaultValue false */
  tlsDataRequired?: boolean;
  /** FTPServer.max_cons. @defaultValue pyftpdlib's 512 */
  maxCons?: number;
  /** FTPServer.max_cons_per_ip. @defaultValue pyftpdlib's 0 (unlimited) */
  maxConsPerIp?: number;
  /** FTPHandler.masquerade_address (what PASV advertises). */
  masqueradeAddress?: string;
  /** FTPHandler.auth_failed_timeout in seconds. @defaultValue pyftpdlib's 3 */
  authFailedTimeout?: number;
  /** Commands dropped from FTPHandler.proto_cmds (answered "500 Command "X" not understood."). */
  disabledCommands?: string[];
  /** Delete PYFTPDLIB_USER's home once the server has started (DummyAuthorizer checks it only at start). */
  removeHomeAfterStart?: boolean;
  /** Other FTPHandler class attributes, e.g. { banner: "..." }. */
  handlerAttrs?: Record<string, string | number | boolean>;
}

const SERVER_SCRIPT = path.join(repoRoot, "test", "harness", "bin", "pyftpd.py");

/** pyftpdlib FTPServer (or TLS_FTPHandler with `tls`: explicit FTPS) in the foreground. */
export async function startPyftpdlib(opts: PyftpdlibOptions = {}): Promise<RunningServer> {
  assertRoot("pyftpdlib");
  const python = requireTool("python3");
  const p = await prepare(opts, "ftpd-pyftpdlib-");
  return cleanOnFailure(p, async () => {
    const home = path.join(p.dir, "home", PYFTPDLIB_USER.user);
    mkdirSync(home, { recursive: true, mode: 0o755 });
    writeSampleFiles(home);
    let anonRoot: string | null = null;
    if (opts.anonymous) {
      anonRoot = path.join(p.dir, "anon");
      mkdirSync(anonRoot, { mode: 0o755 });
      writeSampleFiles(anonRoot);
    }
    let tls: Record<string, unknown> | null = null;
    if (opts.tls) {
      const files = writeTlsFiles(p.dir, opts.tls);
      // pyOpenSSL use_certificate_chain_file: leaf then intermediates.
      tls = {
        certFile: files.fullChain,
        keyFile: files.key,
        controlRequired: opts.tlsControlRequired ?? false,
        dataRequired: opts.tlsDataRequired ?? false,
      };
    }
    const config = {
      host: p.host,
      port: p.port,
      pasvRange: p.pasvRange,
      users: [{ ...PYFTPDLIB_USER, home, perm: opts.perm ?? "elradfmwMT" }],
      anonRoot,
      anonPerm: opts.anonPerm ?? "elr",
      tls,
      maxCons: opts.maxCons ?? null,
      maxConsPerIp: opts.maxConsPerIp ?? null,
      masqueradeAddress: opts.masqueradeAddress ?? null,
      authFailedTimeout: opts.authFailedTimeout ?? null,
      disabledCommands: opts.disabledCommands ?? [],
      removeAfterStart: opts.removeHomeAfterStart ? [home] : [],
      handlerAttrs: opts.handlerAttrs ?? {},
    };
    const configFile = path.join(p.dir, "pyftpd.json");
    writeFileSync(configFile, JSON.stringify(config, null, 1), { mode: 0o600 });
    const logText = (): string => `== ${configFile} ==\n${readIfExists(configFile).replace(PYFTPDLIB_USER.password, "(redacted)")}`;
    return launch("pyftpdlib", python, ["-u", SERVER_SCRIPT, configFile], p, opts, logText);
  });
}
