/**
 * The target policy's hooks in the engine (issue 10 wires them from the configuration): refused
 * addresses get no connection at all, a refused PASV host is never connected to, a password is
 * withheld on a plain session. Counting listeners prove "no connection", not the engine's word.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { runCheck } from "../../src/check/run.js";
import { CheckOptionsInput, toCheckOptions } from "../../src/check/options.js";
import type { ProbePolicy } from "../../src/probe/types.js";
import { parseTarget } from "../../src/target/parse.js";
import { type DnsServer, startDnsServer } from "../harness/dns.js";
import { freePort } from "../harness/env.js";
import { type ScriptedServer, startFakeFtp, startScriptedServer } from "../harness/scripted.js";
import { LOGIN, passive } from "../hostile/servers.js";

const stops: (() => Promise<unknown>)[] = [];
after(async () => {
  await Promise.allSettled(stops.map((s) => s()));
});
async function keep<T extends { stop(): Promise<unknown> }>(s: Promise<T>): Promise<T> {
  const v = await s;
  stops.push(() => v.stop());
  return v;
}
/** A listener that only counts who connects. */
const counter = (host: string, port?: number) => keep(startScriptedServer((s) => s.destroy(), { host, ...(port ? { port } : {}) }));

async function run(target: string, opts: Record<string, unknown>, policy: ProbePolicy, password?: string) {
  const options = toCheckOptions(CheckOptionsInput.parse({ timeout: 5000, ...opts }));
  return runCheck(parseTarget(target), options, password !== undefined ? { password } : {}, {}, policy);
}

const refuse =
  (bad: string, rule = "loopback"): ProbePolicy["address"] =>
  (address) => ({ permitted: address !== bad, rule: address === bad ? rule : "allow-cidr" });

describe("target policy hooks", () => {
  test("a refused IP literal: no connection at all, the refusal recorded", async () => {
    const l = await counter("127.0.0.1");
    const { observations: o } = await run(`127.0.0.1:${l.port}`, { tls: "off" }, { address: refuse("127.0.0.1") });
    assert.deepEqual(o.policyRefusal, { name: "127.0.0.1", address: "127.0.0.1", rule: "loopback" });
    assert.equal(l.connections(), 0);
    assert.deepEqual(o.connects, []);
    assert.equal(o.controlConnections, 0);
    assert.ok(o.steps.some((s) => s.id === "connect" && s.status === "fail" && /not a permitted target/.test(s.detail)));
  });

  test("a refused address → verdict TARGET_NOT_PERMITTED", async () => {
    const l = await counter("127.0.0.1");
    const { report } = await run(`127.0.0.1:${l.port}`, { tls: "off" }, { address: refuse("127.0.0.1") });
    assert.equal(report.verdict.code as string, "TARGET_NOT_PERMITTED");
  });

  test("a name with one refused address among two: the whole check is refused, neither is connected to", async () => {
    const port = await freePort();
    const a = await counter("127.0.0.1", port);
    const b = await counter("127.0.0.2", port);
    const dns: DnsServer = await keep(startDnsServer({ "two.policy.test": { A: ["127.0.0.1", "127.0.0.2"] } }));
    const { observations: o } = await run(
      `two.policy.test:${port}`,
      { tls: "off", resolver: `127.0.0.1:${dns.port}` },
      { address: refuse("127.0.0.2", "private") },
    );
    assert.deepEqual(o.policyRefusal, { name: "two.policy.test", address: "127.0.0.2", rule: "private" });
    assert.equal(a.connections() + b.connections(), 0);
  });

  test("a permitted address is probed as usual", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 ready", replies: { ...LOGIN, ...passive() } }));
    const seen: string[] = [];
    const { report, observations: o } = await run(
      `127.0.0.1:${s.port}`,
      { tls: "off", anonymous: true },
      {
        address: (address, name) => (seen.push(`${name}=${address}`), { permitted: true, rule: "allow-cidr" }),
      },
    );
    assert.deepEqual(seen, ["127.0.0.1=127.0.0.1"]);
    assert.equal(o.policyRefusal, undefined);
    assert.equal(report.verdict.code, "HEALTHY");
  });

  test("dataHost refuses a PASV address in the control peer's /24: never connected to, rule recorded", async () => {
    // Without the hook the CLI rule (same /24) would connect to 127.0.0.3.
    const third: ScriptedServer = await counter("127.0.0.3");
    const s = await keep(
      startFakeFtp({
        greeting: "220 ready",
        replies: { ...LOGIN, ...passive("ok", { pasvHost: "127.0.0.3", pasvPort: third.port }), EPSV: "500 EPSV not understood" },
      }),
    );
    const { observations: o } = await run(
      `127.0.0.1:${s.port}`,
      { tls: "off", anonymous: true },
      {
        dataHost: () => ({ permitted: false, rule: "data-host-not-allowed" }),
      },
    );
    assert.equal(o.data?.pasvAddress?.permitted, false);
    assert.equal(o.data?.pasvAddress?.rule, "data-host-not-allowed");
    assert.equal(third.connections(), 0);
  });

  test("passwordRequiresTls on a plain session: USER sent, PASS never sent", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 ready", replies: { ...LOGIN, ...passive() } }));
    const { observations: o } = await run(`127.0.0.1:${s.port}`, { tls: "off", user: "alice" }, { passwordRequiresTls: true }, "secret-1");
    assert.equal(o.login?.status, "blocked-cleartext");
    // (The anonymous side check's "PASS ftp-doctor@example.invalid" carries no secret.)
    assert.ok(!s.received.some((c) => c.includes("secret-1")), `commands: ${s.received.join(", ")}`);
    assert.ok(s.received.some((c) => /^USER alice/i.test(c)));
  });

  test("a withheld password → verdict CLEARTEXT_PASSWORD_BLOCKED", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 ready", replies: { ...LOGIN, ...passive() } }));
    const { report } = await run(`127.0.0.1:${s.port}`, { tls: "off", user: "alice" }, { passwordRequiresTls: true }, "secret-1");
    assert.equal(report.verdict.code as string, "CLEARTEXT_PASSWORD_BLOCKED");
  });
});
