/**
 * Hostile peers on the control connection: floods, endless replies, slowloris, hostile bytes.
 * Each runs the real CLI as a child against a real loopback listener and asserts the common
 * contract (expectContained): verdict code, budget + 1 s, bounded peak memory, no crash.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { verdictBlocks, transcriptBlocks } from "../../src/render/slack.js";
import { hugeGreetingHandler, startFakeFtp, startScriptedServer, type ScriptedServer } from "../harness/scripted.js";
import { CONTROL_CHARS, expectContained, printRows, runCheckCli } from "./lib.js";
import { dribble, LOGIN, pump } from "./servers.js";

const servers: ScriptedServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  printRows("hostile peers: control connection");
});
async function keep<T extends ScriptedServer>(s: Promise<T>): Promise<T> {
  const v = await s;
  servers.push(v);
  return v;
}
const at = (s: ScriptedServer) => `127.0.0.1:${s.port}`;

describe("hostile control connection", () => {
  test("10 MB greeting (a 220- reply that never ends) → PROTOCOL_VIOLATION, cut early", async () => {
    const s = await keep(startScriptedServer(hugeGreetingHandler(10 * 1024 * 1024)));
    const r = await expectContained(
      "10 MB multi-line greeting",
      await runCheckCli(at(s), ["--timeout", "8000"]),
      "PROTOCOL_VIOLATION",
      8000,
    );
    assert.match(r.verdict.title, /oversized greeting/);
  });

  test("10 MB greeting on one line, no line break → PROTOCOL_VIOLATION", async () => {
    const stats = { bytes: 0 };
    const s = await keep(startScriptedServer((sock) => pump(sock, Buffer.alloc(64 * 1024, "A"), stats)));
    await expectContained("endless line without CRLF", await runCheckCli(at(s), ["--timeout", "8000"]), "PROTOCOL_VIOLATION", 8000);
    // The client cut it: the server could not push much past socket buffers.
    assert.ok(stats.bytes < 16 * 1024 * 1024, `server wrote ${stats.bytes} bytes`);
  });

  test("endless multi-line reply to FEAT → PROTOCOL_VIOLATION (oversized reply)", async () => {
    const stats = { bytes: 0 };
    const line = Buffer.from(`${"211-".padEnd(78, "f")}\r\n`);
    const s = await keep(
      startFakeFtp({
        greeting: "220 FTP ready",
        replies: {
          ...LOGIN,
          FEAT: (_a, session) => {
            pump(session.socket, Buffer.concat(Array<Buffer>(800).fill(line)), stats);
            return undefined;
          },
        },
      }),
    );
    const r = await expectContained("endless 211- reply", await runCheckCli(at(s), ["--timeout", "8000"]), "PROTOCOL_VIOLATION", 8000);
    assert.match(r.verdict.title, /oversized reply/);
    assert.match(r.verdict.evidence.join(" "), /OVERSIZE/);
  });

  test("endless unsolicited replies after the greeting → PROTOCOL_VIOLATION", async () => {
    const stats = { bytes: 0 };
    const s = await keep(
      startScriptedServer((sock) => {
        sock.resume();
        sock.write("220 FTP ready\r\n");
        pump(sock, Buffer.from("200 NOOP ok.\r\n".repeat(4096)), stats);
      }),
    );
    await expectContained("reply flood", await runCheckCli(at(s), ["--timeout", "8000"]), "PROTOCOL_VIOLATION", 8000);
  });

  test("slowloris greeting, one byte per second → BANNER_TIMEOUT, decided at the greeting deadline", async () => {
    const s = await keep(
      startScriptedServer((sock) => {
        sock.resume();
        dribble(sock, "220 Welcome to the slowest FTP server in the world\r\n", 1000);
      }),
    );
    const r = await expectContained("slowloris greeting (1 byte/s)", await runCheckCli(at(s)), "BANNER_TIMEOUT", 15_000);
    assert.ok(r.durationMs < 6000, `took ${r.durationMs} ms to give up on a trickle`);
    // One byte a second against a ~2 s deadline: one, two or three bytes, depending on when the first left.
    assert.match(r.verdict.evidence.join("\n"), /\b\d+ bytes? arrived without completing a line \("2/, "the evidence names the trickle");
  });

  test("slowloris replies after a normal greeting → REPLY_TIMEOUT", async () => {
    const s = await keep(
      startScriptedServer((sock) => {
        sock.write("220 FTP ready\r\n");
        let answering = false;
        sock.on("data", () => {
          if (answering) return;
          answering = true;
          dribble(sock, "211-Features:\r\n EPSV\r\n211 End\r\n", 1000);
        });
      }),
    );
    const r = await expectContained("slowloris replies (1 byte/s)", await runCheckCli(at(s)), "REPLY_TIMEOUT", 15_000);
    assert.ok(r.durationMs < 8000, `took ${r.durationMs} ms`);
    assert.match(
      r.verdict.evidence.join("\n"),
      /\b\d+ bytes? of a reply arrived without completing it \("2/,
      "the evidence names the trickle",
    );
  });

  // Terminal escapes, BEL, NUL, a C1 CSI (U+009B, valid UTF-8), bytes that are not UTF-8, a
  // bidi override, and Slack markup that would ping a channel or forge a link if unescaped.
  const hostile = Buffer.concat([
    Buffer.from("Welcome \x1b[2J\x1b]0;pwned\x07 \x00 \u009b31m red "),
    Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]),
    Buffer.from(" \u202eevil\u202c <!channel> <@U0ADMIN> <http://evil.example|click here> &amp; & <b>"),
  ]);
  const MARKUP = ["<!channel>", "<@U0ADMIN>", "<http://evil.example|click here>", "<b>"];

  function assertSafeEverywhere(name: string, report: NonNullable<Awaited<ReturnType<typeof runCheckCli>>["report"]>, text: string): void {
    // The terminal: no control character at all besides line breaks.
    assert.ok(
      !CONTROL_CHARS.test(text),
      `${name}: control character in CLI text output: ${JSON.stringify(text.match(new RegExp(CONTROL_CHARS.source, "g")))}`,
    );
    // JSON report strings: same rule (they end up in terminals via jq, in logs, in Slack).
    const strings: string[] = [];
    JSON.stringify(report, (_k, v: unknown) => (typeof v === "string" && strings.push(v), v));
    for (const s of strings)
      assert.ok(!CONTROL_CHARS.test(s.replace(/\n/g, "")), `${name}: control character in report string ${JSON.stringify(s)}`);
    // Slack: every text field, verdict and transcript messages.
    for (const msg of [verdictBlocks(report, { resultId: "r1" }), transcriptBlocks(report)]) {
      const fields: { type: string; text: string }[] = [];
      JSON.stringify(msg.blocks, (_k, v: unknown) => {
        if (v && typeof v === "object" && "type" in v && "text" in v && typeof (v as { text: unknown }).text === "string")
          fields.push(v as { type: string; text: string });
        return v;
      });
      fields.push({ type: "mrkdwn", text: msg.text });
      assert.ok(fields.length >= 2);
      for (const f of fields) {
        assert.ok(
          !CONTROL_CHARS.test(f.text.replace(/\n/g, "")),
          `${name}: control character in Slack ${f.type}: ${JSON.stringify(f.text)}`,
        );
        if (f.type === "mrkdwn") {
          assert.ok(!/[<>]/.test(f.text), `${name}: unescaped < or > in Slack mrkdwn: ${f.text}`);
          assert.ok(!/&(?!(amp|lt|gt);)/.test(f.text), `${name}: unescaped & in Slack mrkdwn: ${f.text}`);
        }
        for (const m of MARKUP) assert.ok(!f.text.includes(m), `${name}: server markup ${m} reached Slack as is`);
      }
    }
    // It did get there, escaped: the server's words are shown, not dropped.
    const all = JSON.stringify(verdictBlocks(report, { resultId: "r1" }).blocks) + JSON.stringify(transcriptBlocks(report).blocks);
    assert.match(all, /&lt;!channel&gt;/, `${name}: the server's text was not shown at all`);
  }

  test("invalid UTF-8 and control characters in replies → AUTH_FAILED; terminal and Slack output stay clean", async () => {
    const s = await keep(
      startFakeFtp({
        greeting: Buffer.concat([Buffer.from("220-"), hostile, Buffer.from("\r\n220 ready\r\n")]),
        replies: { ...LOGIN, PASS: Buffer.concat([Buffer.from("530 Login incorrect "), hostile]).toString("latin1") },
      }),
    );
    const args = ["--timeout", "8000", "--tls", "off", "--user", "mallory", "--password-env", "PW"];
    const env = { PW: "not-the-password" };
    const json = await runCheckCli(at(s), args, { env });
    const report = await expectContained("invalid UTF-8 / control chars (530)", json, "AUTH_FAILED", 8000);
    const text = await runCheckCli(at(s), [...args, "--verbose", "--transcript"], { json: false, env });
    assert.equal(text.code, 1, text.stderr);
    assert.match(text.stdout, /AUTH_FAILED/);
    assert.match(text.stdout, /<!channel>/, "the terminal shows the server's words (escaping is Slack's business)");
    assertSafeEverywhere("530 reply", report, text.stdout + text.stderr);
  });

  test("control characters in a 500 OOPS greeting → SERVER_CONFIG_ERROR quoting it, safely", async () => {
    const s = await keep(startFakeFtp({ greeting: Buffer.concat([Buffer.from("500 OOPS: "), hostile, Buffer.from("\r\n")]) }));
    const json = await runCheckCli(at(s), ["--timeout", "5000"]);
    const report = await expectContained("invalid UTF-8 / control chars (500 OOPS)", json, "SERVER_CONFIG_ERROR", 5000);
    assert.match(report.verdict.explanation, /<!channel>/);
    const text = await runCheckCli(at(s), ["--timeout", "5000", "--verbose", "--transcript"], { json: false });
    assertSafeEverywhere("500 OOPS greeting", report, text.stdout + text.stderr);
  });
});
