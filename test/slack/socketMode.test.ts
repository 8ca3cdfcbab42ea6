/**
 * The real bot process in Socket Mode against a local stand-in that speaks the Socket Mode
 * protocol (fakeSocketMode.ts) and the Web API (fakeSlack.ts), a real worker and FTP servers.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Redis } from "ioredis";
import { freePort, makeTempDir } from "../harness/env.js";
import { startFakeFtp, type FakeFtpServer } from "../harness/scripted.js";
import { deletePrefix, REDIS_URL, startWorker, stopWorker, uniquePrefix, type WorkerProc, writeDmzConfig } from "../queue/lib.js";
import { actionPayload, type BotProc, mentionPayload, slashPayload, spawnBot } from "./botProc.js";
import { startFakeSlack, type ApiCall, type FakeSlack } from "./fakeSlack.js";
import { startFakeSocketMode, type FakeSocketMode } from "./fakeSocketMode.js";

const BOT_TOKEN = "xoxb-1-socket-mode-test";
const APP_TOKEN = "xapp-1-A0APP-1-socketmodetest";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let sm: FakeSocketMode;
let slack: FakeSlack;
let worker: WorkerProc;
let busy: FakeFtpServer;
let configFile: string;
const bots: BotProc[] = [];

function botEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    FTP_DOCTOR_REDIS_PREFIX: prefix,
    FTP_DOCTOR_CONFIG: configFile,
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_APP_TOKEN: APP_TOKEN,
    SLACK_API_URL: slack.url,
    FTP_DOCTOR_POST_SPACING_MS: "0",
    FTP_DOCTOR_RESULT_WAIT_MS: "30000",
    ...extra,
  };
}

async function startBot(extra: Record<string, string> = {}): Promise<BotProc> {
  const b = spawnBot(botEnv(extra));
  bots.push(b);
  await b.waitFor(/"bot started"/, 45_000);
  return b;
}

const threadVerdict = (parentTs: string, code: string) =>
  slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.args.thread_ts === parentTs && JSON.stringify(c.args.blocks ?? "").includes(code),
    30_000,
    `verdict ${code} in ${parentTs}`,
  );
const parentFor = (host: string, after: number) =>
  slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.at >= after && String(c.args.text).includes(`Checking ${host}`),
    15_000,
    `parent for ${host}`,
  );
const tsOf = (c: ApiCall) => String(c.result?.ts ?? "");

describe("Socket Mode: the real bot against a local Socket Mode server", () => {
  before(async () => {
    sm = await startFakeSocketMode({ pingMs: 1_000 });
    slack = await startFakeSlack({ socketMode: sm, tokens: { bot: [BOT_TOKEN], app: [APP_TOKEN], revoked: ["xoxb-1-revoked"] } });
    busy = await startFakeFtp({ greeting: "421 There are too many connected users, please try later." });
    configFile = writeDmzConfig(path.join(dir.path, "bot.yaml"));
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

  test("a slash command arrives as an envelope, is acked on the socket, and the verdict lands in the thread", async () => {
    const bot = await startBot();
    try {
      await sm.waitForConnections(1);
      const t0 = Date.now();
      const r = await sm.command(slashPayload({ text: `127.0.0.1:${busy.port}` }));
      assert.equal(r.outcome, "acked");
      const parent = await parentFor(`127.0.0.1:${busy.port}`, t0);
      await threadVerdict(tsOf(parent), "SERVER_BUSY");
      const help = await sm.command(slashPayload({ text: "help" }));
      assert.equal(help.outcome, "acked");
      assert.match(JSON.stringify(help.outcome === "acked" && help.response), /ephemeral/);
      // "@ftp-doctor help" is help, not "which server?"; it arrives as an Events API envelope.
      const t1 = Date.now();
      const ev = await sm.event(mentionPayload({ text: "help", ts: "1700000100.000001" }));
      assert.ok(ev.ackedAt, "event acked");
      const helpPost = await slack.waitFor(
        (c) => c.at >= t1 && c.method === "chat.postMessage" && /names the root cause/.test(String(c.args.text)),
        10_000,
        "help by mention",
      );
      assert.equal(helpPost.args.thread_ts, "1700000100.000001");
      assert.ok(!slack.calls.some((c) => c.at >= t1 && /Which server/.test(String(c.args.text))));
      // A button that cannot act (unknown check): the ephemeral answer lands in the verdict's thread.
      const click = await sm.interactive(
        actionPayload({ actionId: "ftp_rerun", value: "chk-expired", messageTs: "1700000100.000009", threadTs: "1700000100.000005" }),
      );
      assert.ok(click.ackedAt);
      const eph = await slack.waitFor(
        // Refused either way (security: the button must belong to a verdict shown there; or expired).
        (c) => c.method === "chat.postEphemeral" && c.at >= t1 && /too old to re-run|does not belong/.test(String(c.args.text)),
        10_000,
        "refused re-run answer",
      );
      assert.equal(eph.args.thread_ts, "1700000100.000005");
    } finally {
      await bot.stop();
    }
  });

  test("wrong tokens are refused at start-up: one line per mistake naming the variable, exit 2", async () => {
    const cases: [Record<string, string>, RegExp[]][] = [
      [{ SLACK_APP_TOKEN: BOT_TOKEN }, [/^ftp-doctor: SLACK_APP_TOKEN holds a bot token \(xoxb-…\).*App-Level Tokens/m]],
      [{ SLACK_BOT_TOKEN: APP_TOKEN }, [/^ftp-doctor: SLACK_BOT_TOKEN holds an app-level token \(xapp-…\).*OAuth & Permissions/m]],
      [
        { SLACK_BOT_TOKEN: APP_TOKEN, SLACK_APP_TOKEN: BOT_TOKEN },
        [/^ftp-doctor: SLACK_BOT_TOKEN holds an app-level token/m, /^ftp-doctor: SLACK_APP_TOKEN holds a bot token/m],
      ],
      [{ SLACK_BOT_TOKEN: "xoxp-1-user" }, [/^ftp-doctor: SLACK_BOT_TOKEN holds a user token \(xoxp-…\)/m]],
      [{ SLACK_BOT_TOKEN: `"${BOT_TOKEN}"` }, [/^ftp-doctor: SLACK_BOT_TOKEN is wrapped in quotes/m]],
      [{ SLACK_APP_TOKEN: "" }, [/^ftp-doctor: set SLACK_APP_TOKEN \(xapp-…/m]],
      [{ SLACK_BOT_TOKEN: "xoxb-1-revoked" }, [/^ftp-doctor: SLACK_BOT_TOKEN was refused by Slack \(token_revoked: .*revoked/m]],
      [{ SLACK_APP_TOKEN: "xapp-1-A0APP-9-wrong" }, [/^ftp-doctor: SLACK_APP_TOKEN was refused by Slack \(invalid_auth\)/m]],
    ];
    for (const [env, expected] of cases) {
      const b = spawnBot(botEnv(env));
      const code = await b.exited;
      const out = b.out();
      assert.equal(code, 2, `${JSON.stringify(env)}: exit ${code}\n${out}`);
      for (const re of expected) assert.match(out, re, JSON.stringify(env));
      const lines = out.trim().split("\n");
      assert.equal(lines.length, expected.length, `one line per mistake, got:\n${out}`);
      assert.ok(!out.includes("at "), `no stack trace:\n${out}`);
      assert.ok(!out.includes(BOT_TOKEN.slice(8)) && !out.includes("socketmodetest"), "the token itself is never printed");
    }
  });

  test("/healthz reports the link, and answers 503 once it has been down longer than the grace period", async () => {
    const metricsPort = await freePort();
    const bot = await startBot({ METRICS_PORT: String(metricsPort), FTP_DOCTOR_SLACK_LINK_GRACE_MS: "1500" });
    const healthz = async () => {
      const r = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
      return { status: r.status, body: (await r.json()) as { ok: boolean; slack: boolean; slackLink: Record<string, unknown> } };
    };
    try {
      await sm.waitForConnections(1);
      const up = await healthz();
      assert.equal(up.status, 200);
      assert.equal(up.body.slackLink.connected, true);
      sm.outage(true);
      sm.drop();
      await bot.waitFor(/"slack link down; reconnecting"/);
      const early = await healthz();
      assert.equal(early.body.slackLink.connected, false);
      assert.equal(early.status, 200, "a reconnect shorter than the grace period is not an outage");
      await new Promise((r) => setTimeout(r, 1_800));
      const down = await healthz();
      assert.equal(down.status, 503);
      assert.equal(down.body.slack, false);
      assert.ok(Number(down.body.slackLink.downForMs) >= 1_500);
      assert.match(String(down.body.slackLink.lastError), /HTTP 503|503/);
      sm.outage(false);
      await sm.waitForConnections(1, 10_000);
      let back = await healthz();
      for (let i = 0; i < 50 && back.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 100));
        back = await healthz();
      }
      assert.equal(back.status, 200);
      assert.equal(back.body.slackLink.connected, true);
      assert.ok(Number(back.body.slackLink.reconnects) >= 1);
    } finally {
      sm.outage(false);
      await bot.stop();
    }
  });

  test("a 60 s Slack outage is waited out with capped, logged backoff; the first command afterwards is answered", async () => {
    const bot = await startBot({ FTP_DOCTOR_SLACK_RECONNECT_MAX_MS: "4000" });
    try {
      await sm.waitForConnections(1);
      sm.outage(true);
      sm.drop();
      const outageStart = Date.now();
      // Slack is away for a minute: connections.open answers 503 and upgrades are refused.
      while (Date.now() - outageStart < 60_000) {
        assert.equal(bot.child.exitCode, null, `the bot died during the outage:\n${bot.out().slice(-2000)}`);
        assert.equal((await sm.command(slashPayload({ text: "help" }))).outcome, "dispatch_failed");
        await new Promise((r) => setTimeout(r, 2_000));
      }
      sm.outage(false);
      await sm.waitForConnections(1, 10_000);
      const t0 = Date.now();
      const r = await sm.command(slashPayload({ text: `127.0.0.1:${busy.port}` }));
      assert.equal(r.outcome, "acked");
      const parent = await parentFor(`127.0.0.1:${busy.port}`, t0);
      await threadVerdict(tsOf(parent), "SERVER_BUSY");
      const retries = bot
        .out()
        .split("\n")
        .filter((l) => l.includes('"slack link: reconnect failed; retrying"'))
        .map((l) => JSON.parse(l) as { delayMs: number; err: string });
      assert.ok(retries.length >= 10, `every attempt is logged (${retries.length})`);
      assert.ok(
        retries.every((x) => x.delayMs <= 4_000),
        "backoff is capped",
      );
      assert.ok(
        retries.some((x) => x.delayMs > 2_500),
        "and it does back off",
      );
      assert.doesNotMatch(bot.out(), /unhandled rejection|uncaught exception/);
    } finally {
      sm.outage(false);
      await bot.stop();
    }
  });
});
