/**
 * End to end: the real bot process in HTTP mode, a local Slack Web API, a real worker process,
 * real FTP servers. Requests are signed exactly as Slack signs them.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { startVsftpd, type RunningServer } from "../harness/daemons.js";
import { freePort, makeTempDir } from "../harness/env.js";
import { startFakeFtp, type FakeFtpServer } from "../harness/scripted.js";
import { deletePrefix, REDIS_URL, startWorker, stopWorker, uniquePrefix, type WorkerProc } from "../queue/lib.js";
import { type BotProcess, startBotProcess } from "./botProcess.js";
import { actionBody, mentionBody, sendToBot, sign, slashBody, startFakeSlack, type ApiCall, type FakeSlack } from "./fakeSlack.js";

const SECRET = "test-signing-secret-0123456789";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
let slack: FakeSlack;
let vs: RunningServer;
let worker: WorkerProc;
let bot: BotProcess | undefined;
let configFile: string;
let botPort: number;
const dir = makeTempDir();

function startBot(): Promise<BotProcess> {
  const env = { FTP_DOCTOR_WATCH_INTERVAL_MS: "1500", FTP_DOCTOR_WATCH_DURATION_MS: "60000" };
  return startBotProcess({ port: botPort, slackApiUrl: slack.url, signingSecret: SECRET, prefix, configFile, env });
}

const slash = (text: string, extra: Partial<Parameters<typeof slashBody>[0]> = {}) => {
  const body = slashBody({ text, ...extra });
  return sendToBot(bot!.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
};
const mention = (f: Parameters<typeof mentionBody>[0], headers: Record<string, string> = {}) => {
  const body = mentionBody(f);
  return sendToBot(bot!.url, body, "application/json", { ...sign(SECRET, body), ...headers });
};
const click = (f: Parameters<typeof actionBody>[0]) => {
  const body = actionBody(f);
  return sendToBot(bot!.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
};
const headerOf = (c: ApiCall) =>
  JSON.stringify(
    (c.args.blocks as { type: string; text?: { text: string } }[] | undefined)?.find((b) => b.type === "header")?.text?.text ?? "",
  );
const posts = () => slack.ok("chat.postMessage");
/** Posts outside the digest channel (the digest scheduler posts there every few seconds). */
const channelPosts = () => posts().filter((c) => c.args.channel !== "C0DIGEST");

/** Wait for the verdict in the thread of a parent message, and the parent's update. */
async function verdictFor(parentTs: string, code: string) {
  const verdict = await slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.args.thread_ts === parentTs && headerOf(c).includes(code),
    30_000,
    `verdict ${code} in thread ${parentTs}`,
  );
  const update = await slack.waitFor((c) => c.method === "chat.update" && c.args.ts === parentTs, 10_000, `update of ${parentTs}`);
  return { verdict, update };
}

async function parentFor(host: string, after = 0): Promise<ApiCall> {
  return slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.at >= after && String(c.args.text).includes(`Checking ${host}`),
    10_000,
    `parent message for ${host}`,
  );
}

describe("Slack bot end to end", () => {
  let busy: FakeFtpServer;
  before(async () => {
    slack = await startFakeSlack();
    vs = await startVsftpd({});
    busy = await startFakeFtp({ greeting: "421 There are too many connected users, please try later." });
    botPort = await freePort();
    configFile = path.join(dir.path, "bot.yaml");
    writeFileSync(
      configFile,
      [
        "targets:",
        "  allow: ['127.0.0.0/8', 'localhost']",
        "zones:",
        "  - name: dmz",
        "    targets: ['127.0.0.0/8']",
        "  - name: office",
        "slack:",
        "  allowedUsers: [U0OK, U0OTHER]",
        // The latency test below fires 100 checks from one user; the limits have their own tests.
        "  limits: { perUser: 1000, perChannel: 1000, concurrentPerUser: 1000 }",
        "digest:",
        "  channel: C0DIGEST",
        "  cron: '*/4 * * * * *'",
        "  tz: Europe/Berlin",
        "  targets:",
        `    - 127.0.0.1:${vs.port} from dmz`,
        `    - 127.0.0.1:${busy.port} from dmz`,
      ].join("\n"),
    );
    worker = await startWorker({ zone: "dmz", prefix, concurrency: 16 });
    bot = await startBot();
  });
  after(async () => {
    await bot?.stop();
    await stopWorker(worker);
    await Promise.allSettled([vs.stop(), busy.stop(), slack.close()]);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  test("/ftp-check: fast ack, parent message, threaded verdict, parent updated with the status", async () => {
    const t0 = Date.now();
    const r = await slash(`127.0.0.1:${vs.port}`);
    assert.equal(r.status, 200);
    assert.ok(r.ms < 3000, `ack took ${r.ms} ms (Slack allows 3 s)`);
    const parent = await parentFor(`127.0.0.1:${vs.port}`, t0);
    assert.match(String(parent.args.text), /from dmz/);
    const { verdict, update } = await verdictFor(tsOf(parent), "HEALTHY");
    assert.equal(verdict.args.channel, "C0OPS");
    assert.match(String(update.args.text), /:large_green_circle:.*HEALTHY/);
    const blocks = verdict.args.blocks as { type: string }[];
    assert.ok(blocks.length <= 50 && blocks.some((b) => b.type === "actions"));
  });

  test("a broken server: the verdict names the root cause and the parent turns red", async () => {
    const t0 = Date.now();
    await slash(`127.0.0.1:${busy.port}`);
    const parent = await parentFor(`127.0.0.1:${busy.port}`, t0);
    const { verdict, update } = await verdictFor(tsOf(parent), "SERVER_BUSY");
    assert.match(JSON.stringify(verdict.args.blocks), /max_clients/);
    assert.match(String(update.args.text), /:red_circle:.*SERVER_BUSY/);
  });

  test("help, bad input, unknown zone, outside the allow-list, unauthorised user: ephemeral answers, nothing enqueued", async () => {
    const before = channelPosts().length;
    const cases: [string, Partial<Parameters<typeof slashBody>[0]>, RegExp][] = [
      ["help", {}, /names the root cause/],
      ["", {}, /names the root cause/],
      ["host:99999", {}, /out of range/],
      ["ftp://u:hunter2@127.0.0.1", {}, /never paste passwords/],
      [`127.0.0.1:${vs.port} from mars`, {}, /unknown zone "mars"/],
      ["intranet.corp.example", {}, /not on this bot's allow-list/],
      ["10.0.0.5", {}, /not on this bot's allow-list/],
      [`127.0.0.1:${vs.port}`, { user: "U0EVIL" }, /not on ftp-doctor's list of allowed users/],
      [`127.0.0.1:${vs.port} as nobody`, {}, /unknown profile "nobody"/],
    ];
    for (const [text, extra, re] of cases) {
      const r = await slash(text, extra);
      assert.equal(r.status, 200, text);
      const body = JSON.parse(r.body) as { response_type: string; text: string };
      assert.equal(body.response_type, "ephemeral", text);
      assert.match(body.text, re, text);
      assert.ok(!r.body.includes("hunter2"), "password echoed back");
    }
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(channelPosts().length, before, "nothing was posted or enqueued");
  });

  test("a known zone with no live worker: told at once, nothing posted in the channel", async () => {
    const before = channelPosts().length;
    const r = await slash(`127.0.0.1:${vs.port} from office`);
    assert.equal(r.status, 200);
    const eph = await slack.waitFor(
      (c) => c.method === "chat.postEphemeral" && /no live worker in zone "office"/.test(String(c.args.text)),
      5_000,
      "ephemeral no-worker",
    );
    assert.equal(eph.args.user, "U0OK");
    assert.equal(channelPosts().length, before);
  });

  test("unsigned, forged and stale requests are rejected with 401", async () => {
    const body = slashBody({ text: `127.0.0.1:${vs.port}` });
    assert.equal((await sendToBot(bot!.url, body, "application/x-www-form-urlencoded", {})).status, 401);
    assert.equal((await sendToBot(bot!.url, body, "application/x-www-form-urlencoded", sign("wrong-secret", body))).status, 401);
    assert.equal(
      (await sendToBot(bot!.url, body, "application/x-www-form-urlencoded", sign(SECRET, body, Math.floor(Date.now() / 1000) - 600)))
        .status,
      401,
    );
  });

  test("retried deliveries never produce two checks or two replies", async () => {
    const t0 = Date.now();
    // Slash command delivered twice (same trigger_id).
    const body = slashBody({ text: `127.0.0.1:${vs.port}`, triggerId: "trig-dup-1" });
    await Promise.all([0, 1].map(() => sendToBot(bot!.url, body, "application/x-www-form-urlencoded", sign(SECRET, body))));
    // A mention retried by Slack (same event_id, X-Slack-Retry-Num) and one matching two subscriptions (new event_id, same ts).
    slack.seed("C0OPS", "1699999999.000001", "is the FTP server down?");
    const m = { text: `check 127.0.0.1:${vs.port}`, ts: "1699999999.000002", threadTs: "1699999999.000001", eventId: "EvDUP1" };
    await mention(m);
    await mention(m, { "x-slack-retry-num": "1", "x-slack-retry-reason": "http_timeout" });
    await mention({ ...m, eventId: "EvDUP2" });
    await new Promise((r) => setTimeout(r, 2500));
    const parents = posts().filter((c) => c.at >= t0 && /Checking 127\.0\.0\.1/.test(String(c.args.text)));
    assert.equal(parents.length, 2, `one parent for the slash command, one for the mention; got ${parents.length}`);
  });

  test("a mention in an incident thread answers in that thread; a bare mention uses the message above", async () => {
    slack.seed("C0INC", "1700000001.000001", `incident: uploads to 127.0.0.1:${busy.port} failing since 03:00`);
    const t0 = Date.now();
    await mention({ text: "", channel: "C0INC", ts: "1700000001.000009", threadTs: "1700000001.000001" });
    const parent = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.at >= t0 && c.args.channel === "C0INC" && /Checking/.test(String(c.args.text)),
      10_000,
      "parent in thread",
    );
    assert.equal(parent.args.thread_ts, "1700000001.000001");
    const verdict = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.args.channel === "C0INC" && headerOf(c).includes("SERVER_BUSY"),
      30_000,
      "verdict in incident thread",
    );
    assert.equal(verdict.args.thread_ts, "1700000001.000001");
  });

  test("buttons: Re-run posts a fresh verdict, Show transcript posts the redacted transcript", async () => {
    const t0 = Date.now();
    await slash(`127.0.0.1:${vs.port}`);
    const parent = await parentFor(`127.0.0.1:${vs.port}`, t0);
    const { verdict } = await verdictFor(tsOf(parent), "HEALTHY");
    const actions = (verdict.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find(
      (b) => b.type === "actions",
    )!;
    const value = actions.elements!.find((e) => e.action_id === "ftp_rerun")!.value;
    const verdictTs = tsOf(verdict);
    const t1 = Date.now();
    assert.equal((await click({ actionId: "ftp_transcript", value, messageTs: verdictTs, threadTs: tsOf(parent) })).status, 200);
    const tr = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.at >= t1 && /Transcript/.test(String(c.args.text)),
      10_000,
      "transcript",
    );
    assert.equal(tr.args.thread_ts, tsOf(parent));
    assert.match(JSON.stringify(tr.args.blocks), /USER anonymous/);
    assert.equal((await click({ actionId: "ftp_rerun", value, messageTs: verdictTs, threadTs: tsOf(parent) })).status, 200);
    const again = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.at >= t1 && c.args.thread_ts === tsOf(parent) && /Checking/.test(String(c.args.text)),
      10_000,
      "re-run parent",
    );
    // The fresh verdict goes into the same thread; the re-run's own status line is updated.
    await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.at > again.at && c.args.thread_ts === tsOf(parent) && headerOf(c).includes("HEALTHY"),
      30_000,
      "re-run verdict",
    );
    await slack.waitFor((c) => c.method === "chat.update" && c.args.ts === tsOf(again), 10_000, "re-run status update");
  });

  test("Watch reports the recovery in the thread", async () => {
    const port = await freePort();
    const t0 = Date.now();
    await slash(`127.0.0.1:${port}`);
    const parent = await parentFor(`127.0.0.1:${port}`, t0);
    const { verdict } = await verdictFor(tsOf(parent), "TCP_REFUSED");
    const value = (verdict.args.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]).find(
      (b) => b.type === "actions",
    )!.elements![0]!.value;
    await click({ actionId: "ftp_watch", value, messageTs: tsOf(verdict), threadTs: tsOf(parent) });
    await slack.waitFor((c) => c.method === "chat.postMessage" && /Watching 127\.0\.0\.1/.test(String(c.args.text)), 10_000, "watch ack");
    const up = await startFakeFtp({
      greeting: "220 back",
      port,
      replies: { USER: "530 no", AUTH: "500 no", FEAT: "500 no", QUIT: { reply: "221 bye", close: true } },
    });
    try {
      const rec = await slack.waitFor(
        (c) => c.method === "chat.postMessage" && /recovered after/.test(String(c.args.text)),
        20_000,
        "recovery message",
      );
      assert.equal(rec.args.thread_ts, tsOf(parent));
      assert.match(String(rec.args.text), /was TCP_REFUSED/);
    } finally {
      await up.stop();
    }
  });

  test("Slack answering 429 (Retry-After) and 500 for a while: every reply posted exactly once", async () => {
    slack.fail("chat.postMessage", 2, 429, 1, "C0OPS");
    slack.fail("chat.postMessage", 2, 500, undefined, "C0OPS");
    const t0 = Date.now();
    await slash(`127.0.0.1:${busy.port}`);
    const parent = await parentFor(`127.0.0.1:${busy.port}`, t0);
    await verdictFor(tsOf(parent), "SERVER_BUSY");
    const parents = posts().filter(
      (c) => c.at >= t0 && c.args.channel === "C0OPS" && String(c.args.text).includes(`Checking 127.0.0.1:${busy.port}`),
    );
    assert.equal(parents.length, 1, "parent posted once");
    const verdicts = posts().filter((c) => c.at >= t0 && c.args.thread_ts === tsOf(parent) && headerOf(c).includes("SERVER_BUSY"));
    assert.equal(verdicts.length, 1, "verdict posted once");
    const limited = slack.calls.filter((c) => c.at >= t0 && c.status === 429);
    assert.equal(limited.length, 2);
    assert.ok(parent.at - limited[0]!.at >= 900, "Retry-After was honoured");
  });

  test("the bot dies mid-check: the restarted bot still delivers the verdict, once", async () => {
    const slow = await startFakeFtp({ greeting: null, host: "127.0.0.1" });
    try {
      const t0 = Date.now();
      await slash(`127.0.0.1:${slow.port}`);
      const parent = await parentFor(`127.0.0.1:${slow.port}`, t0);
      await bot?.stop("SIGKILL");
      bot = await startBot();
      await verdictFor(tsOf(parent), "BANNER_TIMEOUT");
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(posts().filter((c) => c.args.thread_ts === tsOf(parent) && headerOf(c).includes("BANNER_TIMEOUT")).length, 1);
    } finally {
      await slow.stop();
    }
  });

  test("the bot dies after Slack took its 'Checking…' post but before hearing back: the restarted bot finds it and answers in its thread, once", async () => {
    const slow = await startFakeFtp({ greeting: null, host: "127.0.0.1" });
    try {
      const t0 = Date.now();
      slack.stall("chat.postMessage", 1, "C0OPS");
      await slash(`127.0.0.1:${slow.port}`);
      const parent = await parentFor(`127.0.0.1:${slow.port}`, t0); // stored by Slack, never answered
      await bot?.stop("SIGKILL");
      bot = await startBot();
      await verdictFor(tsOf(parent), "BANNER_TIMEOUT");
      await new Promise((r) => setTimeout(r, 500));
      const forTarget = posts().filter((c) => c.at >= t0 && String(c.args.text).includes(`127.0.0.1:${slow.port}`));
      assert.equal(forTarget.filter((c) => !c.args.thread_ts).length, 1, "one status message: found again, not posted twice");
      assert.equal(posts().filter((c) => c.args.thread_ts === tsOf(parent) && headerOf(c).includes("BANNER_TIMEOUT")).length, 1);
    } finally {
      await slow.stop();
    }
  });

  test("the scheduled digest posts status, changes first, cert and slowest sections", async () => {
    const first = await slack.waitFor((c) => c.method === "chat.postMessage" && c.args.channel === "C0DIGEST", 20_000, "a digest");
    const t = JSON.stringify(first.args.blocks);
    assert.match(t, /FTP health digest — 2 targets, 1 failing/);
    assert.match(t, /SERVER_BUSY/);
    assert.match(t, /HEALTHY/);
    assert.match(t, /Slowest checks/);
    const second = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.args.channel === "C0DIGEST" && c.at > first.at,
      20_000,
      "a second digest",
    );
    assert.match(JSON.stringify(second.args.blocks), /No changes since the last digest/);
  });

  test("ack latency for 100 slash commands sent 20 at a time", async () => {
    const lat: number[] = [];
    for (let i = 0; i < 5; i++) {
      const rs = await Promise.all(Array.from({ length: 20 }, () => slash(`127.0.0.1:${vs.port}`)));
      for (const r of rs) {
        assert.equal(r.status, 200);
        lat.push(r.ms);
      }
    }
    lat.sort((a, b) => a - b);
    const p = (q: number) => lat[Math.min(lat.length - 1, Math.floor(q * lat.length))]!.toFixed(1);
    console.log(`# ack latency over ${lat.length} slash commands (20 concurrent): p50 ${p(0.5)} ms, p99 ${p(0.99)} ms`);
    assert.ok(lat[lat.length - 1]! < 3000);
  });
});

function tsOf(c: ApiCall): string {
  return String(c.result?.ts ?? "");
}
