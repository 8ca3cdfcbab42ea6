#!/usr/bin/env node
/**
 * ftp-doctor benchmarks, against curl and lftp, on real local servers (`npm run bench`).
 *
 *   node dist/scripts/bench.js [--only verdict,rtt,scale,queue,bot,fleet] [--json] [--runs N] [--peer-cap S]
 *
 * verdict  time to a verdict on real broken servers, next to `curl -v` and `lftp` doing the
 *          closest equivalent (median of --runs; peers capped at --peer-cap seconds)
 * rtt      round trips of a healthy FTPS check over a 50 ms path (userspace delay proxy)
 * scale    500 queued checks through one worker at concurrency 32: wall, checks/s, peak RSS
 * queue    enqueue-to-start latency of 200 jobs; one worker's throughput at concurrency 1, 8, 32
 * bot      slash-command ack latency at 20 concurrent signed requests; slash command to verdict
 * fleet    10,000 monitored targets: history memory and latency, schedule drift (scripts/benchFleet.ts)
 *
 * Markdown on stdout (progress on stderr); --json prints one JSON object instead. Timings never
 * fail the run: the exit status is non-zero only when a section could not run at all.
 * Needs root (daemons, namespaces), Redis (REDIS_URL), curl and lftp. Traffic stays on loopback
 * and on network namespaces created here.
 */
import { execFileSync, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import type { CheckReport } from "../src/check/run.js";
import { CheckQueue } from "../src/queue/producer.js";
import { keys } from "../src/queue/keys.js";
import {
  certFixtures,
  cleanupStale,
  createNetns,
  freePort,
  freePortRange,
  makeLeaf,
  makeTempDir,
  repoRoot,
  silentHandler,
  startFakeFtp,
  startScriptedServer,
  startVsftpd,
  tlsOf,
  VSFTPD_USER,
  type Netns,
  type RunningServer,
} from "../test/harness/index.js";
import { startDelayProxy } from "../test/harness/delayProxy.js";
import { deletePrefix, REDIS_URL, spawnWorker, stopWorker, uniquePrefix, type WorkerProc, writeDmzConfig } from "../test/queue/lib.js";
import { sendToBot, sign, slashBody, startFakeSlack, type ApiCall } from "../test/slack/fakeSlack.js";
import { startBotProcess } from "../test/slack/botProcess.js";
import { benchFleet } from "./benchFleet.js";

const SECTIONS = ["verdict", "rtt", "scale", "queue", "bot", "fleet"] as const;
type Section = (typeof SECTIONS)[number];
const BIN = path.join(repoRoot, "bin", "ftp-doctor.js");
const T0 = performance.now();

interface Args {
  only: Section[];
  json: boolean;
  runs: number;
  peerCapS: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { only: [...SECTIONS], json: false, runs: 3, peerCapS: 60 };
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i]!;
    const next = () => {
      const n = argv[++i];
      if (n === undefined) usage(`${v} needs a value`);
      return n;
    };
    if (v === "--json") a.json = true;
    else if (v === "--only" || v.startsWith("--only=")) {
      const list = (v.includes("=") ? v.split("=")[1]! : next())
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const s of list) if (!(SECTIONS as readonly string[]).includes(s)) usage(`unknown section "${s}" (${SECTIONS.join(", ")})`);
      a.only = list as Section[];
    } else if (v === "--runs") a.runs = Math.max(1, Math.min(15, Number(next()) || 3));
    else if (v === "--peer-cap") a.peerCapS = Math.max(5, Math.min(300, Number(next()) || 60));
    else if (v === "-h" || v === "--help") usage();
    else usage(`unknown argument ${v}`);
  }
  return a;
}

function usage(problem?: string): never {
  if (problem) process.stderr.write(`bench: ${problem}\n`);
  process.stderr.write(
    "Usage: node dist/scripts/bench.js [--only verdict,rtt,scale,queue,bot,fleet] [--json] [--runs N] [--peer-cap SECONDS]\n",
  );
  process.exit(problem ? 2 : 0);
}

const log = (msg: string) => process.stderr.write(`[bench ${((performance.now() - T0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ------------------------------------------------------------------------------------------
// statistics and formatting

function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}
const median = (v: number[]) => {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.round(ms)} ms`;
}
function table(head: string[], rows: (string | number)[][]): string {
  const esc = (c: string | number) => String(c).replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join(
    "\n",
  );
}

// ------------------------------------------------------------------------------------------
// running a client (ftp-doctor CLI, curl, lftp) with a cap

interface ToolRun {
  ms: number;
  code: number | null;
  hung: boolean;
  stdout: string;
  stderr: string;
}

function runProcess(cmd: string, args: string[], capS: number, env: Record<string, string> = {}): Promise<ToolRun> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    // `timeout` sends TERM at the cap (exit 124), KILL 2 s later.
    const child = spawn("timeout", ["-k", "2", String(capS), cmd, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout.length < 4_000_000 ? (stdout += d) : undefined));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr.length < 4_000_000 ? (stderr += d) : undefined));
    child.on("close", (code) => resolve({ ms: performance.now() - t0, code, hung: code === 124 || code === 137, stdout, stderr }));
  });
}

type Tool = "ftp-doctor" | "curl" | "lftp";
const TOOLS: Tool[] = ["ftp-doctor", "curl", "lftp"];

interface ClientSpec {
  /** ftp-doctor check arguments after the target. */
  doctor: string[];
  curl: string[];
  /** lftp -c script. */
  lftp: string;
  env?: Record<string, string>;
}

interface Outcome {
  ms: number;
  hung: boolean;
  summary: string;
  /** ftp-doctor only: the check's own duration (without process start-up). */
  probeMs?: number;
  /** ftp-doctor only: when the main session's last step (QUIT) ended; the rest is side checks. */
  mainMs?: number;
  ok: boolean;
}

function curlSummary(r: ToolRun): { summary: string; ok: boolean } {
  if (r.hung) return { summary: "hung (killed at the cap)", ok: false };
  if (r.code === 0) return { summary: `exit 0, listing of ${r.stdout.split("\n").filter(Boolean).length} lines`, ok: true };
  const m = /curl: \((\d+)\) ([^\n]+)/.exec(r.stderr);
  return { summary: m ? `exit ${m[1]}: ${m[2]!.slice(0, 70)}` : `exit ${r.code}`, ok: false };
}

function lftpSummary(r: ToolRun): { summary: string; ok: boolean } {
  if (r.hung) {
    const last = r.stderr
      .split(/\r|\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .pop();
    return { summary: `hung (killed at the cap)${last ? `; last said: ${last.slice(0, 60)}` : ""}`, ok: false };
  }
  if (r.code === 0) return { summary: `exit 0, listing of ${r.stdout.split("\n").filter(Boolean).length} lines`, ok: true };
  const last =
    r.stderr
      .split(/\r|\n/)
      .map((l) => l.trim())
      .filter(Boolean)
      .pop() ?? "";
  return { summary: `exit ${r.code}: ${last.slice(0, 80)}`, ok: false };
}

async function runClient(tool: Tool, target: { host: string; port: number }, spec: ClientSpec, capS: number): Promise<Outcome> {
  if (tool === "ftp-doctor") {
    const r = await runProcess(
      process.execPath,
      [BIN, "check", `${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`, "--json", ...spec.doctor],
      capS,
      spec.env,
    );
    let report: CheckReport | undefined;
    try {
      report = JSON.parse(r.stdout) as CheckReport;
    } catch {
      // no JSON: a crash or a hang
    }
    const main = report?.steps.filter((st) => st.id !== "side") ?? [];
    return {
      ms: r.ms,
      hung: r.hung,
      summary: report ? report.verdict.code : r.hung ? "hung" : `no verdict (exit ${r.code}): ${r.stderr.slice(0, 100)}`,
      ...(report ? { probeMs: report.durationMs } : {}),
      ...(report ? { mainMs: Math.max(...main.map((st) => st.startMs + st.durationMs)) } : {}),
      ok: !!report,
    };
  }
  if (tool === "curl") {
    const r = await runProcess("curl", ["-v", "-sS", ...spec.curl, `ftp://${target.host}:${target.port}/`], capS, spec.env);
    return { ms: r.ms, hung: r.hung, ...curlSummary(r) };
  }
  const r = await runProcess(
    "lftp",
    ["-c", spec.lftp.replace(/\{host\}/g, target.host).replace(/\{port\}/g, String(target.port))],
    capS,
    spec.env,
  );
  return { ms: r.ms, hung: r.hung, ...lftpSummary(r) };
}

// ------------------------------------------------------------------------------------------
// environment

function environment(): Record<string, string | number> {
  const sh = (cmd: string, args: string[]) => {
    try {
      const r = spawnSyncText(cmd, args);
      return r.split("\n")[0]!.trim();
    } catch {
      return "?";
    }
  };
  const cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? os.cpus()[0]?.model ?? "?";
  return {
    date: new Date().toISOString(),
    uname: sh("uname", ["-sr"]),
    cpu,
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    curl: sh("curl", ["--version"]).split(" ").slice(0, 2).join(" "),
    lftp: sh("lftp", ["--version"]).replace(/^LFTP \| Version (\S+).*/, "lftp $1"),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format, not a template
    vsftpd: sh("dpkg-query", ["-W", "-f=${Version}", "vsftpd"]).replace(/^/, "vsftpd "),
    redis: sh("redis-server", ["--version"]).replace(/^Redis server v=(\S+).*/, "redis $1"),
  };
}

function spawnSyncText(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 5000 });
}

// ------------------------------------------------------------------------------------------
// cleanup registry

const cleanups: (() => Promise<unknown>)[] = [];
async function cleanupAll(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`));
}

// ==========================================================================================
// verdict: time to a verdict next to curl and lftp

interface VerdictCase {
  name: string;
  target: { host: string; port: number };
  spec: ClientSpec;
}

async function vsftpdInNetns(opts: Parameters<typeof startVsftpd>[0] = {}): Promise<{ ns: Netns; s: RunningServer }> {
  const ns = await createNetns();
  cleanups.push(() => ns.destroy());
  const s = await startVsftpd({ ...opts, netns: ns.name, listenAddress: ns.nsAddress });
  cleanups.push(() => s.stop());
  return { ns, s };
}

async function verdictCases(): Promise<VerdictCase[]> {
  const certs = certFixtures();
  const dir = makeTempDir();
  cleanups.push(async () => dir.remove());
  const ca = path.join(dir.path, "ca.pem");
  writeFileSync(ca, certs.ca.certPem);
  const lftpTls = `set ssl:ca-file ${ca}; set ftp:ssl-force true; set ftp:ssl-protect-data true;`;
  const anonLftp = "open -p {port} {host}; ls";
  const userLftp = (password: string) => `${lftpTls} open -u ${VSFTPD_USER.user},${password} -p {port} {host}; ls`;
  const ftpsUser = (password: string): ClientSpec => ({
    doctor: ["--tls", "explicit", "--ca", ca, "--user", VSFTPD_USER.user, "--password-env", "PW"],
    curl: ["--ssl-reqd", "--cacert", ca, "--user", `${VSFTPD_USER.user}:${password}`],
    lftp: userLftp(password),
    env: { PW: password },
  });
  const plainAnon: ClientSpec = { doctor: ["--tls", "off"], curl: [], lftp: anonLftp };
  const out: VerdictCase[] = [];

  const healthy = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
  cleanups.push(() => healthy.stop());
  out.push({
    name: "healthy FTPS (vsftpd, local user)",
    target: { host: "127.0.0.1", port: healthy.port },
    spec: ftpsUser(VSFTPD_USER.password),
  });

  const silent = await startScriptedServer(silentHandler());
  cleanups.push(() => silent.stop());
  out.push({ name: "silent banner (accepts, never greets)", target: { host: "127.0.0.1", port: silent.port }, spec: plainAnon });

  const blocked = await vsftpdInNetns();
  await blocked.ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", `${blocked.s.pasvRange[0]}:${blocked.s.pasvRange[1]}`, "-j", "DROP"]);
  out.push({ name: "passive ports blocked (netns DROP)", target: { host: blocked.ns.nsAddress, port: blocked.s.port }, spec: plainAnon });

  const syn = await vsftpdInNetns();
  await syn.ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", String(syn.s.port), "-j", "DROP"]);
  out.push({ name: "SYN dropped (netns DROP)", target: { host: syn.ns.nsAddress, port: syn.s.port }, spec: plainAnon });

  const priv = await vsftpdInNetns({ extra: { pasv_address: "10.99.88.77" } });
  // Nothing is ever sent to the advertised private address: DROPped here if anything tried.
  await priv.ns.hostIptables(["-I", "OUTPUT", "1", "-d", "10.99.88.77/32", "-j", "DROP"], { unscoped: true });
  out.push({ name: "PASV advertises a private address (netns)", target: { host: priv.ns.nsAddress, port: priv.s.port }, spec: plainAnon });

  const expired = await startVsftpd({ localUsers: true, tls: tlsOf(certs.expired) });
  cleanups.push(() => expired.stop());
  out.push({ name: "expired certificate", target: { host: "127.0.0.1", port: expired.port }, spec: ftpsUser(VSFTPD_USER.password) });

  const wrong = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
  cleanups.push(() => wrong.stop());
  out.push({
    name: "wrong password (FTPS)",
    target: { host: "127.0.0.1", port: wrong.port },
    spec: { ...ftpsUser("not-the-password"), env: { PW: "not-the-password" } },
  });

  const busy = await startVsftpd({ extra: { max_per_ip: 1 } });
  cleanups.push(() => busy.stop());
  const hog = net.connect(busy.port, "127.0.0.1");
  await new Promise<void>((r) => hog.once("data", () => r()));
  cleanups.push(async () => hog.destroy());
  out.push({ name: "server busy (vsftpd max_per_ip=1, slot taken)", target: { host: "127.0.0.1", port: busy.port }, spec: plainAnon });

  const implicit = await startVsftpd({ tls: tlsOf(certs.valid), extra: { implicit_ssl: true } });
  cleanups.push(() => implicit.stop());
  out.push({
    name: "implicit-TLS port used as explicit FTPS",
    target: { host: "127.0.0.1", port: implicit.port },
    spec: { doctor: ["--ca", ca], curl: ["--ssl-reqd", "--cacert", ca], lftp: `${lftpTls} ${anonLftp}` },
  });
  return out;
}

interface VerdictRow {
  case: string;
  tools: Record<Tool, { runs: Outcome[]; medianMs: number; hung: number; summary: string; probeMedianMs?: number }>;
}

async function benchVerdict(args: Args): Promise<{ markdown: string; data: unknown }> {
  log("verdict: starting servers");
  const cases = await verdictCases();
  const cap = args.peerCapS;
  const runsOf = new Map<string, Outcome[]>();
  const key = (c: VerdictCase, t: Tool) => `${c.name}\u0000${t}`;
  const add = (c: VerdictCase, t: Tool, o: Outcome): void => {
    runsOf.set(key(c, t), [...(runsOf.get(key(c, t)) ?? []), o]);
  };

  // 1. Which peers hang? Every peer's first run at once; those still running after 8 s are
  //    left to run to their end (they sit on timers, not the CPU), with their remaining runs
  //    started beside them. Fast ones are measured again below, one at a time.
  log(`verdict: classifying ${cases.length * 2} peer runs (8 s window)`);
  const background: Promise<void>[] = [];
  const slow = new Set<string>();
  await Promise.all(
    cases.flatMap((c) =>
      (["curl", "lftp"] as Tool[]).map(async (t) => {
        const run = runClient(t, c.target, c.spec, cap);
        const early = await Promise.race([run.then(() => true), sleep(8000).then(() => false)]);
        if (early) return;
        slow.add(key(c, t));
        background.push(run.then((o) => add(c, t, o)));
        for (let i = 1; i < args.runs; i++) background.push(runClient(t, c.target, c.spec, cap).then((o) => add(c, t, o)));
      }),
    ),
  );
  log(`verdict: ${slow.size} peer runs still going after 8 s: ${[...slow].map((k) => k.replace("\u0000", " / ")).join("; ") || "none"}`);

  // 2. Everything else, sequentially: ftp-doctor for every case, and the fast peers.
  for (let i = 0; i < args.runs; i++) {
    for (const c of cases) {
      for (const t of TOOLS) {
        if (slow.has(key(c, t))) continue;
        const prior = runsOf.get(key(c, t)) ?? [];
        if (prior.some((o) => o.hung)) continue; // capped once: no point waiting the cap again
        const o = await runClient(t, c.target, c.spec, cap);
        add(c, t, o);
        if (o.hung || o.ms > 8000) {
          // unexpectedly slow: the remaining runs go to the background too
          slow.add(key(c, t));
          for (let j = i + 1; j < args.runs; j++) background.push(runClient(t, c.target, c.spec, cap).then((x) => add(c, t, x)));
        }
      }
    }
    log(`verdict: sequential round ${i + 1}/${args.runs} done`);
  }
  if (background.length) log(`verdict: waiting for ${background.length} slow peer runs (at most ${cap} s each, in parallel)`);
  await Promise.all(background);

  const rows: VerdictRow[] = cases.map((c) => {
    const tools = {} as VerdictRow["tools"];
    for (const t of TOOLS) {
      const runs = runsOf.get(key(c, t)) ?? [];
      const probes = runs.map((r) => r.probeMs).filter((x): x is number => x !== undefined);
      const summaries = [...new Set(runs.map((r) => r.summary))];
      tools[t] = {
        runs,
        medianMs: median(runs.map((r) => r.ms)),
        hung: runs.filter((r) => r.hung).length,
        summary: summaries.join(" / "),
        ...(probes.length ? { probeMedianMs: median(probes) } : {}),
      };
    }
    return { case: c.name, tools };
  });
  const cell = (t: VerdictRow["tools"][Tool]) => (t.hung > 0 && t.hung >= t.runs.length / 2 ? `≥${cap} s (hung)` : fmtMs(t.medianMs));
  const md = [
    "## Time to verdict (real broken servers; ftp-doctor vs curl and lftp)",
    "",
    `Median of ${args.runs} runs per cell, each client a fresh process ` +
      '(ftp-doctor: the CLI, `check --json`, Node start-up included; "check" is the check\'s own duration). ' +
      `Peers are capped at ${cap} s with \`timeout\`; "≥${cap} s (hung)" means they were still waiting when killed.`,
    "",
    table(
      ["case", "ftp-doctor verdict", "ftp-doctor", "(check)", "curl -v", "curl result", "lftp", "lftp result"],
      rows.map((r) => [
        r.case,
        `\`${r.tools["ftp-doctor"].summary}\``,
        cell(r.tools["ftp-doctor"]),
        fmtMs(r.tools["ftp-doctor"].probeMedianMs ?? Number.NaN),
        cell(r.tools.curl),
        r.tools.curl.summary,
        cell(r.tools.lftp),
        r.tools.lftp.summary,
      ]),
    ),
    "",
    "Client commands: `ftp-doctor check HOST:PORT --json` " +
      "(+ `--tls explicit --ca … --user … --password-env` where TLS applies, `--tls off` on plain servers); " +
      "`curl -v -sS [--ssl-reqd --cacert … --user u:p] ftp://HOST:PORT/`; " +
      "`lftp -c '[set ssl:ca-file …; set ftp:ssl-force true; set ftp:ssl-protect-data true;] open [-u u,p] -p PORT HOST; ls'`.",
  ].join("\n");
  return {
    markdown: md,
    data: {
      capS: cap,
      runs: args.runs,
      cases: rows.map((r) => ({
        case: r.case,
        ...Object.fromEntries(
          TOOLS.map((t) => [
            t,
            {
              medianMs: Math.round(r.tools[t].medianMs),
              hungRuns: r.tools[t].hung,
              runs: r.tools[t].runs.length,
              result: r.tools[t].summary,
              ...(r.tools[t].probeMedianMs !== undefined ? { checkMedianMs: r.tools[t].probeMedianMs } : {}),
              allMs: r.tools[t].runs.map((x) => Math.round(x.ms)),
            },
          ]),
        ),
      })),
    },
  };
}

// ==========================================================================================
// rtt: round trips of a healthy FTPS check over a 50 ms path

async function benchRtt(args: Args): Promise<{ markdown: string; data: unknown }> {
  const delayMs = 25;
  const runs = Math.max(5, args.runs);
  const certs = certFixtures();
  // One certificate valid for both addresses, so every client verifies it on either path.
  const leaf = makeLeaf(certs.intermediate, { cn: "localhost", sans: ["localhost", "127.0.0.1", "127.0.0.2"] });
  const dir = makeTempDir();
  cleanups.push(async () => dir.remove());
  const ca = path.join(dir.path, "ca.pem");
  writeFileSync(ca, certs.ca.certPem);
  const unlimited = { max_per_ip: 0, max_clients: 0 };
  // Two identical servers: one reached directly, one behind the proxy (PASV names the proxy).
  const direct = await startVsftpd({ localUsers: true, tls: tlsOf(leaf), extra: unlimited });
  cleanups.push(() => direct.stop());
  const slowSrv = await startVsftpd({ localUsers: true, tls: tlsOf(leaf), extra: { ...unlimited, pasv_address: "127.0.0.2" } });
  cleanups.push(() => slowSrv.stop());
  const ports = [slowSrv.port];
  for (let p = slowSrv.pasvRange[0]; p <= slowSrv.pasvRange[1]; p++) ports.push(p);
  const proxy = await startDelayProxy({ listenHost: "127.0.0.2", targetHost: "127.0.0.1", ports, delayMs });
  cleanups.push(() => proxy.stop());
  const pw = VSFTPD_USER.password;
  const spec: ClientSpec = {
    doctor: ["--tls", "explicit", "--ca", ca, "--user", VSFTPD_USER.user, "--password-env", "PW"],
    curl: ["--ssl-reqd", "--cacert", ca, "--user", `${VSFTPD_USER.user}:${pw}`],
    lftp: `set ssl:ca-file ${ca}; set ftp:ssl-force true; set ftp:ssl-protect-data true; open -u ${VSFTPD_USER.user},${pw} -p {port} {host}; ls`,
    env: { PW: pw },
  };
  const result: Record<Tool, { loop: Outcome[]; path: Outcome[] }> = {
    "ftp-doctor": { loop: [], path: [] },
    curl: { loop: [], path: [] },
    lftp: { loop: [], path: [] },
  };
  log(`rtt: ${runs} runs per tool and path (${delayMs} ms each way on the slow path)`);
  for (let i = 0; i < runs; i++) {
    for (const t of TOOLS) {
      result[t].loop.push(await runClient(t, { host: "127.0.0.1", port: direct.port }, spec, 60));
      result[t].path.push(await runClient(t, { host: "127.0.0.2", port: slowSrv.port }, spec, 60));
    }
  }
  const rtt = 2 * delayMs;
  const rows = TOOLS.map((t) => {
    const loop = median(result[t].loop.map((o) => o.ms));
    const slowMs = median(result[t].path.map((o) => o.ms));
    const outcomes = [...new Set([...result[t].loop, ...result[t].path].map((o) => o.summary))].join(" / ");
    return {
      tool: t,
      loopMs: loop,
      pathMs: slowMs,
      roundTrips: (slowMs - loop) / rtt,
      result: outcomes,
      ...(t === "ftp-doctor"
        ? {
            checkLoopMs: median(result[t].loop.map((o) => o.probeMs ?? Number.NaN)),
            checkPathMs: median(result[t].path.map((o) => o.probeMs ?? Number.NaN)),
            mainLoopMs: median(result[t].loop.map((o) => o.mainMs ?? Number.NaN)),
            mainPathMs: median(result[t].path.map((o) => o.mainMs ?? Number.NaN)),
          }
        : {}),
    };
  });
  const doc = rows.find((r) => r.tool === "ftp-doctor")!;
  const checked: Record<Tool, string> = {
    "ftp-doctor":
      "greeting, FEAT, AUTH TLS, chain + name + expiry, TLS 1.0/1.1 refused (side connection), " +
      "login, anonymous login refused (side connection), PBSZ/PROT, SYST, PWD, " +
      "TYPE, PASV address vs peer, EPSV data + TLS resumption, LIST, " +
      "data TLS without resumption (a second listing: session reuse required?), QUIT",
    curl: "AUTH TLS, chain + name, login, PBSZ/PROT, PWD, EPSV, TYPE, LIST",
    lftp: "FEAT, AUTH TLS, chain + name, login, PBSZ/PROT, PWD, PASV, LIST",
  };
  const md = [
    `## Round trips: healthy FTPS check over a ${rtt} ms path`,
    "",
    "vsftpd (explicit FTPS, local user) reached directly on 127.0.0.1, " +
      `and through a userspace delay proxy on 127.0.0.2 that holds every chunk ${delayMs} ms each ` +
      "way and opens its upstream connection 1.5 round trips after the client's (so a new connection " +
      "costs a round trip as on a real path); the proxy forwards the control port and the whole " +
      `passive range, and the proxied server's \`pasv_address=127.0.0.2\`. Median of ${runs} runs of ` +
      `each client process. Round trips = (wall on the ${rtt} ms path − wall on loopback) / ${rtt} ms.`,
    "",
    table(
      ["client", "loopback", `${rtt} ms path`, "round trips", "result", "what it checks"],
      rows.map((r) => [r.tool, fmtMs(r.loopMs), fmtMs(r.pathMs), r.roundTrips.toFixed(1), r.result, checked[r.tool]]),
    ),
    "",
    `ftp-doctor's check alone (without Node start-up): ${fmtMs(doc.checkLoopMs ?? Number.NaN)} on loopback, ` +
      `${fmtMs(doc.checkPathMs ?? Number.NaN)} on the ${rtt} ms path = ` +
      `${(((doc.checkPathMs ?? 0) - (doc.checkLoopMs ?? 0)) / rtt).toFixed(1)} round trips. Target: at most 13.`,
    "",
    `The main session (greeting to QUIT) is done after ${(((doc.mainPathMs ?? 0) - (doc.mainLoopMs ?? 0)) / rtt).toFixed(1)} ` +
      "round trips; the rest is side checks on their own connections: the TLS session-reuse check (its own login " +
      "once the main one succeeded, then a LIST over a data connection with a fresh TLS session, which vsftpd's " +
      "default `require_ssl_reuse=YES` refuses with 522), TLS 1.0/1.1 refusal and anonymous login.",
  ].join("\n");
  return {
    markdown: md,
    data: {
      delayMs,
      rttMs: rtt,
      runs,
      rows,
      allMs: Object.fromEntries(
        TOOLS.map((t) => [t, { loop: result[t].loop.map((o) => Math.round(o.ms)), path: result[t].path.map((o) => Math.round(o.ms)) }]),
      ),
    },
  };
}

// ==========================================================================================
// queue plumbing shared by scale and queue

interface ScaleEnv {
  targets: { target: string; profile?: string; options: Record<string, unknown>; label: string; expect: string }[];
  configFile: string;
  env: Record<string, string>;
}

async function scaleServers(): Promise<ScaleEnv> {
  const certs = certFixtures();
  const dir = makeTempDir();
  cleanups.push(async () => dir.remove());
  const ca = path.join(dir.path, "ca.pem");
  writeFileSync(ca, certs.ca.certPem);
  const unlimited = { max_per_ip: 0, max_clients: 0 };
  // 32 sessions at once need more than the harness's 10 passive ports: vsftpd answers PASV with
  // "500 OOPS: vsf_sysutil_bind" and ends the session when its range is exhausted.
  const plain = await startVsftpd({ extra: unlimited, pasvRange: await freePortRange(100) });
  cleanups.push(() => plain.stop());
  const ftps = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid), extra: unlimited, pasvRange: await freePortRange(100) });
  cleanups.push(() => ftps.stop());
  const busy = await startFakeFtp({ greeting: "421 There are too many connected users, please try later." });
  cleanups.push(() => busy.stop());
  const closed = await freePort();
  const configFile = path.join(dir.path, "bench.yaml");
  writeFileSync(
    configFile,
    `targets:\n  allow: ['127.0.0.0/8']\nprofiles:\n  ops:\n    user: ${VSFTPD_USER.user}\n    passwordEnv: BENCH_PW\n    tls: explicit\n    caFile: ${ca}\n`,
  );
  const targets: ScaleEnv["targets"] = [
    { label: "vsftpd plain, anonymous (HEALTHY)", target: `127.0.0.1:${plain.port}`, options: { tls: "off" }, expect: "HEALTHY" },
    { label: "vsftpd plain, anonymous (HEALTHY)", target: `127.0.0.1:${plain.port}`, options: { tls: "off" }, expect: "HEALTHY" },
    {
      label: "vsftpd explicit FTPS, local user via profile (HEALTHY)",
      target: `127.0.0.1:${ftps.port}`,
      profile: "ops",
      options: {},
      expect: "HEALTHY",
    },
    { label: "busy server, 421 (SERVER_BUSY)", target: `127.0.0.1:${busy.port}`, options: {}, expect: "SERVER_BUSY" },
    { label: "closed port (TCP_REFUSED)", target: `127.0.0.1:${closed}`, options: {}, expect: "TCP_REFUSED" },
  ];
  return { targets, configFile, env: { BENCH_PW: VSFTPD_USER.password, FTP_DOCTOR_CONFIG: configFile } };
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function vmHwmKb(pid: number): number {
  try {
    return Number(/^VmHWM:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN);
  } catch {
    return Number.NaN;
  }
}

/** Enqueue `n` checks (cycling through the targets; the timeout differs per job so nothing dedupes) and wait for all. */
interface Unexpected {
  target: string;
  expected: string;
  got: string;
  title: string;
  evidence: string[];
  transcriptTail: string[];
}

async function runBatch(
  q: CheckQueue,
  prefix: string,
  senv: ScaleEnv,
  n: number,
  seed: number,
): Promise<{ wallMs: number; codes: Record<string, number>; jobIds: string[]; unexpected: Unexpected[] }> {
  const conn = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const events = new QueueEvents(keys.queueName("bench"), { connection: conn, prefix });
  await events.waitUntilReady();
  const done = new Set<string>();
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const ids = new Set<string>();
  const check = () => {
    if (ids.size === n && [...ids].every((id) => done.has(id))) resolveAll();
  };
  events.on("completed", ({ jobId }) => {
    done.add(jobId);
    check();
  });
  events.on("failed", ({ jobId }) => {
    done.add(jobId);
    check();
  });
  const t0 = performance.now();
  const jobs = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const t = senv.targets[i % senv.targets.length]!;
      return q.enqueue({
        v: 1,
        target: t.target,
        zone: "bench",
        ...(t.profile ? { profile: t.profile } : {}),
        options: { ...t.options, timeout: 10_000 + seed + i },
        requestedBy: "bench",
      });
    }),
  );
  for (const j of jobs) ids.add(j.jobId);
  check();
  const timeout = sleep(300_000).then(() => "timeout");
  if ((await Promise.race([all.then(() => "ok"), timeout])) === "timeout") log(`batch: only ${done.size}/${n} finished within 300 s`);
  const wallMs = performance.now() - t0;
  await events.close();
  conn.disconnect();
  const codes: Record<string, number> = {};
  const unexpected: Unexpected[] = [];
  const queue = new Queue(keys.queueName("bench"), { connection: { url: REDIS_URL }, prefix });
  for (let i = 0; i < jobs.length; i += 100) {
    const batch = await Promise.all(jobs.slice(i, i + 100).map((j) => Job.fromId<unknown, CheckReport>(queue, j.jobId)));
    batch.forEach((job, k) => {
      const report = job?.returnvalue;
      const code = report?.verdict?.code ?? (job?.failedReason ? `failed: ${job.failedReason.slice(0, 40)}` : "missing");
      codes[code] = (codes[code] ?? 0) + 1;
      const t = senv.targets[(i + k) % senv.targets.length]!;
      if (code !== t.expect)
        unexpected.push({
          target: t.label,
          expected: t.expect,
          got: code,
          title: report?.verdict.title ?? "",
          evidence: report?.verdict.evidence.slice(0, 4) ?? [],
          transcriptTail: report?.transcript.slice(-8).map((l) => `${l.t} ${l.conn} ${l.dir} ${l.text}`) ?? [],
        });
    });
  }
  await queue.close();
  if (unexpected.length) log(`batch: ${unexpected.length} unexpected verdicts, first: ${JSON.stringify(unexpected[0])}`);
  return { wallMs, codes, jobIds: jobs.map((j) => j.jobId), unexpected };
}

async function withWorker<T>(
  prefix: string,
  concurrency: number,
  senv: ScaleEnv,
  fn: (w: WorkerProc, q: CheckQueue) => Promise<T>,
): Promise<T> {
  const w = spawnWorker({
    zone: "bench",
    prefix,
    concurrency,
    env: { ...senv.env, LOG_LEVEL: "warn", FTP_DOCTOR_STALLED_INTERVAL_MS: "30000", FTP_DOCTOR_LOCK_MS: "30000" },
  });
  try {
    await waitForWorker(prefix);
    const q = new CheckQueue(REDIS_URL, prefix);
    await q.connect();
    try {
      return await fn(w, q);
    } finally {
      await q.close();
    }
  } finally {
    await stopWorker(w);
  }
}

function waitForWorker(prefix: string): Promise<void> {
  return waitForZone(prefix, "bench");
}

/** Verdicts that differ from what the target always gives when it is not overloaded, with their evidence. */
function unexpectedNotes(u: Unexpected[]): string[] {
  if (u.length === 0) return [];
  return [
    "",
    `${u.length} check(s) gave an unexpected verdict under load:`,
    ...u.slice(0, 3).map((x) => `- ${x.target}: ${x.got} (expected ${x.expected}) — ${x.title}; ${x.evidence.join("; ")}`),
  ];
}

const codeList = (codes: Record<string, number>) =>
  Object.entries(codes)
    .sort((a, b) => b[1] - a[1])
    .map(([c, n]) => `${c} ${n}`)
    .join(", ");

// ==========================================================================================
// scale: 500 checks, one worker, concurrency 32

async function benchScale(): Promise<{ markdown: string; data: unknown }> {
  const senv = await scaleServers();
  const prefix = uniquePrefix();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  const n = 500;
  const concurrency = 32;
  log(`scale: ${n} checks through one worker at concurrency ${concurrency}`);
  const r = await withWorker(prefix, concurrency, senv, async (w, q) => {
    const before = vmHwmKb(w.pid);
    const cpu0 = cpuSeconds(w.pid);
    const batch = await runBatch(q, prefix, senv, n, 0);
    return { ...batch, hwmKb: vmHwmKb(w.pid), idleHwmKb: before, cpuS: cpuSeconds(w.pid) - cpu0 };
  });
  const rate = n / (r.wallMs / 1000);
  const md = [
    `## Scale: ${n} queued checks, one worker, concurrency ${concurrency}`,
    "",
    `Targets, in turn: ${[...new Set(senv.targets.map((t) => t.label))].join("; ")} (the job ` +
      "timeout differs per job so none is deduplicated). Wall = first enqueue to last completion event.",
    "",
    table(
      [
        "checks",
        "wall",
        "checks/s (target ≥ 50)",
        "worker peak RSS, VmHWM (target ≤ 250 MB)",
        "worker peak when idle",
        "worker CPU",
        "verdicts",
      ],
      [
        [
          n,
          fmtMs(r.wallMs),
          rate.toFixed(1),
          `${(r.hwmKb / 1024).toFixed(0)} MB`,
          `${(r.idleHwmKb / 1024).toFixed(0)} MB`,
          `${r.cpuS.toFixed(1)} s (${((r.cpuS / (r.wallMs / 1000)) * 100).toFixed(0)}% of one core)`,
          codeList(r.codes),
        ],
      ],
    ),
    ...unexpectedNotes(r.unexpected),
  ].join("\n");
  return {
    markdown: md,
    data: {
      checks: n,
      concurrency,
      wallMs: Math.round(r.wallMs),
      checksPerSecond: Math.round(rate * 10) / 10,
      workerPeakRssMb: Math.round(r.hwmKb / 102.4) / 10,
      workerIdleRssMb: Math.round(r.idleHwmKb / 102.4) / 10,
      workerCpuS: Math.round(r.cpuS * 10) / 10,
      verdicts: r.codes,
      unexpected: r.unexpected,
    },
  };
}

// ==========================================================================================
// queue: enqueue-to-start latency, throughput at 1/8/32

async function benchQueue(): Promise<{ markdown: string; data: unknown }> {
  const senv = await scaleServers();
  const prefix = uniquePrefix();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  // Latency: 200 jobs paced at 40/s to an idle worker (concurrency 8): the dispatch cost, not queueing.
  log("queue: enqueue-to-start latency, 200 jobs at 40/s, concurrency 8");
  const busyTarget = senv.targets.find((t) => t.label.startsWith("busy"))!;
  const lat = await withWorker(prefix, 8, senv, async (_w, q) => {
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      const j = await q.enqueue({ v: 1, target: busyTarget.target, zone: "bench", options: { timeout: 20_000 + i }, requestedBy: "bench" });
      ids.push(j.jobId);
      await sleep(Math.max(0, 25 - (performance.now() - t0)));
    }
    await Promise.all(ids.map((id) => q.result("bench", id, 60_000)));
    const queue = new Queue(keys.queueName("bench"), { connection: { url: REDIS_URL }, prefix });
    const jobs = await Promise.all(ids.map((id) => Job.fromId(queue, id)));
    await queue.close();
    return jobs.map((j) => (j?.processedOn ?? Number.NaN) - (j?.timestamp ?? Number.NaN)).filter(Number.isFinite);
  });
  // Throughput of one worker at 1, 8, 32 against the same local servers.
  const through: {
    concurrency: number;
    checks: number;
    wallMs: number;
    rate: number;
    hwmMb: number;
    codes: Record<string, number>;
    unexpected: Unexpected[];
  }[] = [];
  for (const [concurrency, n] of [
    [1, 100],
    [8, 200],
    [32, 320],
  ] as const) {
    log(`queue: throughput at concurrency ${concurrency} (${n} checks)`);
    const r = await withWorker(prefix, concurrency, senv, async (w, q) => ({
      ...(await runBatch(q, prefix, senv, n, concurrency * 1000)),
      hwm: vmHwmKb(w.pid),
    }));
    through.push({
      concurrency,
      checks: n,
      wallMs: r.wallMs,
      rate: n / (r.wallMs / 1000),
      hwmMb: r.hwm / 1024,
      codes: r.codes,
      unexpected: r.unexpected,
    });
  }
  const md = [
    "## Queue: enqueue-to-start latency and one worker's throughput",
    "",
    "Latency = job.processedOn − job.timestamp (BullMQ, via Job.fromId) for 200 jobs enqueued " +
      "at 40/s to one idle worker (concurrency 8); target a 421 server (a verdict in milliseconds).",
    "",
    table(["jobs", "median", "p99", "max"], [[lat.length, fmtMs(median(lat)), fmtMs(quantile(lat, 0.99)), fmtMs(Math.max(...lat))]]),
    "",
    "Throughput: one worker, all jobs enqueued at once, the same mix of local targets " +
      `as the scale run (${[...new Set(senv.targets.map((t) => t.label))].join("; ")}).`,
    "",
    table(
      ["concurrency", "checks", "wall", "checks/s", "worker peak RSS", "verdicts"],
      through.map((t) => [t.concurrency, t.checks, fmtMs(t.wallMs), t.rate.toFixed(1), `${t.hwmMb.toFixed(0)} MB`, codeList(t.codes)]),
    ),
    ...unexpectedNotes(through.flatMap((t) => t.unexpected)),
  ].join("\n");
  return {
    markdown: md,
    data: {
      latency: {
        jobs: lat.length,
        medianMs: Math.round(median(lat)),
        p99Ms: Math.round(quantile(lat, 0.99)),
        maxMs: Math.round(Math.max(...lat)),
      },
      throughput: through.map((t) => ({
        concurrency: t.concurrency,
        checks: t.checks,
        wallMs: Math.round(t.wallMs),
        checksPerSecond: Math.round(t.rate * 10) / 10,
        workerPeakRssMb: Math.round(t.hwmMb),
        verdicts: t.codes,
        unexpected: t.unexpected,
      })),
    },
  };
}

// ==========================================================================================
// bot: ack latency, slash command to threaded verdict

async function benchBot(): Promise<{ markdown: string; data: unknown }> {
  const secret = "bench-signing-secret-0123456789";
  const prefix = uniquePrefix();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  const slack = await startFakeSlack();
  cleanups.push(() => slack.close());
  const vs = await startVsftpd({ extra: { max_per_ip: 0, max_clients: 0 }, pasvRange: await freePortRange(50) });
  cleanups.push(() => vs.stop());
  const dir = makeTempDir();
  cleanups.push(async () => dir.remove());
  const configFile = writeDmzConfig(path.join(dir.path, "bot.yaml"), [
    "slack:",
    "  allowedUsers: [U0OK]",
    // The bench fires hundreds of checks from one user: lift the abuse limits.
    "  limits: { perUser: 10000, perChannel: 10000, concurrentPerUser: 1000 }",
  ]);
  const worker = spawnWorker({ zone: "dmz", prefix, concurrency: 16, env: { LOG_LEVEL: "warn" } });
  cleanups.push(() => stopWorker(worker));
  await waitForZone(prefix, "dmz");
  const bot = await startBotProcess({
    port: await freePort(),
    slackApiUrl: slack.url,
    signingSecret: secret,
    redisUrl: REDIS_URL,
    prefix,
    configFile,
  });
  cleanups.push(() => bot.stop());
  const slash = (text: string) => {
    const body = slashBody({ text });
    return sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(secret, body));
  };
  const headerOf = (c: ApiCall) =>
    JSON.stringify(
      (c.args.blocks as { type: string; text?: { text: string } }[] | undefined)?.find((b) => b.type === "header")?.text?.text ?? "",
    );

  // Slash command to threaded verdict, one at a time (idle bot), healthy server.
  log("bot: slash command → threaded verdict, 5 runs");
  const target = `127.0.0.1:${vs.port}`;
  const toVerdict: number[] = [];
  const ackOf: number[] = [];
  for (let i = 0; i < 5; i++) {
    const sentAt = Date.now();
    const t0 = performance.now();
    const r = await slash(target);
    ackOf.push(r.ms);
    const parent = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.at >= sentAt && String(c.args.text).includes(`Checking ${target}`),
      15_000,
      "parent",
    );
    const ts = String(parent.result?.ts ?? "");
    await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.args.thread_ts === ts && headerOf(c).includes("HEALTHY"),
      30_000,
      "verdict",
    );
    toVerdict.push(performance.now() - t0);
    await sleep(200);
  }
  // Ack latency: 5 rounds of 20 concurrent signed slash commands.
  log("bot: ack latency, 5 × 20 concurrent slash commands");
  const lat: number[] = [];
  for (let round = 0; round < 5; round++) {
    const rs = await Promise.all(Array.from({ length: 20 }, () => slash(target)));
    for (const r of rs) lat.push(r.status === 200 ? r.ms : Number.NaN);
    await sleep(300);
  }
  const ok = lat.filter(Number.isFinite);
  const md = [
    "## Slack bot (real bot process, local Slack Web API, real worker and vsftpd)",
    "",
    table(
      ["measure", "n", "p50", "p99", "max"],
      [
        [
          "slash-command ack, 20 concurrent signed requests (Slack allows 3 s)",
          ok.length,
          fmtMs(median(ok)),
          fmtMs(quantile(ok, 0.99)),
          fmtMs(Math.max(...ok)),
        ],
        [
          "slash command → threaded verdict, healthy server (one at a time)",
          toVerdict.length,
          fmtMs(median(toVerdict)),
          fmtMs(quantile(toVerdict, 0.99)),
          fmtMs(Math.max(...toVerdict)),
        ],
      ],
    ),
    ...(ok.length < lat.length ? ["", `${lat.length - ok.length} of ${lat.length} requests did not get a 200.`] : []),
  ].join("\n");
  return {
    markdown: md,
    data: {
      ack: {
        n: ok.length,
        failed: lat.length - ok.length,
        p50Ms: Math.round(median(ok)),
        p99Ms: Math.round(quantile(ok, 0.99)),
        maxMs: Math.round(Math.max(...ok)),
      },
      slashToVerdict: {
        n: toVerdict.length,
        p50Ms: Math.round(median(toVerdict)),
        maxMs: Math.round(Math.max(...toVerdict)),
        allMs: toVerdict.map(Math.round),
        ackMs: ackOf.map(Math.round),
      },
    },
  };
}

async function waitForZone(prefix: string, zone: string): Promise<void> {
  const r = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  try {
    for (let i = 0; i < 300; i++) {
      if ((await r.zcard(keys.zoneWorkers(prefix, zone))) > 0) return;
      await sleep(50);
    }
    throw new Error(`no worker registered in zone ${zone} within 15 s`);
  } finally {
    r.disconnect();
  }
}

// ==========================================================================================

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) process.stderr.write("bench: not root: the daemons and namespaces need root; expect failures\n");
  const env = environment();
  cleanupStale();
  const results: Record<string, unknown> = { env, sections: args.only };
  const parts: string[] = [
    "# ftp-doctor benchmarks",
    "",
    `${env.date} · ${env.uname} · ${env.cpu} · ${env.cores} cores · ${env.memoryGiB} GiB · ` +
      `Node ${env.node} · ${env.curl} · ${env.lftp} · ${env.vsftpd} · ${env.redis}`,
  ];
  let failed = 0;
  const runners: Record<Section, () => Promise<{ markdown: string; data: unknown }>> = {
    verdict: () => benchVerdict(args),
    rtt: () => benchRtt(args),
    scale: () => benchScale(),
    queue: () => benchQueue(),
    bot: () => benchBot(),
    fleet: () => benchFleet(log),
  };
  for (const s of SECTIONS) {
    if (!args.only.includes(s)) continue;
    const t0 = performance.now();
    try {
      const r = await runners[s]();
      results[s] = { ...(r.data as object), sectionMs: Math.round(performance.now() - t0) };
      parts.push("", r.markdown, "", `_${s}: ${fmtMs(performance.now() - t0)}_`);
    } catch (err) {
      failed++;
      const msg = (err as Error)?.stack ?? String(err);
      log(`${s} failed: ${msg}`);
      results[s] = { error: (err as Error)?.message ?? String(err) };
      parts.push("", `## ${s}`, "", `could not run: ${(err as Error)?.message ?? err}`);
    } finally {
      await cleanupAll();
    }
  }
  results.totalMs = Math.round(performance.now() - T0);
  parts.push("", `Total: ${fmtMs(performance.now() - T0)}.`);
  process.stdout.write(args.json ? `${JSON.stringify(results, null, 2)}\n` : `${parts.join("\n")}\n`);
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 3000).unref();
  },
  async (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? err}\n`);
    await cleanupAll();
    process.exit(1);
  },
);
