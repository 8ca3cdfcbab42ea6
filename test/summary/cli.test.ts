/** `ftp-doctor check --summarize` as a user runs it: a real process, a refused port, a local model server. */
import { afterEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { runCli } from "../cli/run.js";
import { answer, startFakeOpenAI, type FakeOpenAI } from "./fakeOpenAI.js";

const REFUSED_ANSWER = {
  text: "Nobody can reach the FTP service at 127.0.0.1:1 right now: the machine answers, but no FTP service accepts connections on that port.",
  severity: "critical",
  nextAction: "Ask the server's administrator to start the FTP service or correct the port.",
};

let fake: FakeOpenAI | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe("ftp-doctor check --summarize (process)", () => {
  test("--json: summary filled from the model, verdict unchanged (TCP_REFUSED), exit 1", async () => {
    fake = await startFakeOpenAI([answer(REFUSED_ANSWER)]);
    const r = await runCli(["check", "127.0.0.1:1", "--json", "--summarize"], {
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_MODEL: "fake-model",
    });
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as { verdict: { code: string }; summary: unknown };
    assert.equal(j.verdict.code, "TCP_REFUSED");
    assert.deepEqual(j.summary, REFUSED_ANSWER);
    assert.equal(fake.requests.length, 1);
    assert.match(fake.requests[0]!.raw, /TCP_REFUSED/);
    assert.equal(r.stderr, "", "no warning on success");
  });

  test("--json with a failing model server: summary null, verdict unchanged, one warning line on stderr", async () => {
    fake = await startFakeOpenAI([{ kind: "status", status: 500 }]);
    const r = await runCli(["check", "127.0.0.1:1", "--json", "--summarize"], { OPENAI_BASE_URL: fake.baseURL });
    assert.equal(r.code, 1);
    const j = JSON.parse(r.stdout) as { verdict: { code: string }; summary: unknown };
    assert.equal(j.verdict.code, "TCP_REFUSED");
    assert.equal(j.summary, null);
    const warn = JSON.parse(r.stderr.trim().split("\n").pop()!) as { msg: string; reason: string; status: number };
    assert.equal(warn.msg, "summary unavailable");
    assert.equal(warn.reason, "http_error");
    assert.equal(warn.status, 500);
  });

  test("text mode: the summary is printed under the verdict", async () => {
    fake = await startFakeOpenAI([answer(REFUSED_ANSWER)]);
    const r = await runCli(["check", "127.0.0.1:1", "--summarize"], { OPENAI_BASE_URL: fake.baseURL, NO_COLOR: "1" });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /Summary\n\s+Nobody can reach the FTP service/);
  });

  test("disabled: summary null in JSON; a one-line notice in text mode; no model server needed", async () => {
    const j = await runCli(["check", "127.0.0.1:1", "--json", "--summarize"], {});
    assert.equal(j.code, 1);
    assert.equal((JSON.parse(j.stdout) as { summary: unknown }).summary, null);
    assert.equal(j.stderr, "");
    const t = await runCli(["check", "127.0.0.1:1", "--summarize"], {});
    assert.equal(t.code, 1);
    assert.equal(t.stderr.trim().split("\n").length, 1);
    assert.match(t.stderr, /--summarize: no LLM configured/);
  });

  test("without --summarize nothing changes, even when a model server is configured", async () => {
    fake = await startFakeOpenAI([answer(REFUSED_ANSWER)]);
    const r = await runCli(["check", "127.0.0.1:1", "--json"], { OPENAI_BASE_URL: fake.baseURL });
    assert.equal((JSON.parse(r.stdout) as { summary: unknown }).summary, null);
    assert.equal(fake.requests.length, 0);
  });

  test("a bad OPENAI_BASE_URL with --summarize is bad usage: exit 2, one line", async () => {
    const r = await runCli(["check", "127.0.0.1:1", "--summarize"], { OPENAI_BASE_URL: "localhost:8000" });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ftp-doctor: --summarize: LLM summary settings: OPENAI_BASE_URL: must be an http:\/\/ or https:\/\/ URL/);
  });
});
