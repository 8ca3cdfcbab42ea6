/**
 * The monitoring stack end to end, all real and all on loopback: vsftpd, Redis, two zone
 * workers, the bot (HTTP mode, a local Slack Web API), Debian's Prometheus scraping /probe
 * through the shipped relabelling and evaluating the shipped rules (with short `for:`), and
 * Debian's Alertmanager routing to the bot's webhook. Then the webhook and auto-triage are
 * attacked directly.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { parse, stringify } from "yaml";
import { startVsftpd, type RunningServer } from "../harness/daemons.js";
import { freePort, makeTempDir, repoRoot, requirementsOptions, requireTool } from "../harness/env.js";
import { createNetns, type Netns } from "../harness/netns.js";
import { spawnDaemon, type DaemonProcess } from "../harness/proc.js";
import { deletePrefix, REDIS_URL, spawnWorker, stopWorker, uniquePrefix, type WorkerProc } from "../queue/lib.js";
import { type BotProcess, startBotProcess } from "../slack/botProcess.js";
import { messageBody, sendToBot, sign, startFakeSlack, type ApiCall, type FakeSlack } from "../slack/fakeSlack.js";

const SECRET = "test-signing-secret-0123456789";
const TOKEN = "am-token-0123456789abcdef0123";
const ALERTS = "C0ALERTS";
const INCIDENTS = "C0INCIDENTS";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let slack: FakeSlack;
let vs: RunningServer | undefined;
let ftpPort: number;
/** A second vsftpd in a network namespace, whose passive ports get blocked. */
let ns: Netns | undefined;
let nsFtp: RunningServer | undefined;
let nsTarget = "";
let workers: WorkerProc[] = [];
let bot: BotProcess | undefined;
let botPort: number;
let metricsPort: number;
let prom: DaemonProcess | undefined;
let am: DaemonProcess | undefined;
let promPort: number;
let amPort: number;

const hook = (body: string, headers: Record<string, string> = {}) =>
  fetch(`http://127.0.0.1:${metricsPort}/hooks/alertmanager`, {
    method: "POST",
    body,
    headers: { "content-type": "application/json", ...headers },
  });
const bearer = { authorization: `Bearer ${TOKEN}` };

function notification(o: { groupKey: string; status?: "firing" | "resolved"; instances: string[]; alertname?: string }): string {
  const status = o.status ?? "firing";
  return JSON.stringify({
    version: "4",
    groupKey: o.groupKey,
    status,
    receiver: "ftp-doctor",
    groupLabels: { alertname: o.alertname ?? "FtpDownAllZones" },
    commonLabels: { alertname: o.alertname ?? "FtpDownAllZones" },
    commonAnnotations: {},
    externalURL: "http://127.0.0.1:9093",
    truncatedAlerts: 0,
    alerts: o.instances.map((instance, i) => ({
      status,
      labels: { alertname: o.alertname ?? "FtpDownAllZones", instance, job: "ftp-doctor", zone: "dmz" },
      annotations: {},
      startsAt: new Date().toISOString(),
      endsAt: "0001-01-01T00:00:00Z",
      fingerprint: `f${i}`,
    })),
  });
}

async function promQuery(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(q)}`);
  const j = (await r.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
  return j.data.result;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const posts = (channel: string) => slack.ok("chat.postMessage").filter((c) => c.args.channel === channel);
const inThread = (channel: string, ts: string) => posts(channel).filter((c) => c.args.thread_ts === ts);
const textOf = (c: ApiCall) => `${String(c.args.text ?? "")} ${JSON.stringify(c.args.blocks ?? [])}`;

function startBot(configFile: string): Promise<BotProcess> {
  const env = { METRICS_PORT: String(metricsPort), FTP_DOCTOR_ALERTMANAGER_TOKEN: TOKEN, FTP_DOCTOR_RESULT_WAIT_MS: "20000" };
  return startBotProcess({ port: botPort, slackApiUrl: slack.url, signingSecret: SECRET, prefix, configFile, env, startTimeoutMs: 20_000 });
}

const event = (body: string) => sendToBot(bot!.url, body, "application/json", sign(SECRET, body));

describe(
  "Prometheus, Alertmanager, the webhook and auto-triage",
  requirementsOptions(["vsftpd", "root", "prometheus", "prometheus-alertmanager"]),
  () => {
    before(async () => {
      slack = await startFakeSlack();
      vs = await startVsftpd({});
      ftpPort = vs.port;
      ns = await createNetns();
      nsFtp = await startVsftpd({ netns: ns.name, listenAddress: ns.nsAddress });
      nsTarget = `${ns.nsAddress}:${nsFtp.port}`;
      [botPort, metricsPort, promPort, amPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
      const config = path.join(dir.path, "ftp-doctor.yaml");
      writeFileSync(
        config,
        stringify({
          targets: { allow: ["127.0.0.1/32", "198.18.0.0/15", "*.example.test"] },
          zones: [{ name: "dmz", targets: ["127.0.0.1/32", "198.18.0.0/15"] }, { name: "office" }],
          slack: { autoTriageChannels: [INCIDENTS], allowedUsers: ["U0OK"] },
          alerts: { channel: ALERTS },
        }),
      );
      workers = [spawnWorker({ zone: "dmz", prefix, concurrency: 8 }), spawnWorker({ zone: "office", prefix, concurrency: 4 })];
      await Promise.all(workers.map((w) => w.waitFor(/worker started/, 30_000)));
      bot = await startBot(config);

      // Prometheus: the shipped ftp-doctor job (its relabelling untouched) pointed at this bot and
      // this vsftpd, scraped every 2 s; the shipped rules with `for:` shortened to 2 s.
      const shipped = parse(readFileSync(path.join(repoRoot, "deploy", "prometheus", "prometheus.yml"), "utf8")) as {
        scrape_configs: { job_name: string; relabel_configs: { replacement?: string; target_label: string }[] }[];
      };
      const job = structuredClone(shipped.scrape_configs.find((j) => j.job_name === "ftp-doctor")!) as Record<string, unknown> & {
        relabel_configs: { replacement?: string; target_label: string }[];
      };
      job.scrape_interval = "2s";
      job.scrape_timeout = "2s";
      job.static_configs = [{ targets: [`127.0.0.1:${ftpPort}`, nsTarget], labels: { zone: "dmz" } }];
      job.relabel_configs.find((r) => r.target_label === "__address__")!.replacement = `127.0.0.1:${metricsPort}`;
      const rules = readFileSync(path.join(repoRoot, "deploy", "prometheus", "ftp-doctor.rules.yml"), "utf8").replace(
        /for: \d+[smh]/g,
        "for: 2s",
      );
      writeFileSync(path.join(dir.path, "rules.yml"), rules);
      writeFileSync(
        path.join(dir.path, "prometheus.yml"),
        stringify({
          global: { scrape_interval: "2s", evaluation_interval: "1s" },
          rule_files: [path.join(dir.path, "rules.yml")],
          alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
          scrape_configs: [job],
        }),
      );
      // Alertmanager: the shipped route and receiver, pointed at this bot, with short group timers.
      const amShipped = parse(readFileSync(path.join(repoRoot, "deploy", "prometheus", "alertmanager.yml"), "utf8")) as {
        route: { routes: Record<string, unknown>[] };
        receivers: { name: string; webhook_configs?: { url: string; http_config: { authorization: Record<string, string> } }[] }[];
      };
      Object.assign(amShipped.route.routes[0]!, { group_wait: "1s", group_interval: "2s", repeat_interval: "1h" });
      const wh = amShipped.receivers.find((r) => r.name === "ftp-doctor")!.webhook_configs![0]!;
      wh.url = `http://127.0.0.1:${metricsPort}/hooks/alertmanager`;
      writeFileSync(path.join(dir.path, "am.token"), TOKEN);
      wh.http_config.authorization.credentials_file = path.join(dir.path, "am.token");
      writeFileSync(path.join(dir.path, "alertmanager.yml"), stringify(amShipped));
      am = spawnDaemon(requireTool("prometheus-alertmanager"), [
        `--config.file=${path.join(dir.path, "alertmanager.yml")}`,
        `--storage.path=${path.join(dir.path, "am-data")}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        "--cluster.listen-address=",
      ]);
      prom = spawnDaemon(requireTool("prometheus"), [
        `--config.file=${path.join(dir.path, "prometheus.yml")}`,
        `--storage.tsdb.path=${path.join(dir.path, "prom-data")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ]);
      await until("Alertmanager and Prometheus ready", async () => {
        const [a, p] = await Promise.all([fetch(`http://127.0.0.1:${amPort}/-/ready`), fetch(`http://127.0.0.1:${promPort}/-/ready`)]);
        return a.ok && p.ok ? true : undefined;
      });
    });

    after(async () => {
      await prom?.stop();
      await am?.stop();
      await bot?.stop();
      await Promise.all(workers.map((w) => stopWorker(w)));
      await vs?.stop();
      await nsFtp?.stop();
      await ns?.destroy();
      await slack?.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      dir.remove();
    });

    test("Prometheus scrapes /probe through the shipped relabelling: probe_success and the verdict", async () => {
      const ok = await until("probe_success 1 in Prometheus", async () => {
        const r = await promQuery(`probe_success{instance="127.0.0.1:${ftpPort}"}`);
        return r.length && r[0]!.value[1] === "1" ? r : undefined;
      });
      assert.equal(ok[0]!.metric.instance, `127.0.0.1:${ftpPort}`, "instance is the FTP target, not the exporter");
      assert.equal(ok[0]!.metric.zone, "dmz");
      const verdict = await promQuery(`ftp_doctor_verdict{instance="127.0.0.1:${ftpPort}"} == 1`);
      assert.equal(verdict[0]?.metric.code, "HEALTHY", JSON.stringify(verdict));
      await until("both targets scraped, up 1", async () => {
        const up = await promQuery('up{job="ftp-doctor"} == 1');
        return up.length === 2 ? true : undefined;
      });
      await until("the namespace server's passive_ok 1", async () =>
        (await promQuery(`ftp_doctor_passive_ok{instance="${nsTarget}"} == 1`)).length ? true : undefined,
      );
    });

    test("the server stops: the shipped rule fires, Alertmanager calls the webhook, the diagnosis lands in the thread; restarted: resolved", async () => {
      await vs!.stop();
      vs = undefined;
      const down = await until("verdict TCP_REFUSED in Prometheus", async () => {
        const r = await promQuery('ftp_doctor_verdict{code="TCP_REFUSED"}');
        return r.length ? r : undefined;
      });
      assert.equal(down[0]!.metric.layer, "tcp");
      assert.equal((await promQuery(`probe_success{instance="127.0.0.1:${ftpPort}"}`))[0]?.value[1], "0");
      await until("FtpDownAllZones firing in Prometheus' alerts API", async () => {
        const r = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return r.data.alerts.find(
          (a) => a.labels.alertname === "FtpDownAllZones" && a.state === "firing" && a.labels.code === "TCP_REFUSED",
        );
      });
      const parent = await slack.waitFor(
        (c) =>
          c.method === "chat.postMessage" &&
          c.args.channel === ALERTS &&
          !c.args.thread_ts &&
          String(c.args.text).includes("FtpDownAllZones"),
        60_000,
        "the alert's thread parent in the alerts channel",
      );
      const ts = String(parent.result!.ts);
      assert.match(String(parent.args.text), new RegExp(`127\\.0\\.0\\.1:${ftpPort}`));
      await slack.waitFor(
        (c) =>
          c.method === "chat.postMessage" && c.args.thread_ts === ts && textOf(c).includes("TCP_REFUSED") && Array.isArray(c.args.blocks),
        60_000,
        "the TCP_REFUSED verdict in the alert's thread",
      );
      // Two zones: a cross-zone summary says the fault is the server's.
      await slack.waitFor((c) => c.args.thread_ts === ts && /every zone/.test(String(c.args.text)), 30_000, "cross-zone summary");
      await slack.waitFor(
        (c) => c.method === "chat.update" && c.args.ts === ts && String(c.args.text).includes("TCP_REFUSED"),
        30_000,
        "parent updated",
      );

      // Back on the same port: the alert resolves and the thread says so.
      vs = await startVsftpd({ port: ftpPort });
      await slack.waitFor(
        (c) => c.method === "chat.postMessage" && c.args.thread_ts === ts && /Resolved/.test(String(c.args.text)),
        90_000,
        "the resolved note in the thread",
      );
      await slack.waitFor(
        (c) => c.method === "chat.update" && c.args.ts === ts && /RESOLVED/.test(String(c.args.text)),
        10_000,
        "parent resolved",
      );
      assert.equal(
        posts(ALERTS).filter((c) => !c.args.thread_ts && String(c.args.text).includes("FtpDownAllZones")).length,
        1,
        "one thread for the group",
      );
    });

    test("passive ports blocked: FtpPassiveModeBroken fires and its thread gets PASV_PORTS_BLOCKED", async () => {
      // A reset, not a silent drop: the check then decides well inside the 2 s scrape timeout.
      await ns!.iptables([
        "-A",
        "INPUT",
        "-p",
        "tcp",
        "--dport",
        `${nsFtp!.pasvRange[0]}:${nsFtp!.pasvRange[1]}`,
        "-j",
        "REJECT",
        "--reject-with",
        "tcp-reset",
      ]);
      await until("passive_ok 0 and PASV_PORTS_BLOCKED in Prometheus", async () => {
        const p = await promQuery(`ftp_doctor_passive_ok{instance="${nsTarget}"} == 0`);
        const v = await promQuery(`ftp_doctor_verdict{instance="${nsTarget}", code="PASV_PORTS_BLOCKED"}`);
        return p.length && v.length ? true : undefined;
      });
      const parent = await slack.waitFor(
        (c) =>
          c.method === "chat.postMessage" &&
          c.args.channel === ALERTS &&
          !c.args.thread_ts &&
          String(c.args.text).includes("FtpPassiveModeBroken"),
        60_000,
        "the passive alert's thread",
      );
      assert.ok(String(parent.args.text).includes(nsTarget));
      const ts = String(parent.result!.ts);
      await slack.waitFor(
        (c) =>
          c.method === "chat.postMessage" &&
          c.args.thread_ts === ts &&
          textOf(c).includes("PASV_PORTS_BLOCKED") &&
          Array.isArray(c.args.blocks),
        60_000,
        "PASV_PORTS_BLOCKED in the passive alert's thread",
      );
    });

    describe("abuse: the webhook", () => {
      test("no credentials, a wrong token, wrong basic auth → 401 and nothing posted", async () => {
        const parents = () => posts(ALERTS).filter((c) => !c.args.thread_ts).length;
        const before = parents();
        const opened = (bot!.out().match(/"alert thread opened"/g) ?? []).length;
        const body = notification({ groupKey: "abuse-1", instances: [`127.0.0.1:${ftpPort}`] });
        const attempts: Record<string, string>[] = [
          {},
          { authorization: "Bearer wrong-token-0123456789abcdef" },
          { authorization: `Bearer ${TOKEN}x` },
          { authorization: `Basic ${Buffer.from(`alertmanager:${TOKEN.slice(0, -1)}`).toString("base64")}` },
          { authorization: TOKEN },
        ];
        for (const headers of attempts) {
          const r = await hook(body, headers);
          assert.equal(r.status, 401, JSON.stringify(headers));
          assert.match(r.headers.get("www-authenticate") ?? "", /Bearer/);
        }
        await new Promise((r) => setTimeout(r, 500));
        assert.equal(parents(), before);
        assert.equal((bot!.out().match(/"alert thread opened"/g) ?? []).length, opened);
        assert.equal((bot!.out().match(/unauthorized request refused/g) ?? []).length >= attempts.length, true);
      });

      test("basic auth with the token as password is accepted", async () => {
        const r = await hook(notification({ groupKey: "basic-1", instances: ["ftp.unlisted.invalid"] }), {
          authorization: `Basic ${Buffer.from(`alertmanager:${TOKEN}`).toString("base64")}`,
        });
        assert.equal(r.status, 200);
      });

      test("an oversize body → 413 (declared or streamed); not JSON, or not a v4 payload → 400", async () => {
        const big = JSON.stringify({ version: "4", pad: "x".repeat(300 * 1024) });
        assert.equal((await hook(big, bearer)).status, 413);
        // Streamed without a length: cut at the limit.
        const stream = new ReadableStream({
          start(c) {
            for (let i = 0; i < 40; i++) c.enqueue(new TextEncoder().encode("x".repeat(16 * 1024)));
            c.close();
          },
        });
        const r = await fetch(`http://127.0.0.1:${metricsPort}/hooks/alertmanager`, {
          method: "POST",
          body: stream,
          headers: bearer,
          duplex: "half",
        } as RequestInit).catch((err: Error) => ({ status: 413, err }));
        assert.equal(r.status, 413);
        assert.equal((await hook("{not json", bearer)).status, 400);
        assert.equal((await hook(JSON.stringify({ version: "3", alerts: [] }), bearer)).status, 400);
      });

      test("a target outside the allow-list, or loopback by name, in an alert label: ignored silently", async () => {
        const before = posts(ALERTS).length;
        for (const [i, instance] of ["ftp.evil.example:21", "localhost:21", "10.0.0.1:21", "ftp://u:pw@127.0.0.1:21"].entries()) {
          const r = await hook(notification({ groupKey: `outside-${i}`, instances: [instance] }), bearer);
          assert.equal(r.status, 200);
        }
        await new Promise((r) => setTimeout(r, 1_000));
        assert.equal(posts(ALERTS).length, before, "nothing posted for targets the policy refuses");
        assert.match(bot!.out(), /alert names no permitted FTP target; ignored/);
      });

      test("a flood of notifications for one group: one thread, one check", async () => {
        const checksBefore = (bot!.out().match(/"alert diagnosis posted"/g) ?? []).length;
        const body = notification({ groupKey: "flood-1", alertname: "FtpLoginFailing", instances: [`127.0.0.1:${ftpPort}`] });
        const rs = await Promise.all(Array.from({ length: 40 }, () => hook(body, bearer)));
        assert.ok(rs.every((r) => r.status === 200));
        const parent = await slack.waitFor(
          (c) => c.method === "chat.postMessage" && c.args.channel === ALERTS && String(c.args.text).includes("FtpLoginFailing"),
          20_000,
          "the flood's thread",
        );
        const ts = String(parent.result!.ts);
        await slack.waitFor(
          (c) => c.args.thread_ts === ts && textOf(c).includes("HEALTHY") && Array.isArray(c.args.blocks),
          30_000,
          "its verdict",
        );
        // More notifications of the same group while and after it ran: absorbed.
        await Promise.all(Array.from({ length: 20 }, () => hook(body, bearer)));
        await new Promise((r) => setTimeout(r, 1_500));
        assert.equal(
          posts(ALERTS).filter((c) => !c.args.thread_ts && String(c.args.text).includes("FtpLoginFailing")).length,
          1,
          "one thread",
        );
        const verdicts = inThread(ALERTS, ts).filter((c) => Array.isArray(c.args.blocks));
        assert.equal(verdicts.length, 1, "one verdict (both zones agree): one check per zone, once");
        assert.equal((bot!.out().match(/"alert diagnosis posted"/g) ?? []).length - checksBefore, 1);
      });
    });

    describe("auto-triage", () => {
      const alertAttachment = (host: string) => [
        {
          color: "danger",
          title: "[FIRING:1] FtpDownAllZones",
          text: `*Alert:* FTP down from every zone\n*Labels:* instance=${host} zone=dmz`,
          fallback: `[FIRING:1] FtpDownAllZones ${host}`,
        },
      ];

      test("an alert-shaped bot message in an opted-in channel gets one threaded diagnosis", async () => {
        const ts = "1700000100.000100";
        const r = await event(
          messageBody({ channel: INCIDENTS, ts, botId: "B0ALERTMGR", attachments: alertAttachment(`127.0.0.1:${ftpPort}`) }),
        );
        assert.equal(r.status, 200);
        await slack.waitFor(
          (c) =>
            c.method === "chat.postMessage" &&
            c.args.channel === INCIDENTS &&
            c.args.thread_ts === ts &&
            textOf(c).includes("HEALTHY") &&
            Array.isArray(c.args.blocks),
          30_000,
          "the diagnosis in the alert message's thread",
        );
        // A person replying in that thread with the host again: no second diagnosis.
        await event(messageBody({ channel: INCIDENTS, ts: "1700000100.000200", threadTs: ts, text: `still broken? 127.0.0.1:${ftpPort}` }));
        // The same alert re-delivered (Slack retry): nothing new either.
        await event(messageBody({ channel: INCIDENTS, ts, botId: "B0ALERTMGR", attachments: alertAttachment(`127.0.0.1:${ftpPort}`) }));
        await new Promise((r) => setTimeout(r, 2_000));
        assert.equal(inThread(INCIDENTS, ts).filter((c) => Array.isArray(c.args.blocks)).length, 1);
      });

      test("an app posting with its bot token (Grafana: user and bot_id, blocks) is an alert too, not a person held to allowedUsers", async () => {
        const ts = "1700000150.000100";
        const body = JSON.parse(messageBody({ channel: INCIDENTS, ts, appUser: "U0GRAFANA", botId: "B0GRAFANA" })) as {
          event: Record<string, unknown>;
        };
        body.event.blocks = [
          { type: "section", text: { type: "mrkdwn", text: `*[Alerting] FTP upload latency* on ftp target 127.0.0.1:${ftpPort}` } },
        ];
        await event(JSON.stringify(body));
        await slack.waitFor(
          (c) => c.args.channel === INCIDENTS && c.args.thread_ts === ts && Array.isArray(c.args.blocks),
          30_000,
          "diagnosis",
        );
      });

      test("a person's message naming the host gets a diagnosis too", async () => {
        const ts = "1700000200.000100";
        await event(messageBody({ channel: INCIDENTS, ts, user: "U0OK", text: `uploads failing to 127.0.0.1:${ftpPort} since 03:00` }));
        await slack.waitFor(
          (c) => c.args.channel === INCIDENTS && c.args.thread_ts === ts && Array.isArray(c.args.blocks),
          30_000,
          "diagnosis",
        );
      });

      test("another channel, a target outside the policy, loopback by name, a person not allowed, our own posts: nothing", async () => {
        const before = slack.ok("chat.postMessage").length;
        await event(
          messageBody({
            channel: "C0OTHER",
            ts: "1700000300.000100",
            botId: "B0ALERTMGR",
            attachments: alertAttachment(`127.0.0.1:${ftpPort}`),
          }),
        );
        await event(
          messageBody({
            channel: INCIDENTS,
            ts: "1700000300.000200",
            botId: "B0ALERTMGR",
            attachments: alertAttachment("ftp.evil.example"),
          }),
        );
        await event(messageBody({ channel: INCIDENTS, ts: "1700000300.000300", text: "is localhost:21 down?" }));
        await event(
          messageBody({ channel: INCIDENTS, ts: "1700000300.000350", user: "U0STRANGER", text: `is 127.0.0.1:${ftpPort} down?` }),
        );
        await event(messageBody({ channel: INCIDENTS, ts: "1700000300.000400", botId: "B0BOT", text: `Checking 127.0.0.1:${ftpPort}` }));
        await new Promise((r) => setTimeout(r, 2_500));
        const after = slack.ok("chat.postMessage").slice(before);
        assert.deepEqual(
          after.map((c) => `${c.args.channel} ${String(c.args.text).slice(0, 80)}`),
          [],
          "no post, no ephemeral: ignored silently",
        );
        assert.equal(slack.ok("chat.postEphemeral").filter((c) => c.args.channel === INCIDENTS || c.args.channel === "C0OTHER").length, 0);
      });
    });
  },
);
