/**
 * Issue 10 item 1, attacked as anyone who can reach the bot's HTTP port would: the real bot
 * process in HTTP mode, raw sockets holding unsigned multi-megabyte bodies open, forged and
 * malformed signed requests. The bot's RSS is read from /proc.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { Redis } from "ioredis";
import { freePort, makeTempDir } from "../harness/env.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../queue/lib.js";
import { type BotProcess, startBotProcess } from "../slack/botProcess.js";
import { type FakeSlack, sendToBot, sign, slashBody, startFakeSlack } from "../slack/fakeSlack.js";

const SECRET = "security-http-secret-0123456789";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let slack: FakeSlack;
let bot: BotProcess;
let port: number;

const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]);

/**
 * Open a connection, send headers announcing `announce` bytes, then push `push` bytes of body
 * and keep the socket open. Resolves with the status line the bot answered, if any.
 */
function holdBody(headers: string[], push: number): { done: Promise<{ status: string; closed: boolean }>; socket: net.Socket } {
  const socket = net.connect(port, "127.0.0.1");
  let answer = "";
  socket.on("data", (d) => (answer += d.toString("latin1")));
  socket.on("error", () => undefined);
  const done = new Promise<{ status: string; closed: boolean }>((resolve) => {
    socket.once("close", () => resolve({ status: answer.split("\r\n")[0] ?? "", closed: true }));
    setTimeout(() => resolve({ status: answer.split("\r\n")[0] ?? "", closed: false }), 8_000).unref();
  });
  socket.on("connect", () => {
    socket.write(`POST /slack/events HTTP/1.1\r\nHost: bot\r\n${headers.join("\r\n")}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const pump = () => {
      while (sent < push && !socket.destroyed) {
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once("drain", pump);
      }
    };
    pump();
  });
  return { done, socket };
}

describe("HTTP mode: refused before the body, bounded, never crashes (issue 10 item 1)", () => {
  before(async () => {
    slack = await startFakeSlack();
    port = await freePort();
    const configFile = path.join(dir.path, "bot.yaml");
    writeFileSync(configFile, "targets:\n  allow: ['127.0.0.0/8']\n");
    bot = await startBotProcess({ port, slackApiUrl: slack.url, signingSecret: SECRET, redisUrl: REDIS_URL, prefix, configFile });
  });
  after(async () => {
    await bot?.stop();
    await slack?.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  test("200 unsigned 4 MB bodies held open: each refused unread, RSS growth within 50 MB", async () => {
    // Warm up: the first signed request loads Bolt's lazy paths.
    const warm = slashBody({ text: "help" });
    assert.equal((await sendToBot(bot.url, warm, "application/x-www-form-urlencoded", sign(SECRET, warm))).status, 200);
    const before = rssKb(bot.child.pid!);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssKb(bot.child.pid!))), 20);
    const now = Math.floor(Date.now() / 1000);
    const attacks = [
      // 100 unsigned, 4 MB announced, 1 MB pushed each and held open
      ...Array.from({ length: 100 }, () => holdBody(["Content-Type: application/json", "Content-Length: 4194304"], 1 << 20)),
      // 50 unsigned and chunked (no length to refuse on)
      ...Array.from({ length: 50 }, () => holdBody(["Content-Type: application/json", "Transfer-Encoding: chunked"], 1 << 20)),
      // 50 with a well-formed but forged signature and a current timestamp, 4 MB announced
      ...Array.from({ length: 50 }, () =>
        holdBody(
          [
            "Content-Type: application/json",
            "Content-Length: 4194304",
            `X-Slack-Signature: v0=${"0".repeat(64)}`,
            `X-Slack-Request-Timestamp: ${now}`,
          ],
          1 << 20,
        ),
      ),
    ];
    const statuses = await Promise.all(attacks.map((a) => a.done));
    clearInterval(sampler);
    for (const a of attacks) a.socket.destroy();
    const growthMb = (peak - before) / 1024;
    console.log(
      `# item 1: bot RSS ${Math.round(before / 1024)} MB → peak ${Math.round(peak / 1024)} MB (growth ${growthMb.toFixed(1)} MB) under 200 held 4 MB bodies`,
    );
    // Each one is answered 401 (unsigned) or 413 (forged, too large) unread, or — past the
    // connection cap — closed unanswered. None stays open, none gets anything else.
    const seen = statuses.map((s) => `${s.status.split(" ")[1] ?? "none"}${s.closed ? "" : " (open)"}`);
    const count = (re: RegExp, from: number, to: number) => seen.slice(from, to).filter((s) => re.test(s)).length;
    assert.equal(count(/^(401|none)$/, 0, 150), 150, `unsigned: ${seen.slice(0, 150)}`);
    assert.equal(count(/^(413|none)$/, 150, 200), 50, `forged, too large: ${seen.slice(150)}`);
    assert.ok(count(/^401$/, 0, 150) >= 50, "unsigned requests get a 401");
    assert.ok(growthMb <= 50, `RSS grew ${growthMb.toFixed(1)} MB`);
    assert.equal(bot.child.exitCode, null);
  });

  test("timestamps more than 5 minutes off, either way, are refused", async () => {
    const body = slashBody({ text: "help" });
    const now = Math.floor(Date.now() / 1000);
    for (const ts of [now - 301, now + 301, now + 86_400]) {
      const r = await sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body, ts));
      assert.equal(r.status, 401, `timestamp ${ts - now}`);
    }
    assert.equal((await sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body, now - 200))).status, 200);
    const wrong = await sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign("another-secret", body));
    assert.equal(wrong.status, 401);
  });

  test("a signed body over the cap gets 413, chunked or not", async () => {
    const big = slashBody({ text: `help ${"x".repeat(600 * 1024)}` });
    assert.equal((await sendToBot(bot.url, big, "application/x-www-form-urlencoded", sign(SECRET, big))).status, 413);
    const chunked = await fetch(bot.url, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...sign(SECRET, big) },
      body: new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode(big));
          c.close();
        },
      }),
      duplex: "half",
    } as RequestInit).catch(() => undefined);
    assert.ok(!chunked || chunked.status === 413, `chunked: ${chunked?.status}`);
  });

  test("signed null, non-JSON and wrong-shape payloads get a 4xx; the process stays up", async () => {
    const cases: [string, string][] = [
      ["null", "application/json"],
      ["not json", "application/json"],
      ['"a string"', "application/json"],
      ["[1,2]", "application/json"],
      ['{"type":5}', "application/json"],
      ['{"type":"event_callback","event":null}', "application/json"],
      ["payload=null", "application/x-www-form-urlencoded"],
      ["payload=%5B%5D", "application/x-www-form-urlencoded"],
      ["payload=%7Bbroken", "application/x-www-form-urlencoded"],
      ["payload=a&payload=b", "application/x-www-form-urlencoded"],
      ["text=hi", "application/x-www-form-urlencoded"],
      ["", "application/json"],
    ];
    for (const [body, type] of cases) {
      const r = await sendToBot(bot.url, body, type, sign(SECRET, body));
      assert.ok(r.status >= 400 && r.status < 500, `${body}: ${r.status}`);
    }
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bot.child.exitCode, null, bot.out().slice(-2000));
    const ok = slashBody({ text: "help" });
    assert.equal((await sendToBot(bot.url, ok, "application/x-www-form-urlencoded", sign(SECRET, ok))).status, 200);
  });

  test("slow headers are cut off (no slowloris)", async () => {
    const s = net.connect(port, "127.0.0.1");
    s.on("error", () => undefined);
    await new Promise((r) => s.once("connect", r));
    s.write("POST /slack/events HTTP/1.1\r\nHost: bot\r\n");
    const t = setInterval(() => s.write("X-Slow: 1\r\n"), 500);
    const closedIn = await new Promise<number>((resolve) => {
      const t0 = Date.now();
      s.once("close", () => resolve(Date.now() - t0));
      setTimeout(() => resolve(Number.POSITIVE_INFINITY), 20_000).unref();
    });
    clearInterval(t);
    s.destroy();
    assert.ok(Number.isFinite(closedIn), "the connection was never closed");
  });
});
