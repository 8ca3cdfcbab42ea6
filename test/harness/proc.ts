/**
 * Process plumbing for daemons run in the foreground: spawn in a new process group (optionally
 * inside a network namespace), wait until the port is listening, stop by PID with SIGTERM then
 * SIGKILL, and never leave a child behind (FTP daemons fork one process per session).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { onProcessExit, requireTool, sleep } from "./env.js";

export interface DaemonProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** stdout + stderr captured so far (capped at 1 MB each). */
  output(): { stdout: string; stderr: string };
  /** Exit status once the process has exited, else null. */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** SIGTERM, then SIGKILL after `graceMs`, to the process, its group and every descendant. */
  stop(graceMs?: number): Promise<void>;
}

export interface SpawnDaemonOptions {
  /** Run inside this network namespace (`ip netns exec NAME cmd ...`, which execs: same PID). */
  netns?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  startTime: string;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // rest[0]=state, [1]=ppid, [2]=pgrp, ..., [19]=starttime (field 22)
    return { pid, ppid: Number(rest[1]), pgrp: Number(rest[2]), startTime: rest[19] ?? "" };
  } catch {
    return null;
  }
}

function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st) out.push(st);
  }
  return out;
}

/** PIDs (with start times, to avoid hitting a reused PID later) of `root`, its descendants and its process group. */
function familyOf(root: number): ProcStat[] {
  const stats = allStats();
  const byParent = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const list = byParent.get(s.ppid) ?? [];
    list.push(s);
    byParent.set(s.ppid, list);
  }
  const found = new Map<number, ProcStat>();
  const rootStat = stats.find((s) => s.pid === root);
  const queue: ProcStat[] = rootStat ? [rootStat] : [];
  // Group members that were reparented to init after their parent died are still ours.
  for (const s of stats) if (s.pgrp === root) queue.push(s);
  while (queue.length > 0) {
    const s = queue.pop()!;
    if (found.has(s.pid)) continue;
    found.set(s.pid, s);
    for (const c of byParent.get(s.pid) ?? []) queue.push(c);
  }
  return [...found.values()];
}

function signalFamily(family: readonly ProcStat[], pgid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pgid, sig);
  } catch {
    // group already gone
  }
  for (const member of family) {
    const now = readStat(member.pid);
    if (now === null || now.startTime !== member.startTime) continue; // exited, or PID reused
    try {
      process.kill(member.pid, sig);
    } catch {
      // raced with its exit
    }
  }
}

function anyAlive(family: readonly ProcStat[]): boolean {
  return family.some((m) => {
    const now = readStat(m.pid);
    if (now === null || now.startTime !== m.startTime) return false;
    // A zombie still has a /proc entry; count only processes that are not zombies.
    try {
      return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${m.pid}/stat`, "utf8"));
    } catch {
      return false;
    }
  });
}

let staleChecked = false;

/**
 * Spawns `cmd args` in the foreground in a new process group (detached: true → setsid), with
 * stdout/stderr captured. Registers a SIGKILL of the whole family on process exit, and records the
 * PID so that a later run can clean up after a crash (cleanupStaleDaemons, run once per process).
 */
export function spawnDaemon(cmd: string, args: readonly string[], opts: SpawnDaemonOptions = {}): DaemonProcess {
  if (!staleChecked) {
    // Once per process: daemons left running by a test process that was SIGKILLed.
    staleChecked = true;
    cleanupStaleDaemons();
  }
  const argv =
    opts.netns !== undefined ? ([requireTool("ip"), ["netns", "exec", opts.netns, cmd, ...args]] as const) : ([cmd, [...args]] as const);
  const child = spawn(argv[0], argv[1], { detached: true, stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env, cwd: opts.cwd });
  let stdout = "";
  let stderr = "";
  const cap = 1024 * 1024;
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    if (stdout.length < cap) stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    if (stderr.length < cap) stderr += d;
  });
  let exitStatus: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exitedPromise = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitStatus = { code, signal };
      resolve();
    });
    child.once("error", (err) => {
      stderr += `\nspawn error: ${err.message}`;
      exitStatus = { code: -1, signal: null };
      resolve();
    });
  });
  const pid = child.pid;
  if (pid === undefined) {
    throw new Error(`could not spawn ${argv[0]} ${argv[1].join(" ")}`);
  }
  const registryFile = register(pid, [argv[0], ...argv[1]].join(" "), opts.cwd);
  const unregisterExit = onProcessExit(() => {
    signalFamily(familyOf(pid), pid, "SIGKILL");
    rmSync(registryFile, { force: true });
  });
  const unregister = (): void => {
    unregisterExit();
    rmSync(registryFile, { force: true });
  };

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 2000): Promise<void> => {
    stopping ??= (async () => {
      const family = familyOf(pid);
      signalFamily(family, pid, "SIGTERM");
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && (exitStatus === null || anyAlive(family))) await sleep(25);
      if (exitStatus === null || anyAlive(family)) {
        // Children forked after our snapshot are in the group: signal the group once more too.
        signalFamily([...family, ...familyOf(pid)], pid, "SIGKILL");
      }
      const hardDeadline = Date.now() + 3000;
      // A cleared timer: an uncleared 3 s sleep would keep every test process alive after stop().
      let raceTimer: NodeJS.Timeout | undefined;
      await Promise.race([exitedPromise, new Promise<void>((r) => (raceTimer = setTimeout(r, 3000)))]);
      clearTimeout(raceTimer);
      while (Date.now() < hardDeadline && anyAlive(family)) await sleep(25);
      if (exitStatus === null || anyAlive(family)) {
        throw new Error(`process ${pid} (${cmd}) did not exit after SIGKILL`);
      }
      unregister();
    })();
    return stopping;
  };

  return {
    pid,
    child,
    output: () => ({ stdout, stderr }),
    exited: () => exitStatus,
    stop,
  };
}

function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1]) inodes.add(m[1]);
    } catch {
      // fd closed meanwhile
    }
  }
  return inodes;
}

/**
 * True when process `pid` itself holds a TCP socket LISTENing on `port`. Reads /proc/PID/net/tcp{,6}
 * (the sockets of that PID's network namespace, so this works the same for a daemon inside a netns
 * listening on the namespace's own 127.0.0.1) and matches the socket inode against the process's
 * fds, so someone else's listener on that port does not count. It costs the daemon no connection:
 * a test counting sessions or per-IP limits sees none from us.
 */
export function isListening(pid: number, port: number): boolean {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, "0")}`;
  let mine: Set<string> | null = null;
  for (const file of ["tcp", "tcp6"]) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${file}`, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      // cols: sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
      if (cols.length > 9 && cols[1]?.endsWith(hexPort) && cols[3] === "0A") {
        mine ??= socketInodes(pid);
        if (mine.has(cols[9] ?? "")) return true;
      }
    }
  }
  return false;
}

/** PIDs of live processes in the process group `pgid` (for tests that check for strays). */
export function processGroupMembers(pgid: number): number[] {
  return allStats()
    .filter((s) => s.pgrp === pgid)
    .map((s) => s.pid)
    .filter((p) => {
      try {
        return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${p}/stat`, "utf8"));
      } catch {
        return false;
      }
    });
}

/** Live (non-zombie) descendants of `pid`, and its group members, excluding itself. */
export function descendantsOf(pid: number): number[] {
  return familyOf(pid)
    .filter((s) => s.pid !== pid)
    .map((s) => s.pid);
}

/** True when `pid` is a live (non-zombie) process. */
export function isAlive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Registry of daemons we started, for cleanup after a crash (SIGKILL of the test process leaves
// no chance to stop them; the next run's cleanupStaleDaemons() does).

const REGISTRY_DIR = path.join(os.tmpdir(), "ftpd-daemons");

interface RegistryEntry {
  pid: number;
  startTime: string;
  owner: number;
  ownerStartTime: string;
  command: string;
  dir?: string;
}

function register(pid: number, command: string, dir: string | undefined): string {
  mkdirSync(REGISTRY_DIR, { recursive: true });
  const file = path.join(REGISTRY_DIR, `${pid}.json`);
  const entry: RegistryEntry = {
    pid,
    startTime: readStat(pid)?.startTime ?? "",
    owner: process.pid,
    ownerStartTime: readStat(process.pid)?.startTime ?? "",
    command,
    ...(dir !== undefined ? { dir } : {}),
  };
  writeFileSync(file, JSON.stringify(entry));
  return file;
}

/**
 * Kills daemons (and their session processes) that an earlier test process started and could not
 * stop because it died, and removes their state dirs when they were harness temp dirs. Only
 * processes recorded by spawnDaemon() whose PID and start time still match are touched. Returns
 * the PIDs killed.
 */
export function cleanupStaleDaemons(): number[] {
  const killed: number[] = [];
  let files: string[];
  try {
    files = readdirSync(REGISTRY_DIR);
  } catch {
    return killed;
  }
  for (const f of files) {
    const file = path.join(REGISTRY_DIR, f);
    let entry: RegistryEntry;
    try {
      entry = JSON.parse(readFileSync(file, "utf8")) as RegistryEntry;
    } catch {
      rmSync(file, { force: true });
      continue;
    }
    const owner = readStat(entry.owner);
    if (owner !== null && owner.startTime === entry.ownerStartTime) continue; // its test process still runs
    const now = readStat(entry.pid);
    if (now !== null && now.startTime === entry.startTime) {
      signalFamily(familyOf(entry.pid), entry.pid, "SIGKILL");
      killed.push(entry.pid);
    }
    if (entry.dir !== undefined && path.basename(entry.dir).startsWith("ftpd-") && path.dirname(entry.dir) === os.tmpdir()) {
      rmSync(entry.dir, { recursive: true, force: true });
    }
    rmSync(file, { force: true });
  }
  return killed;
}
