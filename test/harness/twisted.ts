/**
 * Twisted's FTP server (twisted.protocols.ftp 22.4, Debian python3-twisted) run by our small script
 * bin/twisted_ftpd.py, like the daemons in daemons.ts: foreground, own config, ports and state dir,
 * stopped by PID. One Python process (the reactor) serves every session, as nobody once listening.
 * Twisted's FTP has no TLS: plain FTP only.
 */
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  assertRoot,
  type Credentials,
  cleanOnFailure,
  type DaemonOptions,
  getAccount,
  launch,
  prepare,
  readIfExists,
  type RunningServer,
  writeSampleFiles,
} from "./daemons.js";
import { repoRoot, requireTool } from "./env.js";

/** User in the in-memory checker (no system account). */
export const TWISTED_USER: Credentials = { user: "erin", password: "Erin-Test-1" };

export interface TwistedFtpdOptions extends Omit<DaemonOptions, "extra" | "tls"> {
  /** FTPFactory.allowAnonymous with AllowAnonymousAccess, read-only root `<dir>/anon`. @defaultValue false */
  anonymous?: boolean;
  /** FTPFactory.connectionLimit: extra clients get Twisted's 421 overflow reply. @defaultValue unlimited */
  connectionLimit?: number;
  /** TWISTED_USER's home: 'fresh' (owned by nobody), 'readonly' (root-owned 0755), 'missing'. @defaultValue 'fresh' */
  home?: "fresh" | "readonly" | "missing";
  /** Also create `<home>/<name>`, root-owned 0700: a directory the server user may not enter. */
  forbiddenDir?: string;
  /** FTPFactory.welcomeMessage (the greeting after "220 "). @defaultValue Twisted's "Twisted <version> FTP Server" */
  welcomeMessage?: string;
}

const SERVER_SCRIPT = path.join(repoRoot, "test", "harness", "bin", "twisted_ftpd.py");

/** Twisted FTPFactory (plain FTP) in the foreground. */
export async function startTwistedFtpd(opts: TwistedFtpdOptions = {}): Promise<RunningServer> {
  assertRoot("twisted ftp");
  const python = requireTool("python3");
  const p = await prepare(opts, "ftpd-twisted-");
  return cleanOnFailure(p, async () => {
    const nobody = await getAccount("nobody");
    if (nobody === null) throw new Error("twisted ftp: needs the system user nobody");
    const home = path.join(p.dir, "home", TWISTED_USER.user);
    const mode = opts.home ?? "fresh";
    if (mode !== "missing") {
      mkdirSync(home, { recursive: true, mode: 0o755 });
      if (mode === "fresh") {
        writeSampleFiles(home, nobody.uid, nobody.gid);
        chownSync(home, nobody.uid, nobody.gid);
        if (opts.forbiddenDir !== undefined) mkdirSync(path.join(home, opts.forbiddenDir), { mode: 0o700 });
      } else {
        writeSampleFiles(home);
      }
    }
    let anonRoot: string | null = null;
    if (opts.anonymous) {
      anonRoot = path.join(p.dir, "anon");
      mkdirSync(anonRoot, { mode: 0o755 });
      writeSampleFiles(anonRoot);
    }
    const config = {
      host: p.host,
      port: p.port,
      pasvRange: p.pasvRange,
      users: [{ ...TWISTED_USER, home }],
      anonRoot,
      connectionLimit: opts.connectionLimit ?? null,
      welcomeMessage: opts.welcomeMessage ?? null,
      runAs: { uid: nobody.uid, gid: nobody.gid },
    };
    const configFile = path.join(p.dir, "twisted-ftpd.json");
    writeFileSync(configFile, JSON.stringify(config, null, 1), { mode: 0o600 });
    const logText = (): string => `== ${configFile} ==\n${readIfExists(configFile).replace(TWISTED_USER.password, "(redacted)")}`;
    return launch("twisted-ftpd", python, ["-u", SERVER_SCRIPT, configFile], p, opts, logText);
  });
}
