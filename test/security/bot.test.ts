/**
 * Issue 10 items 2, 7 and 8, attacked through the real bot process (HTTP mode, signed requests
 * as Slack signs them), a real worker and a hostile FTP listener, against the local Slack Web
 * API: crafted button actions, a configuration that changed under a button, mention canaries
 * in every user- and server-controlled field, and a user firing checks as fast as they can.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { freePort, makeTempDir } from "../harness/env.js";
import { type FakeFtpServer, startFakeFtp } from "../harness/scripted.js";
import { LOGIN, passive } from "../hostile/servers.js";
import { deletePrefix, REDIS_URL, spawnWorker, stopWorker, uniquePrefix, type WorkerProc } from "../queue/lib.js";
import { type BotProcess, startBotProcess } from "../slack/botProcess.js";
import { type ApiCall, actionBody, type FakeSlack, mentionBody, sendToBot, sign, slashBody, startFakeSlack } from "../slack/fakeSlack.js";

const SECRET = "security-bot-secret-0123456789";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
const configFile = path.join(dir.path, "bot.yaml");
let slack: FakeSlack;
let bot: BotProcess;
let worker: WorkerProc;
let hostile: FakeFtpServer;
let port: number;

/** Slack control sequences that must never reach Slack raw from our text. */
const CANARIES = ["<!channel>", "<!here>", "<@U0BOSS>", "<https://evil.example|click here>"];

function writeConfig(allow: string[]): void {
  writeFileSync(
    configFile,
    [
      "targets:",
      `  allow: [${allow.map((a) => `'${a}'`).join(", ")}]`,
      "zones:",
      "  - name: dmz",
      "slack:",
      "  allowedChannels: [C0OPS, C0OTHER, C0RATE]",
      "  limits: { perUser: 4, perChannel: 100, concurrentPerUser: 50, watchesPerUser: 1, watches: 5 }",
    ].join("\n"),
  );
}

const startBot = () =>
  startBotProcess({
    port,
    slackApiUrl: slack.url,
    signingSecret: SECRET,
    redisUrl: REDIS_URL,
    prefix,
    configFile,
    env: { FTP_DOCTOR_WATCH_INTERVAL_MS: "60000" },
  });
const slash = (text: string, f: { user?: string; channel?: string } = {}) => {
  const body = slashBody({ text, ...f });
  return sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
};
const click = (f: Parameters<typeof actionBody>[0]) => {
  const body = actionBody(f);
  return sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
};
const tsOf = (c: ApiCall) => String(c.result?.ts ?? "");
const buttonValue = (c: ApiCall, id: string) =>
  (
    (c.args.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[]).find((b) => b.type === "actions")
      ?.elements ?? []
  ).find((e) => e.action_id === id)?.value ?? "";

async function checkIn(channel: string, target: string, user = "U0OK"): Promise<{ parent: ApiCall; verdict: ApiCall }> {
  const t0 = Date.now();
  assert.equal((await slash(target, { channel, user })).status, 200);
  const parent = await slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.at >= t0 && c.args.channel === channel && /Checking/.test(String(c.args.text)),
    15_000,
    `parent in ${channel}`,
  );
  const verdict = await slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.args.thread_ts === tsOf(parent) && Array.isArray(c.args.blocks),
    30_000,
    "verdict",
  );
  return { parent, verdict };
}

/**
 * What a honoured button would post: a transcript, a re-run's or watch's new check ("Checking…"),
 * anything in the channel the job was never shown in. (Not every post: a check started before
 * may still be answering in its own thread.)
 */
const actedOn = (since: number) =>
  slack.calls
    .filter(
      (c) =>
        c.at >= since &&
        c.method === "chat.postMessage" &&
        (c.args.channel === "C0OTHER" || /Transcript of the check|Checking|[Ww]atch/.test(String(c.args.text))),
    )
    .map((c) => `${String(c.args.channel)}: ${String(c.args.text).slice(0, 120)}`);

/** Every "Checking…" parent posted in `channel` since `since` has its verdict in its thread. */
async function settled(channel: string, since: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const parents = slack.calls.filter(
      (c) => c.at >= since && c.method === "chat.postMessage" && c.args.channel === channel && /Checking/.test(String(c.args.text)),
    );
    const open = parents.filter(
      (p) => !slack.calls.some((c) => c.method === "chat.postMessage" && c.args.thread_ts === tsOf(p) && Array.isArray(c.args.blocks)),
    );
    if (open.length === 0) return;
    assert.ok(Date.now() < deadline, `${open.length} check(s) in ${channel} never answered`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("the bot under attack: buttons, mentions, limits (issue 10 items 2, 7, 8)", () => {
  before(async () => {
    slack = await startFakeSlack();
    port = await freePort();
    hostile = await startFakeFtp({
      host: "127.0.0.1",
      // Server-controlled text full of Slack control sequences.
      greeting: `220-${CANARIES[0]} welcome ${CANARIES[2]}\n220 ${CANARIES[1]} ${CANARIES[3]} ready`,
      replies: {
        ...LOGIN,
        ...passive("ok"),
        SYST: `215 UNIX ${CANARIES[0]} ${CANARIES[3]}`,
        USER: (arg) => `331 password for ${arg} ${CANARIES[1]}`,
      },
    });
    writeConfig(["127.0.0.0/8"]);
    worker = spawnWorker({ zone: "dmz", prefix, concurrency: 8 });
    await worker.waitFor(/worker started/);
    bot = await startBot();
  });
  after(async () => {
    await bot?.stop();
    await stopWorker(worker);
    await Promise.allSettled([hostile.stop(), slack.close()]);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  test("item 7: canaries through every user- and server-controlled field never reach Slack raw", async () => {
    const t0 = Date.now();
    const acks: string[] = [];
    // User-controlled: the target URL's user part, words the parser rejects, a mention's text.
    acks.push((await slash(`ftp://${CANARIES[1]}@127.0.0.1:${hostile.port}`, { channel: "C0OPS" })).body);
    acks.push((await slash(`127.0.0.1:${hostile.port} ${CANARIES[0]}`, { channel: "C0OPS" })).body);
    acks.push((await slash(`${CANARIES[3]}`, { channel: "C0OPS" })).body);
    const m = mentionBody({
      text: `check ${CANARIES[2]} ftp://${CANARIES[0]}@127.0.0.1:${hostile.port}`,
      ts: `${Date.now() / 1000}`,
      channel: "C0OPS",
    });
    await sendToBot(bot.url, m, "application/json", sign(SECRET, m));
    // Server-controlled: the verdict (banner, SYST, replies) and the transcript posted by its button.
    const { parent, verdict } = await checkIn("C0OPS", `127.0.0.1:${hostile.port}`);
    assert.equal(
      (
        await click({
          actionId: "ftp_transcript",
          value: buttonValue(verdict, "ftp_transcript"),
          messageTs: tsOf(verdict),
          threadTs: tsOf(parent),
          channel: "C0OPS",
        })
      ).status,
      200,
    );
    await slack.waitFor(
      (c) => c.method === "chat.postMessage" && /Transcript of the check/.test(String(c.args.text)),
      15_000,
      "transcript",
    );
    await settled("C0OPS", t0); // every check item 7 started has answered: nothing of it leaks into the next test
    const bodies = slack.calls.filter((c) => c.at >= t0).map((c) => JSON.stringify(c.args));
    assert.ok(bodies.length >= 5, `only ${bodies.length} Web API calls`);
    // The server's text did reach Slack — escaped.
    assert.ok(
      bodies.some((b) => b.includes("&lt;!channel&gt;")),
      "the banner's text is shown, escaped",
    );
    for (const body of [...bodies, ...acks]) for (const c of CANARIES) assert.ok(!body.includes(c), `raw ${c} in ${body.slice(0, 400)}`);
  });

  test("item 2: a button is honoured only where its job was shown, and only while the configuration allows it", async () => {
    const { parent, verdict } = await checkIn("C0OPS", `127.0.0.1:${hostile.port}`);
    const job = buttonValue(verdict, "ftp_transcript");
    assert.ok(job);
    const since = Date.now();
    // A permitted user crafts an action in another channel naming that job.
    await click({ actionId: "ftp_transcript", value: job, messageTs: "1700000000.999999", channel: "C0OTHER" });
    await click({ actionId: "ftp_rerun", value: job, messageTs: "1700000000.999999", channel: "C0OTHER" });
    // …or in the same channel, under another message.
    await click({ actionId: "ftp_transcript", value: job, messageTs: tsOf(parent), channel: "C0OPS" });
    await slack.waitFor(
      (c) =>
        c.method === "chat.postEphemeral" && c.at >= since && /does not belong/.test(String(c.args.text)) && c.args.channel === "C0OPS",
      10_000,
      "refusal in C0OPS",
    );
    await new Promise((r) => setTimeout(r, 1_000));
    const refused = slack.calls.filter(
      (c) => c.at >= since && c.method === "chat.postEphemeral" && /does not belong/.test(String(c.args.text)),
    );
    assert.equal(refused.length, 3);
    assert.deepEqual(actedOn(since), [], "something was posted for a crafted action");

    // The target leaves the allow-list; the bot restarts with that configuration; the old button is refused.
    await bot.stop();
    writeConfig(["10.99.0.0/16"]);
    bot = await startBot();
    const later = Date.now();
    await click({ actionId: "ftp_rerun", value: job, messageTs: tsOf(verdict), threadTs: tsOf(parent), channel: "C0OPS" });
    await click({ actionId: "ftp_watch", value: job, messageTs: tsOf(verdict), threadTs: tsOf(parent), channel: "C0OPS" });
    await slack.waitFor(
      (c) => c.method === "chat.postEphemeral" && c.at >= later && /not on this bot's allow-list/.test(String(c.args.text)),
      10_000,
      "allow-list refusal",
    );
    await new Promise((r) => setTimeout(r, 1_000));
    assert.deepEqual(actedOn(later), [], "a removed target was re-run or watched");
    await bot.stop();
    writeConfig(["127.0.0.0/8"]);
    bot = await startBot();
  });

  test("item 8: one user firing checks is limited per window, with a clear ephemeral answer; watches are capped", async () => {
    const since = Date.now();
    const rs = await Promise.all(
      Array.from({ length: 8 }, () => slash(`127.0.0.1:${hostile.port}`, { channel: "C0RATE", user: "U0FAST" })),
    );
    for (const r of rs) assert.equal(r.status, 200);
    await slack.waitFor(
      (c) => c.method === "chat.postEphemeral" && c.at >= since && /slack\.limits\.perUser/.test(String(c.args.text)),
      10_000,
      "rate-limit answer",
    );
    await new Promise((r) => setTimeout(r, 3_000));
    const parents = slack.calls.filter(
      (c) => c.at >= since && c.method === "chat.postMessage" && c.args.channel === "C0RATE" && /Checking/.test(String(c.args.text)),
    );
    const refusals = slack.calls.filter(
      (c) => c.at >= since && c.method === "chat.postEphemeral" && /slack\.limits\.perUser/.test(String(c.args.text)),
    );
    assert.equal(parents.length, 4, "perUser: 4 in the window");
    assert.equal(refusals.length, 4);
    // Another user in the same channel is not held up by the first one's limit.
    const other = await checkIn("C0RATE", `127.0.0.1:${hostile.port}`, "U0CALM");
    // Watches: one per user.
    const w1 = Date.now();
    await click({
      actionId: "ftp_watch",
      value: buttonValue(other.verdict, "ftp_watch"),
      messageTs: tsOf(other.verdict),
      threadTs: tsOf(other.parent),
      channel: "C0RATE",
      user: "U0CALM",
    });
    await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.at >= w1 && /Watching/.test(String(c.args.text)),
      10_000,
      "first watch",
    );
    const second = await checkIn("C0RATE", `127.0.0.1:${hostile.port}`, "U0CALM");
    await click({
      actionId: "ftp_watch",
      value: buttonValue(second.verdict, "ftp_watch"),
      messageTs: tsOf(second.verdict),
      threadTs: tsOf(second.parent),
      channel: "C0RATE",
      user: "U0CALM",
    });
    await slack.waitFor(
      (c) => c.method === "chat.postEphemeral" && c.at >= w1 && /slack\.limits\.watchesPerUser/.test(String(c.args.text)),
      10_000,
      "watch cap",
    );
    // Everything the bot stores in Redis has a TTL or a bound (the watch hash is capped above).
    let cursor = "0";
    const noTtl: string[] = [];
    do {
      const [next, batch] = await redis.scan(cursor, "MATCH", `${prefix}:slack:*`, "COUNT", 500);
      cursor = next;
      for (const k of batch) if ((await redis.ttl(k)) === -1) noTtl.push(k);
    } while (cursor !== "0");
    assert.deepEqual(noTtl, []);
  });
});
