/**
 * Monitoring and incidents end to end: two real bot processes (replicas) in HTTP mode, real
 * zone workers, Redis, real vsftpd daemons (and TCP fronts we switch between healthy, busy
 * and closing), the local Slack Web API stand-in. Intervals of seconds.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { Redis } from "ioredis";
import { startVsftpd, type RunningServer } from "../harness/daemons.js";
import { freePort, makeTempDir, requirementsOptions, sleep } from "../harness/env.js";
import { createNetns, type Netns } from "../harness/netns.js";
import { deletePrefix, REDIS_URL, redisRelay, spawnWorker, stopWorker, uniquePrefix, type WorkerProc } from "../queue/lib.js";
import { type BotProcess, startBotProcess } from "./botProcess.js";
import { actionBody, sendToBot, sign, slashBody, startFakeSlack, type ApiCall, type FakeSlack } from "./fakeSlack.js";

const SECRET = "test-signing-secret-monitor-0123";
const INC = "C0INCIDENTS";
const prefix = uniquePrefix();
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const dir = makeTempDir();
let slack: FakeSlack;
let configFile: string;

/** Each replica's metrics port, by its HTTP port. */
const metricsPorts = new Map<number, number>();

async function startBot(port: number): Promise<BotProcess> {
  if (!metricsPorts.has(port)) metricsPorts.set(port, await freePort());
  const env = {
    FTP_DOCTOR_RESULT_WAIT_MS: "20000",
    FTP_DOCTOR_STALLED_INTERVAL_MS: "1000",
    FTP_DOCTOR_LOCK_MS: "2000",
    METRICS_PORT: String(metricsPorts.get(port)),
  };
  return startBotProcess({ port, slackApiUrl: slack.url, signingSecret: SECRET, prefix, configFile, env, startTimeoutMs: 20_000 });
}

/** A TCP front we switch: "up" relays to a real vsftpd, "busy" answers 421, "close" hangs up at once. */
async function switchable(
  backendPort: number,
): Promise<{ port: number; mode: "up" | "busy" | "close"; flap: boolean; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let lastConn = 0;
  const front = {
    port: 0,
    mode: "up" as "up" | "busy" | "close",
    /** Alternate up/busy per check (connections more than 800 ms after the previous one start a new check). */
    flap: false,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  const server = net.createServer((a) => {
    sockets.add(a);
    a.on("error", () => undefined).on("close", () => sockets.delete(a));
    const now = Date.now();
    if (front.flap && now - lastConn > 800) front.mode = front.mode === "up" ? "busy" : "up";
    lastConn = now;
    if (front.mode === "close") return void a.destroy();
    if (front.mode === "busy") return void a.end("421 There are too many connected users, please try later.\r\n");
    const b = net.connect(backendPort, "127.0.0.1");
    sockets.add(b);
    b.on("error", () => a.destroy()).on("close", () => a.destroy());
    a.on("close", () => b.destroy());
    a.pipe(b).pipe(a);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  front.port = (server.address() as net.AddressInfo).port;
  return front;
}

const incidentParents = (port: number) =>
  slack
    .ok("chat.postMessage")
    .filter((c) => c.args.channel === INC && !c.args.thread_ts && String(c.args.text).includes(`127.0.0.1:${port}`));
const repliesTo = (ts: string) => slack.ok("chat.postMessage").filter((c) => c.args.channel === INC && c.args.thread_ts === ts);
const tsOf = (c: ApiCall) => String(c.result?.ts);

describe("monitoring and incidents end to end", { timeout: 300_000 }, () => {
  let vsA: RunningServer;
  let vsB: RunningServer;
  let b: Awaited<ReturnType<typeof switchable>>;
  let c: Awaited<ReturnType<typeof switchable>>;
  let portA: number;
  const workers: WorkerProc[] = [];
  let bot1: BotProcess | undefined;
  let bot2: BotProcess | undefined;
  let port1: number;
  let port2: number;
  let serverNs: Netns | undefined;
  let branchNs: Netns | undefined;
  let nsServer: RunningServer | undefined;
  let relay: { url: string; close(): Promise<void> } | undefined;

  before(async () => {
    slack = await startFakeSlack();
    portA = await freePort();
    vsA = await startVsftpd({ port: portA });
    vsB = await startVsftpd({});
    b = await switchable(vsB.port);
    c = await switchable(vsB.port);
    serverNs = await createNetns();
    branchNs = await createNetns();
    nsServer = await startVsftpd({ netns: serverNs.name, listenAddress: serverNs.nsAddress });
    relay = await redisRelay(branchNs.hostAddress);
    [port1, port2] = [await freePort(), await freePort()];
    configFile = path.join(dir.path, "monitor.yaml");
    writeFileSync(
      configFile,
      [
        "targets:",
        `  allow: ['127.0.0.0/8', '${serverNs.nsAddress}/32']`,
        "zones:",
        "  - name: dmz",
        "  - name: office",
        "  - name: branch",
        "slack:",
        "  allowedUsers: [U0OK, U0OTHER]",
        "monitor:",
        `  channel: ${INC}`,
        "  interval: 2s",
        "  failAfter: 2",
        "  recoverAfter: 2",
        "  oncall: S0ONCALL",
        "  flapping: { changes: 4, window: 40s }",
        "  targets:",
        `    - 127.0.0.1:${portA} from dmz,office`,
        `    - 127.0.0.1:${b.port} from dmz`,
        `    - 127.0.0.1:${c.port} from dmz every 2s`,
        "    - 10.0.0.5 from dmz",
      ].join("\n"),
    );
    workers.push(spawnWorker({ zone: "dmz", prefix, concurrency: 8 }), spawnWorker({ zone: "office", prefix, concurrency: 8 }));
    workers.push(spawnWorker({ zone: "branch", prefix, concurrency: 4, netns: branchNs.name, redisUrl: relay.url }));
    await Promise.all(workers.map((w) => w.waitFor(/worker started/, 15_000)));
    bot1 = await startBot(port1);
    bot2 = await startBot(port2);
  });

  after(async () => {
    await Promise.allSettled([bot1?.stop(), bot2?.stop()]);
    await Promise.allSettled(workers.map((w) => stopWorker(w)));
    await Promise.allSettled([vsA.stop(), vsB.stop(), b.close(), c.close(), nsServer?.stop(), relay?.close(), slack.close()]);
    await Promise.allSettled([serverNs?.destroy(), branchNs?.destroy()]);
    await deletePrefix(redis, prefix);
    redis.disconnect();
    dir.remove();
  });

  const click = (bot: BotProcess, f: Parameters<typeof actionBody>[0]) => {
    const body = actionBody(f);
    return sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
  };
  const slash = (bot: BotProcess, text: string) => {
    const body = slashBody({ text });
    return sendToBot(bot.url, body, "application/x-www-form-urlencoded", sign(SECRET, body));
  };

  test("a monitor target outside the allow-list is refused by the target policy, never checked", () => {
    assert.match(
      bot1!.out(),
      /"line":"10\.0\.0\.5 from dmz","problem":"10\.0\.0\.5 is not on this bot's allow-list.*"msg":"monitor target refused by the target policy"/,
    );
  });

  test(
    "stopped server → one P1 incident after failAfter; kill -9 and restart of a replica; recovery → one reply with the duration",
    requirementsOptions(["vsftpd"]),
    async () => {
      await sleep(5_000); // healthy checks first: no incident
      assert.equal(incidentParents(portA).length, 0, "no incident while healthy");
      const stoppedAt = Date.now();
      await vsA.stop();
      const parent = await slack.waitFor(
        (c) =>
          c.method === "chat.postMessage" &&
          c.args.channel === INC &&
          !c.args.thread_ts &&
          String(c.args.text).includes(`127.0.0.1:${portA}`),
        30_000,
        "incident for the stopped server",
      );
      const opensAfter = Date.now() - stoppedAt;
      const text = String(parent.args.text);
      assert.match(text, /^<!subteam\^S0ONCALL> :rotating_light: P1 127\.0\.0\.1:\d+: \*TCP_REFUSED\*/, text);
      const blocks = JSON.stringify(parent.args.blocks);
      assert.match(blocks, /Cross-zone: CONSISTENT/, "the other zone was checked at once");
      assert.match(blocks, /`dmz`: TCP_REFUSED/);
      assert.match(blocks, /`office`: TCP_REFUSED/);
      assert.match(blocks, /inc_ack.*inc_rerun_all.*inc_mute_1h.*inc_mute_resolved/);
      // failAfter 2: the first failing check cannot open it. Checks run every 2 s, claimed by a 1 s
      // tick, so the second failure comes at least ~1 s after the first (which may come right after the stop).
      assert.ok(opensAfter >= 1_000, `opened after ${opensAfter} ms: failAfter 2 needs a second failing check`);

      // Metrics: each replica reads the open incidents from Redis at scrape time; evaluations are
      // counted by whichever replica ran them (together at least the two failing ones).
      const scrapes = await Promise.all(
        [port1, port2].map(async (p) => (await fetch(`http://127.0.0.1:${metricsPorts.get(p)}/metrics`)).text()),
      );
      for (const m of scrapes) assert.match(m, /^ftp_doctor_monitor_incidents_open\{severity="P1"\} 1$/m);
      const failing = scrapes
        .flatMap((m) => [...m.matchAll(/^ftp_doctor_monitor_evaluations_total\{zone="(?:dmz|office)",code="TCP_REFUSED"\} (\d+)$/gm)])
        .reduce((n, x) => n + Number(x[1]), 0);
      assert.ok(failing >= 2, `${failing} failing evaluations counted`);
      assert.ok(scrapes.some((m) => /^ftp_doctor_monitor_start_lag_seconds_count\{zone="dmz"\} [1-9]/m.test(m)));

      // Mid-incident: one replica killed -9 and restarted; the other keeps running.
      await bot1?.stop("SIGKILL");
      bot1 = await startBot(port1);

      // Acknowledge: shown on the parent; a forged incident id and an unknown user are refused.
      await click(bot2!, { actionId: "inc_ack", value: "127.0.0.1:1@1", channel: INC, messageTs: tsOf(parent) });
      await click(bot2!, {
        actionId: "inc_ack",
        value: String((parent.args.blocks as { elements?: { value?: string }[] }[]).find((x) => x.elements)?.elements?.[0]?.value),
        channel: INC,
        messageTs: tsOf(parent),
        user: "U0EVIL",
      });
      const incidentId = JSON.stringify(parent.args.blocks).match(/"value":"([^"]+)"/)![1]!;
      const ackAt = Date.now();
      await click(bot1!, { actionId: "inc_ack", value: incidentId, channel: INC, messageTs: tsOf(parent) });
      const acked = await slack.waitFor(
        (c) => c.method === "chat.update" && c.args.ts === tsOf(parent) && /acknowledged by <@U0OK>/.test(JSON.stringify(c.args.blocks)),
        // The replica killed with -9 may have died holding the target's lock: it lapses after its 6 s lease.
        30_000,
        "parent updated with the acknowledgement",
      );
      assert.ok(acked);
      console.log(`# Acknowledge after a replica's kill -9: the parent updated ${acked.at - ackAt} ms after the click`);
      await slack.waitFor(
        (c) => c.method === "chat.postEphemeral" && /resolved or unknown/.test(String(c.args.text)),
        5_000,
        "forged id refused",
      );
      await slack.waitFor(
        (c) => c.method === "chat.postEphemeral" && /not on ftp-doctor's list/.test(String(c.args.text)),
        5_000,
        "unknown user refused",
      );

      await sleep(4_000); // same cause: nothing more in the thread
      assert.equal(repliesTo(tsOf(parent)).length, 0, "no reply while the cause stays the same");

      vsA = await startVsftpd({ port: portA });
      const back = Date.now();
      const reply = await slack.waitFor(
        (c) => c.method === "chat.postMessage" && c.args.thread_ts === tsOf(parent) && /recovered after/.test(String(c.args.text)),
        30_000,
        "recovery reply",
      );
      assert.match(String(reply.args.text), /recovered after \d+ s \(was TCP_REFUSED\)/);
      await slack.waitFor(
        (c) => c.method === "chat.update" && c.args.ts === tsOf(parent) && /RESOLVED P1/.test(String(c.args.text)),
        10_000,
        "parent resolved",
      );
      assert.ok(Date.now() - back < 30_000);
      await sleep(4_000);
      assert.equal(incidentParents(portA).length, 1, "exactly one incident message across two replicas and a kill -9");
      // The thread as Slack received it (Web API bodies), for the record.
      const thread = slack
        .ok()
        .filter((x) => x.args.channel === INC && (x.args.ts === tsOf(parent) || x.args.thread_ts === tsOf(parent) || x === parent))
        .map((x) => ({ method: x.method, at: new Date(x.at).toISOString(), args: x.args }));
      console.log(`INCIDENT THREAD ${JSON.stringify(thread)}`);
      assert.equal(
        repliesTo(tsOf(parent)).length,
        1,
        `exactly one reply, the recovery: ${repliesTo(tsOf(parent))
          .map((x) => x.args.text)
          .join(" | ")}`,
      );
    },
  );

  test("the cause changes mid-incident → one reply; then recovery", requirementsOptions(["vsftpd"]), async () => {
    b.mode = "busy";
    const parent = await slack.waitFor(
      (x) =>
        x.method === "chat.postMessage" &&
        x.args.channel === INC &&
        !x.args.thread_ts &&
        String(x.args.text).includes(`127.0.0.1:${b.port}`),
      30_000,
      "incident for the busy server",
    );
    assert.match(String(parent.args.text), /P1 127\.0\.0\.1:\d+: \*SERVER_BUSY\*/);
    assert.match(JSON.stringify(parent.args.blocks), /monitored from dmz only/);
    // Slack takes the cause-change reply, but the replica posting it never hears back and dies
    // (kill -9 of both replicas): the successor finds the reply in the thread, does not post it
    // again, and finishes the event (the parent shows the new cause).
    slack.stall("chat.postMessage", 1, INC);
    b.mode = "close";
    const change = await slack.waitFor(
      (x) => x.method === "chat.postMessage" && x.args.thread_ts === tsOf(parent) && /now \*/.test(String(x.args.text)),
      30_000,
      "cause change reply",
    );
    assert.match(String(change.args.text), /now \*[A-Z_]+\*, was SERVER_BUSY/);
    const cause = /now \*([A-Z_]+)\*/.exec(String(change.args.text))![1]!;
    const killedAt = Date.now();
    await Promise.all([bot1?.stop("SIGKILL"), bot2?.stop("SIGKILL")]);
    bot1 = await startBot(port1);
    bot2 = await startBot(port2);
    await slack.waitFor(
      (x) => x.method === "chat.update" && x.at > killedAt && x.args.ts === tsOf(parent) && String(x.args.text).includes(`*${cause}*`),
      30_000,
      "the parent updated by a successor",
    );
    assert.match(bot1!.out() + bot2!.out(), /"found":true[^\n]*"incident event interrupted by a process that died; finished"/);
    await sleep(4_000);
    assert.equal(repliesTo(tsOf(parent)).length, 1, "one reply per cause change (none twice after a kill, none while it stays)");
    b.mode = "up";
    await slack.waitFor(
      (x) => x.method === "chat.postMessage" && x.args.thread_ts === tsOf(parent) && /recovered after/.test(String(x.args.text)),
      30_000,
      "recovery reply",
    );
    assert.equal(incidentParents(b.port).length, 1);
    assert.equal(repliesTo(tsOf(parent)).length, 2);
  });

  test("a flapping target → one flapping incident, not a stream of messages", requirementsOptions(["vsftpd"]), async () => {
    c.flap = true;
    const parent = await slack.waitFor(
      (x) =>
        x.method === "chat.postMessage" &&
        x.args.channel === INC &&
        !x.args.thread_ts &&
        String(x.args.text).includes(`127.0.0.1:${c.port}`),
      40_000,
      "flapping incident",
    );
    assert.match(String(parent.args.text), /P2 127\.0\.0\.1:\d+: \*flapping \(SERVER_BUSY\)\*/);
    await sleep(12_000); // six more flips
    c.flap = false;
    c.mode = "up";
    assert.equal(incidentParents(c.port).length, 1, "one incident");
    assert.equal(repliesTo(tsOf(parent)).length, 0, "no stream of replies while flapping");
  });

  test(
    "/ftp-check host from all, one zone blocked by a network namespace → PATH_BLOCKED in the thread and on the parent",
    requirementsOptions(["vsftpd", "root", "ip"]),
    async () => {
      const t0 = Date.now();
      const r = await slash(bot1!, `${serverNs!.nsAddress}:${nsServer!.port} from all`);
      assert.equal(r.status, 200);
      const parent = await slack.waitFor(
        (x) =>
          x.method === "chat.postMessage" && x.at >= t0 && /Checking .* from 3 zones \(dmz, office, branch\)/.test(String(x.args.text)),
        10_000,
        "cross-zone parent",
      );
      const cross = await slack.waitFor(
        (x) =>
          x.method === "chat.postMessage" &&
          x.args.thread_ts === tsOf(parent) &&
          /Cross-zone: PATH_BLOCKED/.test(JSON.stringify(x.args.blocks)),
        40_000,
        "cross-zone verdict",
      );
      assert.match(JSON.stringify(cross.args.blocks), /works from dmz, office but not from branch/);
      const zoneVerdicts = slack.ok("chat.postMessage").filter((x) => x.args.thread_ts === tsOf(parent) && x !== cross);
      assert.equal(zoneVerdicts.length, 3, "one verdict per zone in the thread");
      assert.ok(
        zoneVerdicts.every((v) => v.at <= cross.at),
        "zone verdicts before the cross-zone verdict",
      );
      await slack.waitFor(
        (x) => x.method === "chat.update" && x.args.ts === tsOf(parent) && /PATH_BLOCKED/.test(String(x.args.text)),
        10_000,
        "parent updated",
      );
    },
  );

  test(
    "'Check from all zones' under a single-zone verdict runs a cross-zone check; a zone without a live worker is named",
    requirementsOptions(["vsftpd"]),
    async () => {
      const t0 = Date.now();
      await slash(bot1!, `127.0.0.1:${vsB.port} from dmz`);
      const parent = await slack.waitFor(
        (x) => x.method === "chat.postMessage" && x.at >= t0 && /Checking 127\.0\.0\.1:\d+ from dmz/.test(String(x.args.text)),
        10_000,
        "parent",
      );
      const verdict = await slack.waitFor(
        (x) => x.method === "chat.postMessage" && x.args.thread_ts === tsOf(parent) && /ftp_allzones/.test(JSON.stringify(x.args.blocks)),
        20_000,
        "verdict with the button",
      );
      const jobId = JSON.stringify(verdict.args.blocks).match(/"action_id":"ftp_allzones","text":\{[^}]*\},"value":"([^"]+)"/)![1]!;
      // An unknown user may not press it; a stale or forged value gets a message, not a check.
      await click(bot1!, { actionId: "ftp_allzones", value: jobId, messageTs: tsOf(verdict), threadTs: tsOf(parent), user: "U0EVIL" });
      await click(bot1!, { actionId: "ftp_allzones", value: "chk-forged", messageTs: tsOf(verdict), threadTs: tsOf(parent) });
      await slack.waitFor(
        (x) => x.method === "chat.postEphemeral" && /too old|does not belong/.test(String(x.args.text)),
        5_000,
        "forged value refused",
      );
      const branch = workers.pop()!;
      await stopWorker(branch); // "branch" has no live worker now
      await sleep(10_500);
      const t1 = Date.now();
      await click(bot1!, { actionId: "ftp_allzones", value: jobId, messageTs: tsOf(verdict), threadTs: tsOf(parent) });
      const cross = await slack.waitFor(
        (x) =>
          x.method === "chat.postMessage" &&
          x.at >= t1 &&
          x.args.thread_ts === tsOf(parent) &&
          /Cross-zone:/.test(JSON.stringify(x.args.blocks)),
        30_000,
        "cross-zone verdict from the button",
      );
      assert.match(JSON.stringify(cross.args.blocks), /CONSISTENT/);
      assert.match(JSON.stringify(cross.args.blocks), /branch.*no live worker/);
      assert.ok(Date.now() - t1 < 20_000, "the zone without a worker was not waited for");
      assert.equal(slack.ok("chat.postMessage").filter((x) => x.at >= t0 && x.args.user === "U0EVIL").length, 0);
    },
  );
});
