/**
 * Pictures in Slack, end to end: the real bot process, a real worker, real FTP servers, and the
 * Slack stand-in speaking the external-upload flow (files.getUploadURLExternal → the bytes to
 * the upload URL on loopback → files.completeUploadExternal into the verdict's thread).
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { Redis } from "ioredis";
import { startVsftpd, type RunningServer } from "../harness/daemons.js";
import { freePort, makeTempDir, requirementsOptions } from "../harness/env.js";
import { startFakeFtp, type FakeFtpServer } from "../harness/scripted.js";
import { deletePrefix, REDIS_URL, startWorker, stopWorker, uniquePrefix, type WorkerProc, writeDmzConfig } from "../queue/lib.js";
import { decode } from "../render/golden.js";
import { type BotProcess, startBotProcess } from "./botProcess.js";
import { actionBody, type ApiCall, type FakeSlack, sendToBot, sign, slashBody, startFakeSlack } from "./fakeSlack.js";

const SECRET = "test-signing-secret-pictures";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let slack: FakeSlack;
let vs: RunningServer;
let busy: FakeFtpServer;
let worker: WorkerProc;
let bot: BotProcess;

const slash = (text: string, user = "U0OK") => {
  const body = slashBody({ text, user });
  return sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
};
const click = (f: Parameters<typeof actionBody>[0]) => {
  const body = actionBody(f);
  return sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
};
const tsOf = (c: ApiCall) => String(c.result?.ts ?? "");
const headerOf = (c: ApiCall) =>
  (c.args.blocks as { type: string; text?: { text: string } }[] | undefined)?.find((b) => b.type === "header")?.text?.text ?? "";
const buttonsOf = (c: ApiCall) =>
  ((c.args.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[]).find((b) => b.type === "actions")?.elements ??
    []) as { action_id?: string; value?: string }[];

/** A slash command's parent message and the verdict in its thread. */
async function check(target: string, code: string): Promise<{ parentTs: string; verdict: ApiCall }> {
  const t0 = Date.now();
  assert.equal((await slash(target)).status, 200);
  const parent = await slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.at >= t0 && String(c.args.text).includes(`Checking ${target}`),
    10_000,
    `parent for ${target}`,
  );
  const parentTs = tsOf(parent);
  const verdict = await slack.waitFor(
    (c) => c.method === "chat.postMessage" && c.args.thread_ts === parentTs && headerOf(c).includes(code),
    30_000,
    `verdict ${code}`,
  );
  return { parentTs, verdict };
}

const completions = (threadTs?: string) =>
  slack.ok("files.completeUploadExternal").filter((c) => threadTs === undefined || c.args.thread_ts === threadTs);

/** The file a files.completeUploadExternal call shared, decoded. */
function pictureOf(c: ApiCall) {
  const id = (c.args.files as { id: string }[])[0]!.id;
  const file = slack.files.get(id)!;
  assert.ok(file.completed && file.bytes, "file not completed");
  return { file, png: decode(file.bytes!) };
}

describe("pictures in Slack", { ...requirementsOptions(["vsftpd", "root"]) }, () => {
  before(async () => {
    slack = await startFakeSlack();
    vs = await startVsftpd({});
    busy = await startFakeFtp({ greeting: "421 There are too many connected users, please try later." });
    const configFile = writeDmzConfig(path.join(dir.path, "bot.yaml"), ["slack:", "  allowedUsers: [U0OK]"]);
    worker = await startWorker({ zone: "dmz", prefix, concurrency: 4 });
    bot = await startBotProcess({
      port: await freePort(),
      slackApiUrl: slack.url,
      signingSecret: SECRET,
      redisUrl: REDIS_URL,
      prefix,
      configFile,
    });
  });
  after(async () => {
    await bot?.stop();
    await stopWorker(worker);
    await Promise.allSettled([vs.stop(), busy.stop(), slack.close()]);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  test("a failure: the waterfall follows the verdict into its thread through the external-upload flow", async () => {
    const { parentTs, verdict } = await check(`127.0.0.1:${busy.port}`, "SERVER_BUSY");
    assert.ok(!buttonsOf(verdict).some((b) => b.action_id === "ftp_waterfall"), "no button: the picture comes anyway");
    const done = await slack.waitFor(
      (c) => c.method === "files.completeUploadExternal" && c.args.thread_ts === parentTs,
      20_000,
      "waterfall upload",
    );
    assert.equal(done.args.channel_id, "C0OPS");
    assert.ok(done.at >= verdict.at, "picture before the verdict");
    const { file, png } = pictureOf(done);
    assert.equal(png.width, 960);
    assert.match(file.filename, /^waterfall-127\.0\.0\.1_\d+-dmz\.png$/);
    assert.match(file.alt_text ?? "", /SERVER_BUSY/);
    // The flow as the WebClient runs it: an upload URL, then the bytes to it, then completion.
    const id = file.id;
    const get = slack.ok("files.getUploadURLExternal").find((c) => c.result?.file_id === id)!;
    const put = slack.ok("upload").find((c) => c.args.id === id)!;
    assert.ok(get.at <= put.at && put.at <= done.at);
    assert.equal(Number(get.args.length), file.bytes!.length);
  });

  test("healthy: no picture unless asked; 'Show waterfall' goes through the same authorisation as the other buttons", async () => {
    const { parentTs, verdict } = await check(`127.0.0.1:${vs.port}`, "HEALTHY");
    const button = buttonsOf(verdict).find((b) => b.action_id === "ftp_waterfall");
    assert.ok(button?.value, "no Show waterfall button");
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(completions(parentTs).length, 0, "a healthy check posted a picture unasked");

    // Someone not allowed to use the bot: refused, nothing uploaded.
    await click({ actionId: "ftp_waterfall", value: button.value!, messageTs: tsOf(verdict), threadTs: parentTs, user: "U0EVIL" });
    await slack.waitFor(
      (c) => c.method === "chat.postEphemeral" && c.args.user === "U0EVIL" && /not on ftp-doctor's list/.test(String(c.args.text)),
      5_000,
      "refusal",
    );
    // A forged value: no lookup of arbitrary keys, an answer that it is gone.
    await click({ actionId: "ftp_waterfall", value: "../../*", messageTs: tsOf(verdict), threadTs: parentTs });
    await slack.waitFor(
      (c) => c.method === "chat.postEphemeral" && /expired|does not belong/.test(String(c.args.text)),
      5_000,
      "forged value answer",
    );
    assert.equal(completions(parentTs).length, 0);

    await click({ actionId: "ftp_waterfall", value: button.value!, messageTs: tsOf(verdict), threadTs: parentTs });
    const done = await slack.waitFor(
      (c) => c.method === "files.completeUploadExternal" && c.args.thread_ts === parentTs,
      20_000,
      "waterfall on request",
    );
    assert.match(pictureOf(done).file.alt_text ?? "", /HEALTHY/);
  });

  test("a failing upload never blocks or loses the text verdict", async () => {
    // Every attempt at the upload URL fails (the WebClient tries 7 times), then it is given up.
    slack.fail("upload", 7, 500);
    const before = completions().length;
    const first = await check(`127.0.0.1:${busy.port}`, "SERVER_BUSY");
    // While the upload is still being retried, the next check is answered as fast as ever.
    const second = await check(`127.0.0.1:${vs.port}`, "HEALTHY");
    assert.ok(second.verdict.at > first.verdict.at);
    await slack.waitFor(
      (c) => c.method === "chat.update" && c.args.ts === first.parentTs && /SERVER_BUSY/.test(String(c.args.text)),
      10_000,
      "parent updated",
    );
    const t0 = Date.now();
    while (!/waterfall not posted/.test(bot.out()) && Date.now() - t0 < 40_000) await new Promise((r) => setTimeout(r, 200));
    assert.match(bot.out(), /"msg":"waterfall not posted"/);
    assert.equal(completions().length, before, "a file was shared although its bytes never arrived");
    assert.equal(slack.calls.filter((c) => c.method === "upload" && c.status === 500).length, 7);
    // The next failure's picture goes through again.
    const third = await check(`127.0.0.1:${busy.port}`, "SERVER_BUSY");
    await slack.waitFor((c) => c.method === "files.completeUploadExternal" && c.args.thread_ts === third.parentTs, 20_000, "upload again");
  });

  test("/ftp-check history: the text, then the timeline picture", async () => {
    const t0 = Date.now();
    assert.equal((await slash(`history 127.0.0.1:${busy.port}`)).status, 200);
    const text = await slack.waitFor(
      (c) => c.method === "chat.postMessage" && c.at >= t0 && headerOf(c).startsWith("History of"),
      10_000,
      "history text",
    );
    const done = await slack.waitFor(
      (c) => c.method === "files.completeUploadExternal" && c.at >= t0 && c.args.thread_ts === undefined,
      20_000,
      "timeline upload",
    );
    assert.ok(done.at >= text.at);
    assert.equal(done.args.channel_id, "C0OPS");
    const { file, png } = pictureOf(done);
    assert.match(file.filename, /^timeline-127\.0\.0\.1_\d+\.png$/);
    assert.equal(png.width, 960);
    // Not allowed to use the bot: no history, no picture.
    const n = completions().length;
    const r = await slash(`history 127.0.0.1:${busy.port}`, "U0EVIL");
    assert.match(r.body + JSON.stringify(slack.calls.slice(-3)), /not on ftp-doctor's list/);
    await new Promise((res) => setTimeout(res, 800));
    assert.equal(completions().length, n);
  });
});
