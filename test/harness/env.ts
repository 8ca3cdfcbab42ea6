/**
 * Test environment: where the repository and the FTP daemons are, per-test temp dirs, free ports,
 * and one process-exit safety net that the other harness modules hang their cleanups on.
 *
 * Daemons: vsftpd is an ordinary apt package (on PATH). proftpd and pure-ftpd conflict with it as
 * packages, so scripts/install-deps.sh unpacks them into `<repo>/.deps/root` (override with
 * FTP_DOCTOR_DEPS_DIR). Nothing here falls back to another location: CI must use what the script
 * installs, so a missing install step fails loudly instead of passing by accident.
 */
import { execFileSync, spawn } from "node:child_process";
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, chmodSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

// ---------------------------------------------------------------------------------------------
// Repository and dependency locations

function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        const parsed = JSON.parse(readFileSync(pkg, "utf8")) as { name?: unknown };
        if (parsed.name === "ftp-doctor") return dir;
      } catch {
        // not ours; keep walking up
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the ftp-doctor package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** Absolute path of the repository (works from test/harness and from dist/test/harness). */
export const repoRoot: string = findRepoRoot();

/** Root of the unpacked proftpd / pure-ftpd packages (`$FTP_DOCTOR_DEPS_DIR` or `<repo>/.deps/root`). */
export function depsDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.FTP_DOCTOR_DEPS_DIR;
  return fromEnv !== undefined && fromEnv !== "" ? path.resolve(fromEnv) : path.join(repoRoot, ".deps", "root");
}

export const INSTALL_HINT =
  "run `sudo bash scripts/install-deps.sh` (installs vsftpd, pyftpdlib, Twisted, curl, lftp, " +
  "iptables via apt; unpacks proftpd, pure-ftpd, inetutils ftpd and netkit ftpd into .deps/root)";

// ---------------------------------------------------------------------------------------------
// Tools

/** Binaries the harness knows how to find. */
export const TOOL_NAMES = [
  "vsftpd",
  "proftpd",
  "pure-ftpd",
  "pure-pw",
  "inetutils-ftpd",
  "in.ftpd",
  "python3",
  "curl",
  "lftp",
  "openssl",
  "ip",
  "iptables",
  "unshare",
  "prometheus",
  "promtool",
  "prometheus-alertmanager",
  "amtool",
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Things a test can need besides a binary. */
export type Requirement = ToolName | "root";

/** Where the unpacked daemons live relative to depsDir(). Everything else is looked up on PATH. */
const DEPS_TOOLS: Partial<Record<ToolName, string>> = {
  proftpd: "usr/sbin/proftpd",
  "pure-ftpd": "usr/sbin/pure-ftpd",
  "pure-pw": "usr/bin/pure-pw",
  // GNU inetutils ftpd and netkit ftpd (ftpd-ssl) conflict with vsftpd (all Provide ftp-server).
  "inetutils-ftpd": "usr/sbin/ftpd",
  "in.ftpd": "usr/sbin/in.ftpd",
};

export class MissingToolError extends Error {
  override readonly name = "MissingToolError";
  constructor(
    readonly requirement: Requirement,
    detail: string,
  ) {
    super(`${requirement} is not available (${detail}); ${INSTALL_HINT}`);
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(name: string): string | null {
  // sbin directories are often missing from PATH for non-login shells; the daemons live there.
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter(Boolean);
  for (const extra of ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"]) {
    if (!dirs.includes(extra)) dirs.push(extra);
  }
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

/**
 * Tools that must be the distribution's own, whatever PATH says: the python3-pyftpdlib and
 * python3-twisted packages install into Debian's /usr/bin/python3, not into a pyenv or venv python
 * that may come first on PATH.
 */
const SYSTEM_TOOLS: Partial<Record<ToolName, string>> = {
  python3: "/usr/bin/python3",
};

/** Absolute path of a tool, or null when it is not installed. */
export function findTool(name: ToolName): string | null {
  const fixed = SYSTEM_TOOLS[name];
  if (fixed !== undefined) return isExecutable(fixed) ? fixed : null;
  const rel = DEPS_TOOLS[name];
  if (rel !== undefined) {
    const file = path.join(depsDir(), rel);
    return isExecutable(file) ? file : null;
  }
  return searchPath(name);
}

/** Absolute path of a tool; throws MissingToolError (with the install hint) when it is missing. */
export function requireTool(name: ToolName): string {
  const found = findTool(name);
  if (found === null) {
    const rel = DEPS_TOOLS[name];
    throw new MissingToolError(name, rel !== undefined ? `expected ${path.join(depsDir(), rel)}` : "not on PATH");
  }
  return found;
}

export function isRoot(): boolean {
  return typeof process.getuid === "function" && process.getuid() === 0;
}

/** The requirements from `needs` that this machine lacks, each with a reason. */
export function missingRequirements(needs: readonly Requirement[]): string[] {
  const missing: string[] = [];
  for (const need of needs) {
    if (need === "root") {
      if (!isRoot()) missing.push("root (the daemons, users, namespaces and iptables need uid 0)");
    } else if (findTool(need) === null) {
      const rel = DEPS_TOOLS[need];
      missing.push(rel !== undefined ? `${need} (${path.join(depsDir(), rel)})` : `${need} (not on PATH)`);
    }
  }
  return missing;
}

function inCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI;
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

/**
 * Options for `test()` / `describe()` that skip when something is missing - except under CI
 * (`process.env.CI` set), where they return `{}` so the test runs and fails on the first
 * requireTool(), naming what is missing.
 *
 *   describe('vsftpd', requirementsOptions(['vsftpd', 'curl', 'root']), () => { ... })
 */
export function requirementsOptions(needs: readonly Requirement[]): { skip?: string } {
  const missing = missingRequirements(needs);
  if (missing.length === 0 || inCi()) return {};
  return { skip: `missing ${missing.join(", ")}; ${INSTALL_HINT}` };
}

/** The part of node:test's TestContext that needRequirements uses. */
export interface SkippableContext {
  skip(message?: string): void;
}

/**
 * Inside a test: returns true when everything is there. Otherwise, under CI it throws (the test
 * fails, naming what is missing); locally it marks the test skipped and returns false:
 *
 *   test('x', (t) => { if (!needRequirements(t, ['proftpd'])) return; ... })
 */
export function needRequirements(t: SkippableContext, needs: readonly Requirement[]): boolean {
  const missing = missingRequirements(needs);
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(", ")}; ${INSTALL_HINT}`;
  if (inCi()) throw new MissingToolError(needs[0] ?? "root", message);
  t.skip(message);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Exit safety net (shared by daemons, namespaces, servers)

type SyncCleanup = () => void;
const exitCleanups = new Set<SyncCleanup>();
let exitHooksInstalled = false;

function runExitCleanups(): void {
  for (const fn of [...exitCleanups].reverse()) {
    exitCleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort: the process is going away
    }
  }
}

/**
 * Registers a synchronous cleanup that runs when the process exits (normally, on an uncaught
 * error, or on SIGINT/SIGTERM/SIGHUP). Returns a function that unregisters it (call that from the
 * normal async cleanup path). Must be synchronous: on 'exit' the event loop is gone.
 */
export function onProcessExit(fn: SyncCleanup): () => void {
  if (!exitHooksInstalled) {
    exitHooksInstalled = true;
    process.on("exit", runExitCleanups);
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      // Only take over the signal while we have something to clean up, then re-raise it so the
      // exit status is the usual one for that signal.
      process.once(sig, () => {
        runExitCleanups();
        process.kill(process.pid, sig);
      });
    }
  }
  exitCleanups.add(fn);
  return () => {
    exitCleanups.delete(fn);
  };
}

// ---------------------------------------------------------------------------------------------
// Temp dirs

/** The part of node:test's TestContext / suite hooks used to register cleanups. */
export interface CleanupRegistrar {
  after(fn: () => unknown): void;
}

/**
 * A fresh directory under os.tmpdir() (prefix `ftpd-`), mode 0755 so daemons that drop privileges
 * (nobody, ftp) can traverse it. Removed by the registrar's after() when given, else on process exit;
 * `remove()` removes it at once.
 */
export function makeTempDir(registrar?: CleanupRegistrar, prefix = "ftpd-"): { path: string; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  chmodSync(dir, 0o755);
  const remove = (): void => {
    rmSync(dir, { recursive: true, force: true });
    unregister();
  };
  const unregister = onProcessExit(() => rmSync(dir, { recursive: true, force: true }));
  registrar?.after(remove);
  return { path: dir, remove };
}

/** Same as makeTempDir(registrar).path: a per-test directory removed after the test. */
export function tempDir(registrar: CleanupRegistrar, prefix = "ftpd-"): string {
  return makeTempDir(registrar, prefix).path;
}

// ---------------------------------------------------------------------------------------------
// Ports

/**
 * Ports are picked at random below the kernel's ephemeral range, so a port we hand out is not
 * also handed out by the kernel to some outgoing connection between our check and the daemon's bind.
 * Parallel test files pick randomly too, which keeps collisions rare; the bind check catches the rest.
 */
function ephemeralRangeStart(): number {
  try {
    const [lo] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/);
    const n = Number(lo);
    if (Number.isInteger(n) && n > 2000) return n;
  } catch {
    // not Linux: fall through
  }
  return 32768;
}

const PORT_FLOOR = 10000;
const PORT_CEIL = Math.max(PORT_FLOOR + 2000, ephemeralRangeStart()); // exclusive
const handedOut = new Set<number>();

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    const timer = setTimeout(() => {
      srv.close();
      resolve(false);
    }, 2000);
    srv.once("error", () => {
      clearTimeout(timer);
      resolve(false);
    });
    // exclusive: true so a cluster-shared handle never masks a port in use
    srv.listen({ port, host, exclusive: true }, () => {
      clearTimeout(timer);
      srv.close(() => resolve(true));
    });
  });
}

function randomPort(span: number): number {
  return PORT_FLOOR + Math.floor(Math.random() * (PORT_CEIL - PORT_FLOOR - span));
}

/** A TCP port that was free on `host` a moment ago (bind-and-release check). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = randomPort(1);
    if (handedOut.has(port)) continue;
    if (await canBind(port, host)) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`freePort: no free port on ${host} after 200 attempts`);
}

/** `count` consecutive TCP ports, all free on `host` a moment ago; returns [first, last] inclusive. */
export async function freePortRange(count: number, host = "127.0.0.1"): Promise<[number, number]> {
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new RangeError(`freePortRange: bad count ${count}`);
  outer: for (let attempt = 0; attempt < 100; attempt++) {
    const first = randomPort(count);
    for (let p = first; p < first + count; p++) if (handedOut.has(p)) continue outer;
    for (let p = first; p < first + count; p++) if (!(await canBind(p, host))) continue outer;
    for (let p = first; p < first + count; p++) handedOut.add(p);
    return [first, first + count - 1];
  }
  throw new Error(`freePortRange: no ${count} consecutive free ports on ${host} after 100 attempts`);
}

// ---------------------------------------------------------------------------------------------
// Small shared helpers

/** Resolves after ms. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` until it returns a value other than undefined/false, or throws after `timeoutMs`
 * with `what` in the message. `check` may also throw to abort early.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Runs a command synchronously; returns stdout. Throws with stderr on a non-zero exit. */
export function runSync(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): string {
  try {
    return execFileSync(cmd, args, {
      input: opts.input,
      timeout: opts.timeoutMs ?? 15_000,
      env: opts.env ?? process.env,
      encoding: "utf8",
      stdio: ["pipe", "pipe", "pipe"],
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; status?: number | null; message: string };
    throw new Error(
      `${cmd} ${args.join(" ")} failed (status ${String(e.status)}): ${(e.stderr ?? "").trim() || (e.stdout ?? "").trim() || e.message}`,
    );
  }
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/**
 * Runs a command to completion with a deadline (SIGKILL on timeout), never throws for a non-zero
 * exit: the caller decides. Rejects only when the command cannot be started.
 */
export function runCommand(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv; maxBuffer?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...args], { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const max = opts.maxBuffer ?? 16 * 1024 * 1024;
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      if (stdout.length < max) stdout += d;
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < max) stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 30_000);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(opts.input ?? "");
  });
}

/** runCommand that rejects unless the exit code is 0, with the command's stderr in the message. */
export async function runChecked(
  cmd: string,
  args: readonly string[],
  opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  const r = await runCommand(cmd, args, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? 30_000} ms` : `exit ${String(r.code)}${r.signal ? ` (${r.signal})` : ""}`;
    throw new Error(`${cmd} ${args.join(" ")}: ${why}: ${r.stderr.trim() || r.stdout.trim()}`);
  }
  return r.stdout;
}
