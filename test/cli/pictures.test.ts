/** `check --png/--svg` and `history --png` as a user runs them: a real process, a real server, real Redis. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { Redis } from "ioredis";
import { makeTempDir } from "../harness/env.js";
import { type ScriptedServer, silentHandler, startScriptedServer } from "../harness/scripted.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../queue/lib.js";
import { perZone } from "../../src/cli/pictures.js";
import { decode } from "../render/golden.js";
import { demoHistory, WEEK_END } from "../render/fixtures.js";
import { runCli } from "./run.js";

const dir = makeTempDir();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const prefix = uniquePrefix();
const servers: ScriptedServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("pictures from the CLI", () => {
  test("check --png --svg: the waterfall of a silent server, beside the normal output", async () => {
    const s = await startScriptedServer(silentHandler());
    servers.push(s);
    const png = path.join(dir.path, "silent.png");
    const svg = path.join(dir.path, "silent.svg");
    const r = await runCli(["check", `127.0.0.1:${s.port}`, "--timeout", "3000", "--json", "--png", png, "--svg", svg]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { verdict: { code: string } }).verdict.code, "BANNER_TIMEOUT", "stdout stays the JSON report");
    assert.match(r.stderr, /waterfall: .*silent\.svg, .*silent\.png/);
    const text = readFileSync(svg, "utf8");
    assert.match(text, /^<svg /);
    assert.match(text, /▲ BANNER_TIMEOUT/);
    assert.match(text, /greeting hit its deadline after/);
    const img = decode(readFileSync(png));
    assert.equal(img.width, 960);
    assert.ok(img.height > 200);
  });

  test("several zones: one picture per zone, named after it", () => {
    assert.equal(perZone("out/check.png", "dmz", true), "out/check-dmz.png");
    assert.equal(perZone("check", "office", true), "check-office");
    assert.equal(perZone("check.png", "dmz", false), "check.png");
  });

  test("bad picture paths: exit 2 before any check runs", async () => {
    const cases: [string[], RegExp][] = [
      [["check", "127.0.0.1:1", "--png", "/nonexistent-dir/x.png"], /--png: folder \/nonexistent-dir does not exist/],
      [["check", "127.0.0.1:1", "--svg", dir.path], /--svg: .* is a folder/],
      [["check", "127.0.0.1:1", "--png"], /argument missing|--png/],
      [["history", "127.0.0.1:21", "--png", "x.png", "--days", "90"], /--days: must be a whole number from 1 to 7/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args, { REDIS_URL });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.doesNotMatch(r.stdout, /TCP_REFUSED/, "the check ran");
    }
  });

  test("history --png: a week of stored results from two zones as a timeline", async () => {
    // Stored through the real history (storeResult), shifted so the demo week ends now.
    await demoHistory(redis, prefix, Date.now() - WEEK_END);
    const png = path.join(dir.path, "week.png");
    const svg = path.join(dir.path, "week.svg");
    const r = await runCli(["history", "ftp.example.com", "--png", png, "--svg", svg], { REDIS_URL, FTP_DOCTOR_REDIS_PREFIX: prefix });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /zone office: now PASV_PORTS_BLOCKED/, "stdout stays the history text");
    assert.match(r.stderr, /timeline: .*week\.png, .*week\.svg/);
    const text = readFileSync(svg, "utf8");
    for (const s of [">dmz<", ">office<", "recurring in office", "TLS_CERT_EXPIRED"]) assert.ok(text.includes(s), s);
    assert.equal(decode(readFileSync(png)).width, 960);

    const none = path.join(dir.path, "none.png");
    const e = await runCli(["history", "ftp.other.example", "--png", none], { REDIS_URL, FTP_DOCTOR_REDIS_PREFIX: prefix });
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /no history for ftp\.other\.example:21/);
    assert.ok(existsSync(none), "an empty timeline is still drawn");
  });
});
