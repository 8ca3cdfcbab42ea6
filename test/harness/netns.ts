/**
 * Network namespaces as disposable "remote hosts" for tests that need a real IP path: firewalls
 * that DROP or REJECT, a second address on the client side, daemons listening on an address
 * other than loopback.
 *
 * Layout for namespace number X (0..511):
 *   root namespace  fdvXh  198.18.X.1/24   (198.19.* for X >= 256)
 *   namespace       fdvXn  198.18.X.2/24, lo up, default route via .1
 * 198.18.0.0/15 is the benchmarking range (RFC 2544): it exists only on our veth pairs, so no
 * traffic of ours ever leaves the machine.
 *
 * Needs root (CAP_NET_ADMIN) and `ip`, `iptables` (nf_tables backend is fine).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { onProcessExit, requireTool, runCommand, type CommandResult } from "./env.js";

export const NETNS_PREFIX = "ftpd-";

export interface Netns {
  /** `ftpd-<creator pid>-<X>` */
  readonly name: string;
  readonly index: number;
  /** Root-namespace end of the veth: 198.18.X.1 */
  readonly hostAddress: string;
  /** Namespace end of the veth: 198.18.X.2 (what a test connects to). */
  readonly nsAddress: string;
  readonly hostInterface: string;
  readonly nsInterface: string;
  /** Runs a command inside the namespace; never throws for a non-zero exit. */
  exec(cmd: string, args?: readonly string[], opts?: { timeoutMs?: number; input?: string }): Promise<CommandResult>;
  /** `iptables ARGS` inside the namespace; throws on failure. Gone with the namespace. */
  iptables(args: readonly string[]): Promise<void>;
  /** Another address on the namespace's interface (e.g. a second A record target). */
  addNsAddress(ip: string): Promise<void>;
  /** Another address on the host side of the veth (e.g. a second client source address). */
  addHostAddress(ip: string): Promise<void>;
  /**
   * `iptables ARGS` in the ROOT namespace, for rules on the client side of the path. -A/-I/-N are
   * recorded and undone by destroy(); rules are tagged `-m comment --comment <name>` so
   * cleanupStaleNetns() finds them after a crash. A rule must be scoped to this namespace (a
   * -s/-d inside 198.18.0.0/15, or -i/-o of our veth) unless `unscoped: true`: a bare
   * `-A OUTPUT -p tcp --dport 21 -j DROP` would break every other test on the machine.
   */
  hostIptables(args: readonly string[], opts?: { unscoped?: boolean }): Promise<void>;
  /** Kills what still runs inside, removes host rules and addresses, the veth and the namespace. */
  destroy(): Promise<void>;
}

const LOCK_DIR = path.join(os.tmpdir(), "ftpd-netns-locks");
const MAX_INDEX = 512;

function addressesFor(index: number): { host: string; ns: string; prefix: string } {
  const second = 18 + (index >> 8);
  const third = index & 0xff;
  const prefix = `198.${second}.${third}`;
  return { host: `${prefix}.1`, ns: `${prefix}.2`, prefix };
}

function inBenchmarkRange(ip: string): boolean {
  const bare = ip.replace(/\/\d+$/, "");
  if (net.isIPv4(bare) === false) return false;
  const [a, b] = bare.split(".").map(Number);
  return a === 198 && (b === 18 || b === 19);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Atomically claims a free index X with a lock file (O_EXCL), reclaiming locks of dead processes. */
function claimIndex(): number {
  mkdirSync(LOCK_DIR, { recursive: true });
  const start = Math.floor(Math.random() * MAX_INDEX);
  for (let i = 0; i < MAX_INDEX; i++) {
    const index = (start + i) % MAX_INDEX;
    const lock = path.join(LOCK_DIR, `${index}.lock`);
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return index;
    } catch {
      const owner = Number(readFileOr(lock, ""));
      if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
        rmSync(lock, { force: true });
        try {
          writeFileSync(lock, String(process.pid), { flag: "wx" });
          return index;
        } catch {
          // another process reclaimed it first
        }
      }
    }
  }
  throw new Error(`netns: all ${MAX_INDEX} address blocks in 198.18.0.0/15 are taken (stale locks in ${LOCK_DIR}?)`);
}

function readFileOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return fallback;
  }
}

async function run(cmd: string, args: readonly string[], timeoutMs = 15_000): Promise<string> {
  const r = await runCommand(cmd, args, { timeoutMs });
  if (r.code !== 0)
    throw new Error(
      `${path.basename(cmd)} ${args.join(" ")} failed${r.timedOut ? " (timeout)" : ""}: ${r.stderr.trim() || r.stdout.trim()}`,
    );
  return r.stdout;
}

function runSyncQuiet(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 10_000 });
  } catch {
    return "";
  }
}

/** Rewrites an -A/-I rule into its -D twin; null for anything that is not an add. */
function deletionOf(args: readonly string[]): string[] | null {
  const out = [...args];
  const i = out.findIndex((a) => a === "-A" || a === "--append" || a === "-I" || a === "--insert");
  if (i < 0) return null;
  const insert = out[i] === "-I" || out[i] === "--insert";
  out[i] = "-D";
  // `-I CHAIN 3 ...`: the rule number is not part of the rule.
  if (insert && out[i + 2] !== undefined && /^\d+$/.test(out[i + 2]!)) out.splice(i + 2, 1);
  return out;
}

/** Splits an `iptables -S` line into arguments (handles "quoted strings"). */
function splitRule(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? ""));
  return out;
}

const IPTABLES_TABLES = ["filter", "nat", "mangle", "raw"] as const;

/** Deletes root-namespace iptables rules whose comment is one of `names` (or matches `match`). Sync. */
function deleteTaggedRulesSync(iptables: string, match: (comment: string) => boolean): number {
  let removed = 0;
  for (const table of IPTABLES_TABLES) {
    const listing = runSyncQuiet(iptables, ["-t", table, "-S"]);
    for (const line of listing.split("\n")) {
      if (!line.startsWith("-A ")) continue;
      const args = splitRule(line);
      const ci = args.indexOf("--comment");
      const comment = ci >= 0 ? args[ci + 1] : undefined;
      if (comment === undefined || !match(comment)) continue;
      args[0] = "-D";
      runSyncQuiet(iptables, ["-t", table, ...args]);
      removed++;
    }
  }
  return removed;
}

function nsPidsSync(ip: string, name: string): number[] {
  return runSyncQuiet(ip, ["netns", "pids", name])
    .split("\n")
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

/** Tears a namespace down synchronously (exit path, stale cleanup). */
function destroySync(ip: string, iptables: string, name: string, hostInterface: string | null, index: number | null): void {
  // Processes inside keep the namespace (and its veth) alive after `ip netns del`: they are
  // ours (started in this namespace by a test), so they go first.
  for (const pid of nsPidsSync(ip, name)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  deleteTaggedRulesSync(iptables, (c) => c === name);
  if (hostInterface !== null) runSyncQuiet(ip, ["link", "del", hostInterface]);
  runSyncQuiet(ip, ["netns", "del", name]);
  if (index !== null) rmSync(path.join(LOCK_DIR, `${index}.lock`), { force: true });
}

const live = new Set<string>();

let staleChecked = false;

/**
 * Creates a namespace with a veth pair to the root namespace (see the module comment). The first
 * call in a process also runs cleanupStaleNetns().
 */
export async function createNetns(): Promise<Netns> {
  const ip = requireTool("ip");
  const iptables = requireTool("iptables");
  if (!staleChecked) {
    // Once per process: namespaces of test processes that died without cleaning up.
    staleChecked = true;
    cleanupStaleNetns();
  }
  const index = claimIndex();
  const name = `${NETNS_PREFIX}${process.pid}-${index}`;
  const hostInterface = `fdv${index}h`;
  const nsInterface = `fdv${index}n`;
  const addr = addressesFor(index);
  const hostRules: string[][] = [];
  const hostChains: Array<{ table: string[]; chain: string }> = [];
  const unregister = onProcessExit(() => destroySync(ip, iptables, name, hostInterface, index));
  live.add(name);

  const destroy = async (): Promise<void> => {
    const errors: string[] = [];
    for (const pid of (await runCommand(ip, ["netns", "pids", name], { timeoutMs: 10_000 })).stdout.split("\n")) {
      const n = Number(pid.trim());
      if (Number.isInteger(n) && n > 0) {
        try {
          process.kill(n, "SIGKILL");
        } catch {
          // gone
        }
      }
    }
    for (const rule of hostRules.splice(0).reverse()) {
      const del = deletionOf(rule);
      if (del === null) continue;
      const r = await runCommand(iptables, del, { timeoutMs: 10_000 });
      if (r.code !== 0) errors.push(`iptables ${del.join(" ")}: ${r.stderr.trim()}`);
    }
    for (const { table, chain } of hostChains.splice(0).reverse()) {
      await runCommand(iptables, [...table, "-F", chain], { timeoutMs: 10_000 });
      const r = await runCommand(iptables, [...table, "-X", chain], { timeoutMs: 10_000 });
      if (r.code !== 0) errors.push(`iptables -X ${chain}: ${r.stderr.trim()}`);
    }
    await runCommand(ip, ["link", "del", hostInterface], { timeoutMs: 10_000 });
    const del = await runCommand(ip, ["netns", "del", name], { timeoutMs: 10_000 });
    if (del.code !== 0 && !/No such file/.test(del.stderr)) errors.push(`ip netns del ${name}: ${del.stderr.trim()}`);
    rmSync(path.join(LOCK_DIR, `${index}.lock`), { force: true });
    live.delete(name);
    unregister();
    if (errors.length > 0) throw new Error(`netns ${name}: cleanup problems:\n${errors.join("\n")}`);
  };

  try {
    await run(ip, ["netns", "add", name]);
    await run(ip, ["link", "add", hostInterface, "type", "veth", "peer", "name", nsInterface, "netns", name]);
    await run(ip, ["addr", "add", `${addr.host}/24`, "dev", hostInterface]);
    await run(ip, ["link", "set", hostInterface, "up"]);
    await run(ip, ["-n", name, "addr", "add", `${addr.ns}/24`, "dev", nsInterface]);
    await run(ip, ["-n", name, "link", "set", nsInterface, "up"]);
    await run(ip, ["-n", name, "link", "set", "lo", "up"]);
    // Replies to extra host addresses outside the /24 (addHostAddress) go back the same way.
    await run(ip, ["-n", name, "route", "add", "default", "via", addr.host]);
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }

  const isOurs = (args: readonly string[]): boolean => {
    for (let i = 0; i < args.length - 1; i++) {
      const a = args[i];
      const v = args[i + 1] ?? "";
      if ((a === "-d" || a === "--destination" || a === "-s" || a === "--source") && v.split(",").every(inBenchmarkRange)) return true;
      if ((a === "-i" || a === "--in-interface" || a === "-o" || a === "--out-interface") && v === hostInterface) return true;
    }
    return false;
  };

  return {
    name,
    index,
    hostAddress: addr.host,
    nsAddress: addr.ns,
    hostInterface,
    nsInterface,
    exec(cmd, args = [], opts = {}) {
      return runCommand(ip, ["netns", "exec", name, cmd, ...args], { timeoutMs: opts.timeoutMs ?? 30_000, input: opts.input });
    },
    async iptables(args) {
      await run(ip, ["netns", "exec", name, iptables, ...args]);
    },
    async addNsAddress(address) {
      // Outside 198.18.0.0/15 the host route below would divert real traffic into the namespace.
      if (!inBenchmarkRange(address)) throw new Error(`netns ${name}: namespace address ${address} must be inside 198.18.0.0/15`);
      const prefix = address.startsWith(`${addr.prefix}.`) ? 24 : 32;
      await run(ip, ["-n", name, "addr", "add", `${address}/${prefix}`, "dev", nsInterface]);
      if (prefix === 32) await run(ip, ["route", "add", `${address}/32`, "via", addr.ns, "dev", hostInterface]);
    },
    async addHostAddress(address) {
      if (!inBenchmarkRange(address)) throw new Error(`netns ${name}: host address ${address} must be inside 198.18.0.0/15`);
      const prefix = address.startsWith(`${addr.prefix}.`) ? 24 : 32;
      // Removed with the host veth in destroy().
      await run(ip, ["addr", "add", `${address}/${prefix}`, "dev", hostInterface]);
    },
    async hostIptables(args, opts = {}) {
      const tableArgs: string[] = [];
      const ti = args.findIndex((a) => a === "-t" || a === "--table");
      if (ti >= 0 && args[ti + 1] !== undefined) tableArgs.push("-t", args[ti + 1]!);
      const addAt = args.findIndex((a) => a === "-A" || a === "--append" || a === "-I" || a === "--insert");
      const newChainAt = args.findIndex((a) => a === "-N" || a === "--new-chain");
      if (addAt >= 0) {
        if (opts.unscoped !== true && !isOurs(args)) {
          throw new Error(
            `netns ${name}: host rule ${args.join(" ")} is not scoped to the namespace; ` +
              `add -d/-s in 198.18.0.0/15 or -o/-i ${hostInterface}, or pass { unscoped: true }`,
          );
        }
        // Tag the rule right after the chain (and rule number): found again by cleanupStaleNetns.
        const rule = [...args];
        let at = addAt + 2;
        if ((rule[addAt] === "-I" || rule[addAt] === "--insert") && rule[at] !== undefined && /^\d+$/.test(rule[at]!)) at++;
        rule.splice(at, 0, "-m", "comment", "--comment", name);
        await run(iptables, rule);
        hostRules.push(rule);
        return;
      }
      await run(iptables, args);
      if (newChainAt >= 0 && args[newChainAt + 1] !== undefined) hostChains.push({ table: tableArgs, chain: args[newChainAt + 1]! });
    },
    destroy,
  };
}

/** Names of live namespaces created by this process. */
export function liveNetns(): string[] {
  return [...live];
}

/**
 * Removes `ftpd-<pid>-<X>` namespaces (with processes inside, host-side veth, tagged host iptables
 * rules and lock files) left by runs whose process is gone. With `{ all: true }` it removes every
 * `ftpd-*` namespace except this process's own live ones (use before a CI run). Returns the names removed.
 */
export function cleanupStaleNetns(opts: { all?: boolean } = {}): string[] {
  const ip = requireTool("ip");
  const iptables = requireTool("iptables");
  const removed: string[] = [];
  const names = runSyncQuiet(ip, ["netns", "list"])
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((n) => n.startsWith(NETNS_PREFIX));
  const isStale = (n: string): boolean => {
    if (live.has(n)) return false;
    const m = /^ftpd-(\d+)-(\d+)$/.exec(n);
    if (!m) return opts.all === true;
    return opts.all === true || !pidAlive(Number(m[1]));
  };
  for (const n of names) {
    if (!isStale(n)) continue;
    const m = /^ftpd-(\d+)-(\d+)$/.exec(n);
    const index = m ? Number(m[2]) : null;
    destroySync(ip, iptables, n, index !== null ? `fdv${index}h` : null, null);
    // Only drop the lock if it still belongs to the dead creator.
    if (index !== null && m && readFileOr(path.join(LOCK_DIR, `${index}.lock`), "") === m[1])
      rmSync(path.join(LOCK_DIR, `${index}.lock`), { force: true });
    removed.push(n);
  }
  // Host rules whose namespace is already gone (crash between rule and namespace teardown).
  deleteTaggedRulesSync(
    iptables,
    (c) =>
      /^ftpd-\d+-\d+$/.test(c) &&
      !live.has(c) &&
      !names.some((n) => n === c && !isStale(n)) &&
      (opts.all === true || !pidAlive(Number(c.split("-")[1]))),
  );
  // Locks of dead processes.
  try {
    for (const f of readdirSync(LOCK_DIR)) {
      const owner = Number(readFileOr(path.join(LOCK_DIR, f), ""));
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && !pidAlive(owner))
        rmSync(path.join(LOCK_DIR, f), { force: true });
    }
  } catch {
    // no lock dir yet
  }
  return removed;
}
