import assert from "node:assert/strict";
import { test } from "node:test";
import { forgetReuseAnswers, recallReuse, rememberReuse, reuseKey } from "../../src/probe/reuseMemory.js";

test("the session-reuse answer is remembered for an hour, per address, port, user and certificate", () => {
  forgetReuseAnswers();
  const key = reuseKey("192.0.2.10", 21, "alice", "AB:CD");
  const t0 = 1_000_000;
  rememberReuse(key, { status: "required", detail: "522 SSL connection failed: session reuse required" }, t0);
  assert.equal(recallReuse(key, t0 + 59 * 60_000)?.answer.status, "required");
  assert.equal(recallReuse(key, t0 + 61 * 60_000), undefined, "an hour later it is asked again");
  rememberReuse(key, { status: "not-required" }, t0);
  for (const other of [
    reuseKey("192.0.2.11", 21, "alice", "AB:CD"),
    reuseKey("192.0.2.10", 2121, "alice", "AB:CD"),
    reuseKey("192.0.2.10", 21, "bob", "AB:CD"),
    reuseKey("192.0.2.10", 21, "alice", "EF:01"),
  ])
    assert.equal(recallReuse(other, t0), undefined, other);
  forgetReuseAnswers();
  assert.equal(recallReuse(key, t0), undefined);
});

test("an unanswered check is not remembered: the next one asks", () => {
  forgetReuseAnswers();
  const key = reuseKey("192.0.2.10", 21, "alice", "AB:CD");
  rememberReuse(key, { status: "not-run", detail: "greeting 421" }, 0);
  assert.equal(recallReuse(key, 0), undefined);
});
