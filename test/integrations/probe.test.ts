/**
 * GET /probe on a real worker process's metrics port: real Redis, real vsftpd, a second zone's
 * worker. What Prometheus gets for a healthy server, a broken one, a silent one within the
 * scrape timeout; identical concurrent scrapes share one check; the target policy refuses.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { startVsftpd, VSFTPD_USER, type RunningServer } from "../harness/daemons.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { freePort, makeTempDir, requirementsOptions } from "../harness/env.js";
import { deletePrefix, REDIS_URL, spawnWorker, stopWorker, uniquePrefix, type WorkerProc } from "../queue/lib.js";

const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let vs: RunningServer;
let dmz: WorkerProc;
let office: WorkerProc;
let port: number;
let closedPort: number;
let silent: net.Server;
let silentPort: number;
const sockets = new Set<net.Socket>();

async function probe(query: string, headers: Record<string, string> = {}) {
  const r = await fetch(`http://127.0.0.1:${port}/probe?${query}`, { headers });
  return { status: r.status, text: await r.text(), job: r.headers.get("x-ftp-doctor-job") };
}

/** The value of one sample in the exposition text (labels written exactly as prom-client writes them). */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("/probe (multi-target exporter)", requirementsOptions(["vsftpd", "root"]), () => {
  const certs = certFixtures();
  before(async () => {
    const ca = path.join(dir.path, "ca.pem");
    writeFileSync(ca, certs.ca.certPem);
    vs = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
    closedPort = await freePort();
    silent = net.createServer((s) => {
      sockets.add(s);
      s.on("error", () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", () => r()));
    silentPort = (silent.address() as net.AddressInfo).port;
    const config = path.join(dir.path, "ftp-doctor.yaml");
    writeFileSync(
      config,
      [
        "targets:",
        "  allow: ['127.0.0.1/32', 'ftp.example.test']",
        "zones:",
        "  - name: dmz",
        "    targets: ['127.0.0.1/32']",
        "  - name: office",
        "profiles:",
        "  ops:",
        `    user: ${VSFTPD_USER.user}`,
        "    passwordEnv: FTP_PASSWORD_OPS",
        "    tls: explicit",
        `    caFile: ${ca}`,
      ].join("\n"),
    );
    port = await freePort();
    const env = { FTP_DOCTOR_CONFIG: config, FTP_PASSWORD_OPS: VSFTPD_USER.password };
    dmz = spawnWorker({ zone: "dmz", prefix, concurrency: 8, env: { ...env, METRICS_PORT: String(port) } });
    office = spawnWorker({ zone: "office", prefix, concurrency: 2, env });
    await Promise.all([dmz.waitFor(/metrics listening/, 30_000), office.waitFor(/worker started/, 30_000)]);
  });
  after(async () => {
    await Promise.all([dmz, office].filter(Boolean).map((w) => stopWorker(w)));
    for (const s of sockets) s.destroy();
    silent?.close();
    await vs?.stop();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  test("healthy FTPS with a profile: blackbox's series and ours", async () => {
    const r = await probe(`target=127.0.0.1:${vs.port}&profile=ops`, { "X-Prometheus-Scrape-Timeout-Seconds": "10" });
    assert.equal(r.status, 200, r.text);
    assert.equal(sample(r.text, "probe_success"), 1, r.text);
    assert.equal(sample(r.text, 'ftp_doctor_verdict{code="HEALTHY",layer="none"}'), 1, r.text);
    assert.equal(sample(r.text, "probe_ip_protocol"), 4);
    assert.equal(sample(r.text, "ftp_doctor_login_ok"), 1);
    assert.equal(sample(r.text, "ftp_doctor_passive_ok"), 1);
    // The check got the scrape timeout less 0.5 s offset and 1 s for the engine's worst overrun.
    assert.equal(sample(r.text, "probe_timeout_seconds"), 8.5);
    const expiry = sample(r.text, "probe_ssl_earliest_cert_expiry")!;
    // The leaf (90 days) expires before the intermediate and the root: it is the earliest.
    assert.ok(
      Math.abs(expiry - certs.valid.notAfter.getTime() / 1000) < 2,
      `expiry ${expiry} vs leaf ${certs.valid.notAfter.toISOString()}`,
    );
    assert.ok(sample(r.text, 'ftp_doctor_step_duration_seconds{step="login"}')! > 0, r.text);
    assert.ok(sample(r.text, "probe_duration_seconds")! > 0);
    assert.match(r.text, /# TYPE probe_success gauge/);
  });

  test("a stopped server is a failing sample with its verdict, not a scrape error", async () => {
    const r = await probe(`target=127.0.0.1:${closedPort}`, { "X-Prometheus-Scrape-Timeout-Seconds": "5" });
    assert.equal(r.status, 200, r.text);
    assert.equal(sample(r.text, "probe_success"), 0);
    assert.equal(sample(r.text, 'ftp_doctor_verdict{code="TCP_REFUSED",layer="tcp"}'), 1, r.text);
    assert.equal(sample(r.text, "ftp_doctor_login_ok"), undefined, "login never reached: no sample");
  });

  test("a silent server answers within the scrape timeout", async () => {
    const t0 = performance.now();
    const r = await probe(`target=127.0.0.1:${silentPort}`, { "X-Prometheus-Scrape-Timeout-Seconds": "4" });
    const ms = performance.now() - t0;
    assert.equal(r.status, 200, r.text);
    assert.equal(sample(r.text, "probe_success"), 0);
    assert.ok(ms < 4_000, `answered after ${Math.round(ms)} ms, past Prometheus' 4 s timeout`);
    assert.equal(sample(r.text, "probe_timeout_seconds"), 2.5);
  });

  test("identical concurrent scrapes share one check (the queue's dedupe)", async () => {
    const before = (dmz.output().match(/"check started"/g) ?? []).length;
    const rs = await Promise.all(
      Array.from({ length: 8 }, () => probe(`target=127.0.0.1:${vs.port}&profile=ops`, { "X-Prometheus-Scrape-Timeout-Seconds": "9" })),
    );
    for (const r of rs) assert.equal(sample(r.text, "probe_success"), 1, r.text);
    assert.equal(new Set(rs.map((r) => r.job)).size, 1, `job ids: ${rs.map((r) => r.job).join(", ")}`);
    const started = (dmz.output().match(/"check started"/g) ?? []).length - before;
    assert.equal(started, 1, "one check for eight scrapes");
  });

  test("zone=office goes through the office worker", async () => {
    const r = await probe(`target=127.0.0.1:${vs.port}&zone=office`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.job);
    await office.waitFor(new RegExp(`"jobId":"${r.job}"[^\\n]*"check finished"`));
    assert.doesNotMatch(dmz.output(), new RegExp(`"jobId":"${r.job}"[^\\n]*"check started"`));
  });

  describe("abuse: the target policy and input bounds", () => {
    const cases: [string, string, number, RegExp][] = [
      ["no target", "", 400, /Target parameter is missing/],
      ["a target outside the allow-list", "target=ftp.evil.example", 403, /allow-list/],
      ["loopback by name", "target=localhost:21", 403, /allow-list/],
      ["an internal address", "target=10.0.0.5", 403, /allow-list/],
      ["a password in the URL", `target=ftp://u:secret@127.0.0.1:${vs?.port ?? 21}`, 400, /password/],
      ["an unknown zone", "target=127.0.0.1:21&zone=nowhere", 403, /unknown zone/],
      ["a malformed zone", "target=127.0.0.1:21&zone=..%2F..", 400, /zone/],
      ["an unknown profile", "target=127.0.0.1:21&profile=root", 403, /unknown profile/],
      ["two targets", "target=127.0.0.1:21&target=ftp.evil.example", 400, /once/],
      ["a control character", "target=127.0.0.1%0d%0aQUIT", 400, /control characters/],
    ];
    for (const [what, query, status, re] of cases)
      test(`${what} → ${status}, nothing enqueued`, async () => {
        const jobsBefore = (dmz.output().match(/"check started"/g) ?? []).length;
        const r = await probe(query);
        assert.equal(r.status, status, r.text);
        assert.match(r.text, re);
        assert.doesNotMatch(r.text, /secret/);
        assert.equal((dmz.output().match(/"check started"/g) ?? []).length, jobsBefore);
      });
    test("a malformed scrape-timeout header → 400", async () => {
      const r = await probe("target=127.0.0.1:21", { "X-Prometheus-Scrape-Timeout-Seconds": "soon" });
      assert.equal(r.status, 400);
    });
    test("POST → 405", async () => {
      const r = await fetch(`http://127.0.0.1:${port}/probe?target=127.0.0.1:21`, { method: "POST" });
      assert.equal(r.status, 405);
    });
  });
});
