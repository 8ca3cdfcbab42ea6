/** Posting pace per channel against the Web API stand-in: bursts allowed, then paced; verdicts first. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { WebClient } from "@slack/web-api";
import { createLogger } from "../../src/log.js";
import { Poster } from "../../src/slack/poster.js";
import { startFakeSlack, type FakeSlack } from "./fakeSlack.js";

let slack: FakeSlack;
before(async () => {
  slack = await startFakeSlack();
});
after(() => slack.close());

test("a burst goes out at once, the rest one per spacing, verdicts before waiting notices; other channels unaffected", async () => {
  const client = new WebClient("xoxb-test", { slackApiUrl: slack.url });
  const poster = new Poster(client, createLogger("silent"), 1_000);
  const posts: Promise<unknown>[] = [];
  for (let i = 0; i < 12; i++) posts.push(poster.post({ channel: "C0BUSY", text: `notice ${i}` }));
  for (let i = 0; i < 3; i++) posts.push(poster.post({ channel: "C0BUSY", text: `verdict ${i}` }, "verdict"));
  posts.push(poster.post({ channel: "C0QUIET", text: "elsewhere" }));
  const busy = () => slack.ok("chat.postMessage").filter((c) => c.args.channel === "C0BUSY").length;
  await slack.waitFor(() => busy() >= 10, 5_000, "the burst");
  await new Promise((r) => setTimeout(r, 300));
  const early = slack.ok("chat.postMessage");
  assert.equal(busy(), 10, "a burst of 10 at once, then paced");
  assert.equal(early.filter((c) => c.args.channel === "C0QUIET").length, 1, "another channel is not held up");
  await Promise.all(posts);
  const order = slack
    .ok("chat.postMessage")
    .filter((c) => c.args.channel === "C0BUSY")
    .map((c) => String(c.args.text));
  // Notice 0 was already on its way when the verdicts were queued; every other notice waited.
  assert.deepEqual(order.slice(0, 4), ["notice 0", "verdict 0", "verdict 1", "verdict 2"], "verdicts jump the waiting notices");
  assert.deepEqual(
    order.slice(4),
    Array.from({ length: 11 }, (_, i) => `notice ${i + 1}`),
  );
});
