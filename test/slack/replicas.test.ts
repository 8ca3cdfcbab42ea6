/**
 * Two bot replicas on one Slack app in Socket Mode (the supported way to cover reconnect gaps),
 * against the Socket Mode stand-in: commands across disconnects answered once, watches that
 * survive the replica that started them, channels the bot is not in, and a worker killed with
 * -9 under default lock/stalled settings.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { freePort, makeTempDir } from "../harness/env.js";
import { startFakeFtp, type FakeFtpServer } from "../harness/scripted.js";
import {
  deletePrefix,
  REDIS_URL,
  spawnWorker,
  startWorker,
  stopWorker,
  uniquePrefix,
  type WorkerProc,
  writeDmzConfig,
} from "../queue/lib.js";
import { actionPayload, type BotProc, slashPayload, spawnBot } from "./botProc.js";
import { startFakeSlack, type ApiCall, type FakeSlack } from "./fakeSlack.js";
import { startFakeSocketMode, type FakeSocketMode } from "./fakeSocketMode.js";

const BOT_TOKEN = "xoxb-1-replica-test";
const APP_TOKEN = "xapp-1-A0APP-1-replicatest";
const LIMITS = "  limits: { perUser: 1000, perChannel: 1000, concurrentPerUser: 1000 }";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let sm: FakeSocketMode;
let slack: FakeSlack;
let worker: WorkerProc;
let busy: FakeFtpServer;
let configFile: string;
const bots: BotProc[] = [];

async function startBot(extra: Record<string, string> = {}): Promise<BotProc> {
  const b = spawnBot({
    FTP_DOCTOR_REDIS_PREFIX: prefix,
    FTP_DOCTOR_CONFIG: configFile,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.url,
    FTP_DOCTOR_POST_SPACING_MS: "0",
    FTP_DOCTOR_WATCH_INTERVAL_MS: "1500",
    FTP_DOCTOR_WATCH_DURATION_MS: "120000",
    ...extra,
  });
  bots.push(b);
  await b.waitFor(/"bot started"/, 45_000);
  return b;
}

const tsOf = (c: ApiCall) => String(c.result?.ts ?? "");
const isVerdict = (c: ApiCall, code: string) =>
  c.method === "chat.postMessage" && !!c.args.thread_ts && JSON.stringify(c.args.blocks ?? "").includes(code);

/**
 * Send `help` every `everyMs` for `totalMs`, run `disrupt` after 300 ms; what Slack would
 * show: `dispatch_failed` (no connection open: the reconnect gap) and `operation_timeout`
 * (sent to a connection that died before the ack came back), and the span of the failures.
 */
async function commandsAcross(disrupt: () => void, totalMs = 4_000, everyMs = 50) {
  const sent: Promise<{ at: number; outcome: string }>[] = [];
  const t0 = Date.now();
  let disrupted = false;
  while (Date.now() - t0 < totalMs) {
    if (!disrupted && Date.now() - t0 >= 300) {
      disrupted = true;
      disrupt();
    }
    const at = Date.now();
    sent.push(sm.command(slashPayload({ text: "help" })).then((r) => ({ at, outcome: r.outcome })));
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const results = await Promise.all(sent);
  const failed = results.filter((r) => r.outcome !== "acked");
  const gapMs = failed.length ? failed[failed.length - 1]!.at - failed[0]!.at + everyMs : 0;
  return {
    sent: results.length,
    failed: failed.length,
    dispatchFailed: failed.filter((r) => r.outcome === "dispatch_failed").length,
    timedOut: failed.filter((r) => r.outcome === "operation_timeout").length,
    gapMs,
  };
}

const show = (what: string, r: Awaited<ReturnType<typeof commandsAcross>>) =>
  console.log(
    `# ${what}: ${r.failed}/${r.sent} commands failed (${r.dispatchFailed} dispatch_failed, ${r.timedOut} operation_timeout), span ${r.gapMs} ms`,
  );

describe("bot replicas in Socket Mode", () => {
  before(async () => {
    sm = await startFakeSocketMode({ pingMs: 1_000 });
    slack = await startFakeSlack({ socketMode: sm, tokens: { bot: [BOT_TOKEN], app: [APP_TOKEN] }, notInChannel: ["C0NOTIN"] });
    busy = await startFakeFtp({ greeting: "421 There are too many connected users, please try later." });
    // Bursts of commands from one user are the point here; the limits have their own tests.
    configFile = writeDmzConfig(path.join(dir.path, "bot.yaml"), ["slack:", LIMITS]);
    worker = await startWorker({ zone: "dmz", prefix, concurrency: 8 });
  });
  after(async () => {
    for (const b of bots) await b.stop();
    await stopWorker(worker);
    await Promise.allSettled([busy.stop(), slack.close(), sm.close()]);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  test("one replica: a refresh is handed over without a gap; a dropped link is reconnected at once", async () => {
    const bot = await startBot();
    try {
      await sm.waitForConnections(1);
      const refresh = await commandsAcross(() => sm.disconnect("refresh_requested"));
      show("one replica, refresh_requested", refresh);
      assert.equal(refresh.failed, 0, "make-before-break: no command fails during a refresh");
      await sm.waitForConnections(1);
      const warned = await commandsAcross(() => sm.disconnect("warning"));
      show("one replica, warning", warned);
      assert.equal(warned.failed, 0);
      await sm.waitForConnections(1);
      const dropped = await commandsAcross(() => sm.drop());
      show("one replica, connection dropped", dropped);
      assert.ok(dropped.failed < dropped.sent / 2, "reconnected well before the end of the run");
      assert.equal(bot.child.exitCode, null);
    } finally {
      await bot.stop();
    }
  });

  test("two replicas, a disconnect on one: every command answered, once", async () => {
    const a = await startBot();
    const b = await startBot();
    try {
      await sm.waitForConnections(2);
      const gap = await commandsAcross(() => sm.drop(sm.connections()[0]));
      show("two replicas, one connection dropped", gap);
      // Only a command already on the dropped connection can be lost; never one for lack of a connection.
      assert.equal(gap.dispatchFailed, 0, "the other replica's connection was always there");
      assert.ok(gap.timedOut <= 1);
      await sm.waitForConnections(2);
      // Real checks across a refresh of one replica's connection, then a warning to the other's.
      const t0 = Date.now();
      const outcomes: Promise<string>[] = [];
      const [first, second] = sm.connections();
      for (let i = 0; i < 20; i++) {
        if (i === 5) sm.disconnect("refresh_requested", first);
        if (i === 12) sm.disconnect("warning", second);
        outcomes.push(sm.command(slashPayload({ text: `127.0.0.1:${busy.port}` })).then((r) => r.outcome));
        await new Promise((r) => setTimeout(r, 100));
      }
      const got = await Promise.all(outcomes);
      assert.deepEqual(
        got,
        Array(20).fill("acked"),
        `deliveries: ${JSON.stringify(
          sm.deliveries.slice(-25).map((d) => [d.conn, d.sentAt - t0, d.ackedAt ? d.ackedAt - d.sentAt : null]),
        )}\nlink log: ${JSON.stringify(sm.log.map((l) => [l.conn, l.kind, l.at - t0]))}`,
      );
      const parents = () =>
        slack.ok("chat.postMessage").filter((c) => c.at >= t0 && String(c.args.text).includes(`Checking 127.0.0.1:${busy.port}`));
      await slack.waitFor(() => parents().length >= 20, 30_000, "20 parents");
      for (const p of parents())
        await slack.waitFor((c) => isVerdict(c, "SERVER_BUSY") && c.args.thread_ts === tsOf(p), 30_000, `verdict for ${tsOf(p)}`);
      await new Promise((r) => setTimeout(r, 1_500));
      assert.equal(parents().length, 20, "one parent per command");
      const verdicts = slack.ok("chat.postMessage").filter((c) => c.at >= t0 && isVerdict(c, "SERVER_BUSY"));
      assert.equal(verdicts.length, 20, "one verdict per command");
      assert.equal(new Set(verdicts.map((v) => v.args.thread_ts)).size, 20);
      assert.equal(a.child.exitCode, null);
      assert.equal(b.child.exitCode, null);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test("a watch survives the replica that started it: the other one posts the recovery, once", async () => {
    const a = await startBot();
    const b = await startBot();
    const port = await freePort();
    try {
      await sm.waitForConnections(2);
      const t0 = Date.now();
      await sm.command(slashPayload({ text: `127.0.0.1:${port}` }));
      const verdict = await slack.waitFor((c) => c.at >= t0 && isVerdict(c, "TCP_REFUSED"), 30_000, "TCP_REFUSED verdict");
      const value = (verdict.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[])
        .find((x) => x.type === "actions")!
        .elements!.find((e) => e.action_id === "ftp_watch")!.value;
      const click = await sm.interactive(
        actionPayload({ actionId: "ftp_watch", value, messageTs: tsOf(verdict), threadTs: String(verdict.args.thread_ts) }),
      );
      assert.ok(click.ackedAt, "button acked");
      await slack.waitFor((c) => /Watching 127\.0\.0\.1:\d+/.test(String(c.args.text)), 10_000, "watch ack with the port");
      // Whichever replica took the click dies; the watch lives in Redis and BullMQ.
      await a.stop("SIGKILL");
      const up = await startFakeFtp({
        greeting: "220 back",
        port,
        replies: { USER: "530 no", AUTH: "500 no", FEAT: "500 no", QUIT: { reply: "221 bye", close: true } },
      });
      try {
        const rec = await slack.waitFor((c) => /recovered after/.test(String(c.args.text)), 30_000, "recovery message");
        assert.equal(rec.args.thread_ts, verdict.args.thread_ts);
        assert.match(String(rec.args.text), new RegExp(`127\\.0\\.0\\.1:${port} recovered`));
        await new Promise((r) => setTimeout(r, 4_000));
        assert.equal(slack.ok("chat.postMessage").filter((c) => /recovered after/.test(String(c.args.text))).length, 1);
      } finally {
        await up.stop();
      }
      const watchQueue = new Queue("watch", { connection: redis, prefix });
      assert.ok((await watchQueue.getDelayedCount()) >= 1, "the next tick is a delayed BullMQ job");
      await watchQueue.close();
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test("a channel the bot is not in: the user is told through response_url, and gets the verdict there", async () => {
    const bot = await startBot();
    try {
      await sm.waitForConnections(1);
      const responseUrl = slack.responseUrl();
      const r = await sm.command(slashPayload({ text: `127.0.0.1:${busy.port}`, channel: "C0NOTIN", responseUrl }));
      assert.equal(r.outcome, "acked");
      const told = await slack.waitFor(
        (c) => c.method === "response_url" && c.args.url === new URL(responseUrl).pathname && /not a member/.test(String(c.args.text)),
        15_000,
        "not-in-channel notice",
      );
      assert.equal(told.args.response_type, "ephemeral");
      assert.match(String(told.args.text), /\/invite @ftp-doctor/);
      const v = await slack.waitFor(
        (c) => c.method === "response_url" && JSON.stringify(c.args.blocks ?? "").includes("SERVER_BUSY"),
        30_000,
        "verdict via response_url",
      );
      assert.equal(v.args.response_type, "ephemeral");
      // A forged response_url is never fetched.
      const evil = await sm.command(slashPayload({ text: `127.0.0.1:${busy.port}`, channel: "C0NOTIN", responseUrl: "http://10.9.9.9/x" }));
      assert.equal(evil.outcome, "acked");
      await bot.waitFor(/response_url refused: not a Slack host/);
    } finally {
      await bot.stop();
    }
  });

  test("a worker killed with -9 mid-check under default lock settings: the verdict is still delivered", async () => {
    const slowWorker = spawnWorker({
      zone: "slow",
      prefix,
      concurrency: 2,
      env: { FTP_DOCTOR_STALLED_INTERVAL_MS: "", FTP_DOCTOR_LOCK_MS: "" },
    });
    writeDmzConfig(configFile, ["  - name: slow", "    targets: []", "slack:", LIMITS]);
    const bot = await startBot();
    const silent = await startFakeFtp({ greeting: null });
    let next: ReturnType<typeof spawnWorker> | undefined;
    try {
      await slowWorker.waitFor(/worker started/);
      await sm.waitForConnections(1);
      const t0 = Date.now();
      await sm.command(slashPayload({ text: `127.0.0.1:${silent.port} from slow` }));
      const parent = await slack.waitFor(
        (c) => c.at >= t0 && c.method === "chat.postMessage" && /Checking 127\.0\.0\.1/.test(String(c.args.text)),
        10_000,
        "parent",
      );
      const checks = new Queue("checks-slow", { connection: redis, prefix });
      for (let i = 0; i < 500 && (await checks.getActiveCount()) === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(await checks.getActiveCount(), 1, "the check is running when the worker is killed");
      await checks.close();
      slowWorker.kill("SIGKILL");
      const killedAt = Date.now();
      await slowWorker.exited;
      next = spawnWorker({ zone: "slow", prefix, concurrency: 2, env: { FTP_DOCTOR_STALLED_INTERVAL_MS: "", FTP_DOCTOR_LOCK_MS: "" } });
      await slack.waitFor(
        (c) => c.method === "chat.update" && c.args.ts === tsOf(parent) && /worker was lost/.test(String(c.args.text)),
        40_000,
        "worker-lost notice",
      );
      await slack.waitFor((c) => isVerdict(c, "BANNER_TIMEOUT") && c.args.thread_ts === tsOf(parent), 60_000, "verdict after kill -9");
      console.log(
        `# kill -9 mid-check, default lock/stalled settings: verdict ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`,
      );
    } finally {
      await bot.stop();
      if (next) await stopWorker(next);
      await stopWorker(slowWorker);
      await silent.stop();
    }
  });
});
