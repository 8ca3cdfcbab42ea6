/**
 * Day-one operations: the compose file and Dockerfile (checked statically: no Docker engine
 * here), `config check`, /metrics after real checks, /healthz following Redis, and the README
 * references that must not drift from the code.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigFile } from "../../src/config/file.js";
import { RuntimeEnv } from "../../src/config/env.js";
import { createMetrics } from "../../src/metrics.js";
import { freePort, repoRoot, requirementsOptions } from "../harness/env.js";
import { startVsftpd, type RunningServer } from "../harness/daemons.js";
import { REDIS_URL, spawnWorker, stopWorker, uniquePrefix, type WorkerProc } from "../queue/lib.js";

const BIN = path.join(repoRoot, "bin", "ftp-doctor.js");
const read = (f: string) => readFileSync(path.join(repoRoot, f), "utf8");

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env }, timeout: 30_000 });
}

/** Every environment variable name the code reads (process.env.X, io.env.X, env.X in schemas). */
function variablesInCode(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const f of readdirSync(dir)) {
      const p = path.join(dir, f);
      if (statSync(p).isDirectory()) walk(p);
      else if (p.endsWith(".ts")) for (const m of readFileSync(p, "utf8").matchAll(/\b([A-Z][A-Z0-9_]{2,})\b/g)) names.add(m[1]!);
    }
  };
  walk(path.join(repoRoot, "src"));
  walk(path.join(repoRoot, "workers"));
  return names;
}

const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe("deployment files (static)", () => {
  test("docker-compose.yml: Redis without eviction and with AOF, the bot, two zone workers; commands exist; variables documented", () => {
    const compose = parseYaml(read("docker-compose.yml")) as {
      services: Record<
        string,
        { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; env_file?: string; volumes?: string[] }
      >;
    };
    const s = compose.services;
    assert.ok(s.redis && s.bot && s["worker-dmz"] && s["worker-office"], "services redis, bot, worker-dmz, worker-office");
    // Two bot replicas cover each other's Socket Mode reconnects (README: "Two or more bot replicas").
    assert.ok(s["bot-2"], "a second bot replica");
    assert.match(s.redis.image!, /^redis:7/);
    assert.deepEqual(s.redis.command!.slice(1), ["--maxmemory-policy", "noeviction", "--appendonly", "yes"]);
    assert.deepEqual(s.bot.command, ["bot"]);
    assert.deepEqual(s["worker-dmz"].command!.slice(0, 3), ["worker", "--zone", "dmz"]);
    assert.deepEqual(s["worker-office"].command!.slice(0, 3), ["worker", "--zone", "office"]);
    // Each command the compose file runs is one the CLI has (and the tests exercise).
    for (const [name, svc] of Object.entries(s)) {
      if (!svc.command || name === "redis") continue;
      const r = cli([svc.command[0]!, "--help"]);
      assert.equal(r.status, 0, `${name}: \`ftp-doctor ${svc.command[0]} --help\` failed: ${r.stderr}`);
    }
    const example = read(".env.example");
    const documented = new Set([...example.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
    for (const svc of Object.values(s))
      for (const k of Object.keys(svc.environment ?? {})) assert.ok(documented.has(k), `${k} used in compose but not in .env.example`);
    const inCode = variablesInCode();
    for (const k of documented) if (k !== "FTP_PASSWORD_OPS") assert.ok(inCode.has(k), `.env.example documents ${k}, which no code reads`);
    for (const k of Object.keys(RuntimeEnv.shape)) assert.ok(documented.has(k), `${k} (RuntimeEnv) missing from .env.example`);
    for (const k of [
      "SLACK_BOT_TOKEN",
      "SLACK_APP_TOKEN",
      "SLACK_SIGNING_SECRET",
      "SLACK_API_URL",
      "PORT",
      "OPENAI_API_KEY",
      "OPENAI_BASE_URL",
      "OPENAI_MODEL",
    ])
      assert.ok(documented.has(k), `${k} missing from .env.example`);
    for (const v of [...(s.bot.volumes ?? [])]) assert.ok(existsSync(path.join(repoRoot, v.split(":")[0]!)), `volume source ${v} exists`);
    assert.equal(
      cli(["config", "check", path.join(repoRoot, "config", "ftp-doctor.yaml")], { FTP_PASSWORD_OPS: "x" }).status,
      0,
      "the shipped example configuration is valid",
    );
  });

  test("Dockerfile: multi-stage, Node LTS slim, non-root, production dependencies only, COPY sources exist", () => {
    const df = read("Dockerfile");
    const froms = [...df.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    assert.ok(froms.length >= 2, "multi-stage");
    for (const f of froms) assert.match(f, /^node:(2[02468])-[a-z]+-slim$/, `${f} is a Node LTS slim image`);
    const final = df.slice(df.lastIndexOf("FROM"));
    assert.match(final, /npm ci --omit=dev/);
    assert.match(final, /^USER (?!root)\w+/m);
    assert.match(final, /ENTRYPOINT \["node", "bin\/ftp-doctor.js"\]/);
    for (const m of df.matchAll(/^COPY (?!--from)(.+) \S+$/gm))
      for (const src of m[1]!.split(/\s+/)) assert.ok(existsSync(path.join(repoRoot, src)), `COPY source ${src} exists`);
    assert.ok(read(".dockerignore").includes("node_modules"));
  });
});

describe("ftp-doctor config check", () => {
  const fx = (f: string) => path.join(repoRoot, "test", "fixtures", "config", f);
  test("wrong types, unknown keys: every problem at once, with key path and fix, exit 2", () => {
    const r = cli(["config", "check", fx("bad-types.yaml")]);
    assert.equal(r.status, 2);
    assert.equal(
      r.stderr,
      [
        `${fx("bad-types.yaml")}: 4 problems`,
        "  targets.allow: Invalid input: expected array, received string",
        "    fix: use an array here, not a string",
        '  zones[0]: Unrecognized key: "region"',
        '    fix: remove "region" or check the spelling',
        "  profiles.ops.user: Invalid input: expected string, received number",
        "    fix: use a string here, not a number",
        '  profiles.ops.tls: Invalid option: expected one of "auto"|"explicit"|"implicit"|"off"',
        "    fix: use one of: auto, explicit, implicit, off",
        "",
      ].join("\n"),
    );
  });

  test("invalid CIDR, bad cron, unknown zone and profile in a digest", () => {
    const r = cli(["config", "check", fx("bad-refs.yaml")]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /targets\.allow\[1\]: "10\.0\.0\.0\/33" is not a valid CIDR/);
    assert.match(r.stderr, /digest\.cron: must be a cron expression/);
    assert.match(
      r.stderr,
      /digest\.targets\[0\]: unknown zone "mars" \(zones: dmz\)\n {4}fix: add a zone named mars under zones, or change "from mars"/,
    );
    assert.match(r.stderr, /digest\.profile: unknown profile "nobody"\n {4}fix: define profiles\.nobody, or remove the digest's profile/);
  });

  test("a profile whose password variable is not set on this host", () => {
    const r = cli(["config", "check", fx("missing-password.yaml")]);
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      new RegExp(
        String.raw`profiles\.ops\.passwordEnv: environment variable FTP_DOCTOR_TEST_UNSET_PASSWORD is not set on this host\n {4}` +
          String.raw`fix: export FTP_DOCTOR_TEST_UNSET_PASSWORD=… where the worker runs \(or use passwordFile\)`,
      ),
    );
    assert.equal(cli(["config", "check", fx("missing-password.yaml")], { FTP_DOCTOR_TEST_UNSET_PASSWORD: "set" }).status, 0);
  });

  test("not YAML at all, or no such file", () => {
    assert.match(cli(["config", "check", fx("not-yaml.yaml")]).stderr, /\(file\): not valid YAML/);
    assert.match(cli(["config", "check", "/nonexistent.yaml"]).stderr, /not found/);
  });

  test("the worker refuses to start on a broken configuration, with the same messages", () => {
    const r = spawnSync(process.execPath, [BIN, "worker", "--zone", "dmz"], {
      encoding: "utf8",
      env: { PATH: process.env.PATH ?? "", FTP_DOCTOR_CONFIG: fx("bad-refs.yaml"), REDIS_URL },
      timeout: 15_000,
    });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /digest\.targets\[0\]: unknown zone "mars"/);
  });
});

describe("metrics and health", () => {
  test("/metrics after real checks shows the counters moving", requirementsOptions(["vsftpd", "root"]), async () => {
    const vs: RunningServer = await startVsftpd({});
    cleanups.push(() => vs.stop());
    const prefix = uniquePrefix();
    const port = await freePort();
    const w: WorkerProc = spawnWorker({ zone: "dmz", prefix, env: { METRICS_PORT: String(port) } });
    cleanups.push(() => stopWorker(w));
    await w.waitFor(/metrics listening/);
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const before = await scrape();
    assert.doesNotMatch(before, /ftp_doctor_checks_total\{code="HEALTHY",zone="dmz"\}/);
    for (const args of [
      ["--tls", "off"],
      ["--tls", "explicit"],
    ]) {
      const r = cli(["check", `127.0.0.1:${vs.port}`, ...args, "--zone", "dmz", "--json"], { REDIS_URL, FTP_DOCTOR_REDIS_PREFIX: prefix });
      assert.ok(r.status === 0 || r.status === 1, r.stderr);
    }
    const text = await scrape();
    assert.match(text, /ftp_doctor_checks_total\{code="HEALTHY",zone="dmz"\} 1/);
    assert.match(text, /ftp_doctor_checks_total\{code="FTPS_UNSUPPORTED",zone="dmz"\} 1/);
    assert.match(text, /ftp_doctor_step_duration_seconds_count\{step="greeting",status="ok"\} 2/);
    assert.match(text, /ftp_doctor_queue_waiting\{zone="dmz"\} 0/);
    assert.match(text, /ftp_doctor_queue_oldest_waiting_seconds\{zone="dmz"\} 0/);
  });

  test("/healthz turns unhealthy when Redis stops and healthy again when it is back", async (t) => {
    if (!spawnSync("which", ["redis-server"]).stdout.toString().trim()) return t.skip("redis-server not installed");
    const redisPort = await freePort();
    const startRedis = () => {
      const p: ChildProcess = spawn(
        "redis-server",
        ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        { stdio: "ignore" },
      );
      return p;
    };
    let redis = startRedis();
    cleanups.push(() => void redis.kill("SIGKILL"));
    await waitUntil(() => tcpOpen(redisPort));
    const port = await freePort();
    const w = spawnWorker({
      zone: "dmz",
      prefix: uniquePrefix(),
      redisUrl: `redis://127.0.0.1:${redisPort}`,
      env: { METRICS_PORT: String(port) },
    });
    cleanups.push(() => stopWorker(w));
    await w.waitFor(/metrics listening/);
    const health = async () => {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      return { status: r.status, body: (await r.json()) as { redis: boolean } };
    };
    assert.deepEqual(await health(), { status: 200, body: { ok: true, redis: true } });
    redis.kill("SIGKILL");
    await waitUntil(async () => (await health()).status === 503, 10_000);
    assert.equal((await health()).body.redis, false);
    redis = startRedis();
    await waitUntil(async () => (await health()).status === 200, 15_000);
  });

  test("every metric and every configuration key is in the README", () => {
    const readme = read("README.md");
    const m = createMetrics();
    for (const metric of m.registry.getMetricsAsArray())
      if (metric.name.startsWith("ftp_doctor_") && !metric.name.startsWith("ftp_doctor_process_"))
        assert.ok(readme.includes(`\`${metric.name}\``), `README lacks ${metric.name}`);
    for (const key of configKeys(ConfigFile)) assert.ok(readme.includes(`\`${key}\``), `README configuration reference lacks \`${key}\``);
  });
});

/** Key paths of a zod object schema, as the README writes them (`profiles.<name>.user`). */
function configKeys(schema: z.ZodTypeAny, prefix = ""): string[] {
  let s: z.ZodTypeAny = schema;
  for (;;) {
    if (s instanceof z.ZodPipe) s = s.in as z.ZodTypeAny;
    else if (s instanceof z.ZodDefault || s instanceof z.ZodOptional) s = s.def.innerType as z.ZodTypeAny;
    else break;
  }
  if (s instanceof z.ZodObject)
    return Object.entries(s.shape as Record<string, z.ZodTypeAny>).flatMap(([k, v]) => [
      `${prefix}${k}`,
      ...configKeys(v, `${prefix}${k}.`),
    ]);
  if (s instanceof z.ZodRecord) return configKeys(s.valueType as z.ZodTypeAny, `${prefix}<name>.`);
  if (s instanceof z.ZodArray) return configKeys(s.element as z.ZodTypeAny, `${prefix.replace(/\.$/, "")}[].`);
  if (s instanceof z.ZodUnion) return [...new Set((s.options as z.ZodTypeAny[]).flatMap((o) => configKeys(o, prefix)))];
  return [];
}

function tcpOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, "127.0.0.1");
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

async function waitUntil(pred: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    if (await pred().catch(() => false)) return;
    if (Date.now() - t0 > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
