/**
 * ftp-srv (npm, 4.x) as a process of its own, so the harness runs it like the Debian daemons:
 * foreground, own ports and state dir, stopped by PID (see startFtpSrv in ../ftpsrv.ts).
 *
 *   node ftpsrv.js <config.json>
 *
 * The config is written by the launcher (FtpSrvProcessConfig). What ftp-srv offers an operator is
 * all we use: its constructor options, a `login` listener checking a user table, and (as an
 * application embedding it would) the Node server's `maxConnections`. Logs go to stdout as JSON
 * lines, which the harness captures.
 */
import { readFileSync } from "node:fs";
import { FtpSrv } from "ftp-srv";

export interface FtpSrvProcessConfig {
  host: string;
  port: number;
  pasvRange: [number, number];
  /** ftp-srv `pasv_url`. Null: PASV answers "502 Command not supported" (EPSV still works). */
  pasvUrl: string | null;
  /** PEM files read before privileges are dropped. */
  tls: { certFile: string; keyFile: string } | null;
  /** `ftps://` URL: TLS from the first byte (implicit FTPS). */
  implicit: boolean;
  /** Anonymous logins land here (ftp-srv `anonymous: true`). */
  anonRoot: string | null;
  users: { user: string; password: string; root: string }[];
  /** ftp-srv `blacklist`: commands answered "502 Command blacklisted: X". */
  blacklist: string[];
  /** Node's net.Server maxConnections: extra connections are closed at once, without a word. */
  maxConnections: number | null;
  /** Drop to this uid/gid once listening (as a daemon would), so file permissions apply. */
  runAs: { uid: number; gid: number } | null;
}

type Fields = Record<string, unknown>;
interface Logger {
  child(fields: Fields): Logger;
  trace(...args: unknown[]): void;
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** The bunyan-shaped logger ftp-srv expects, as JSON lines on stdout (no extra dependency). */
function makeLogger(fields: Fields): Logger {
  const write =
    (level: string) =>
    (...args: unknown[]): void => {
      const parts = args.map((a) => (a instanceof Error ? a.message : typeof a === "string" ? a : JSON.stringify(a)));
      process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), level, ...fields, msg: parts.join(" ") })}\n`);
    };
  return {
    child: (more) => makeLogger({ ...fields, ...more }),
    trace: write("trace"),
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
}

const configFile = process.argv[2];
if (configFile === undefined) {
  process.stderr.write("usage: ftpsrv.js <config.json>\n");
  process.exit(2);
}
const config = JSON.parse(readFileSync(configFile, "utf8")) as FtpSrvProcessConfig;
const tls = config.tls ? { cert: readFileSync(config.tls.certFile, "utf8"), key: readFileSync(config.tls.keyFile, "utf8") } : false;
const scheme = config.implicit ? "ftps" : "ftp";
const host = config.host.includes(":") ? `[${config.host}]` : config.host;

const server = new FtpSrv({
  url: `${scheme}://${host}:${config.port}`,
  pasv_min: config.pasvRange[0],
  pasv_max: config.pasvRange[1],
  ...(config.pasvUrl !== null ? { pasv_url: config.pasvUrl } : {}),
  tls,
  anonymous: config.anonRoot !== null,
  blacklist: config.blacklist,
  log: makeLogger({ name: "ftp-srv" }),
});

server.on("login", ({ username, password }, resolve, reject) => {
  if (config.anonRoot !== null && username === "anonymous") {
    resolve({ root: config.anonRoot });
    return;
  }
  const user = config.users.find((u) => u.user === username);
  // ftp-srv replies "530 <message>" with the rejection's message.
  if (user === undefined || user.password !== password) reject(new Error("Invalid username or password"));
  else resolve({ root: user.root });
});

await server.listen();
if (config.maxConnections !== null)
  (server as unknown as { server: { maxConnections: number } }).server.maxConnections = config.maxConnections;
if (config.runAs !== null) {
  process.setgroups?.([]);
  process.setgid?.(config.runAs.gid);
  process.setuid?.(config.runAs.uid);
}
process.stdout.write(`${JSON.stringify({ t: new Date().toISOString(), level: "info", msg: "ready" })}\n`);
