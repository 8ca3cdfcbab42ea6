/**
 * Name resolution faults, through the check's own resolver option pointed at a loopback
 * authoritative DNS server (test/harness/dns.ts). Each test asserts the exact verdict code.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import dgram from "node:dgram";
import { startVsftpd, type RunningServer } from "../harness/daemons.js";
import { startDnsServer, type DnsServer } from "../harness/dns.js";
import { freePort, requirementsOptions } from "../harness/env.js";
import { LIMITS } from "../../src/config/defaults.js";
import { check, expectVerdict } from "./lib.js";

const ZONE = "ftp-doctor.test";

describe("DNS", requirementsOptions(["vsftpd", "root"]), () => {
  let dns: DnsServer;
  let v4: RunningServer;
  const extra: RunningServer[] = [];
  const sockets: dgram.Socket[] = [];
  const resolver = () => `127.0.0.1:${dns.port}`;
  const at = (name: string) => `${name}.${ZONE}:${v4.port}`;

  before(async () => {
    // vsftpd listens on 127.0.0.1 only.
    v4 = await startVsftpd({ listenAddress: "127.0.0.1" });
    dns = await startDnsServer({
      [`v4only.${ZONE}`]: { A: ["127.0.0.1"] },
      [`two-a.${ZONE}`]: { A: ["127.0.0.1", "127.0.0.2"] },
      [`dual.${ZONE}`]: { A: ["127.0.0.1"], AAAA: ["::1"] },
      [`v6only.${ZONE}`]: { AAAA: ["::1"] },
      [`empty.${ZONE}`]: {},
    });
  });
  after(async () => {
    for (const s of sockets) s.close();
    await Promise.allSettled([v4?.stop(), dns?.stop(), ...extra.map((s) => s.stop())]);
  });

  test("unknown name → DNS_NXDOMAIN", async () => {
    const r = await check(at("nope"), { tls: "off", resolver: resolver() });
    expectVerdict("NXDOMAIN", "vsftpd", r, "DNS_NXDOMAIN");
    assert.equal(r.observations.dns?.status, "nxdomain");
    assert.ok(
      dns.queries.some((q) => q.name === `nope.${ZONE}`),
      "the check asked our resolver",
    );
    assert.equal(r.observations.connects.length, 0, "nothing past DNS was tried");
  });

  test("known name with neither A nor AAAA → DNS_NO_ADDRESS", async () => {
    const r = await check(at("empty"), { tls: "off", resolver: resolver() });
    expectVerdict("name without addresses", "vsftpd", r, "DNS_NO_ADDRESS");
    assert.equal(r.observations.connects.length, 0);
  });

  test("A record only, server healthy → HEALTHY with NO_IPV6", async () => {
    const r = await check(at("v4only"), { tls: "off", resolver: resolver() });
    expectVerdict("A only (no AAAA)", "vsftpd", r, "HEALTHY", { findings: ["ANON_ENABLED", "NO_IPV6"] });
    assert.ok(
      dns.queries.some((q) => q.name === `v4only.${ZONE}` && q.type === "AAAA"),
      "AAAA was asked for",
    );
  });

  test("A 127.0.0.1 + 127.0.0.2, server only on .1 → DNS_PARTIAL", async () => {
    const r = await check(at("two-a"), { tls: "off", resolver: resolver() });
    expectVerdict("one of two A records refuses", "vsftpd", r, "DNS_PARTIAL");
    const by = Object.fromEntries(r.observations.connects.map((c) => [c.address, c.status]));
    assert.deepEqual(by, { "127.0.0.1": "ok", "127.0.0.2": "refused" });
    // The session on the working address is otherwise healthy: DNS_PARTIAL is the only fault.
    assert.equal(r.observations.peer?.address, "127.0.0.1");
    assert.equal(r.observations.data?.status, "ok");
    assert.deepEqual(r.report.secondary, []);
    assert.match(r.report.verdict.evidence.join("\n"), /127\.0\.0\.2:\d+: refused/);
  });

  test("A 127.0.0.1 + AAAA ::1, server on IPv4 only → DNS_PARTIAL (listen_ipv6)", async () => {
    const r = await check(at("dual"), { tls: "off", resolver: resolver() });
    expectVerdict("AAAA ::1 refuses (IPv4-only server)", "vsftpd", r, "DNS_PARTIAL");
    const by = Object.fromEntries(r.observations.connects.map((c) => [c.address, c.status]));
    assert.deepEqual(by, { "127.0.0.1": "ok", "::1": "refused" });
    assert.ok(!r.report.findings.some((f) => f.code === "NO_IPV6"), "the name has an AAAA");
  });

  test("A 127.0.0.1 + AAAA ::1, vsftpd on both → HEALTHY", async () => {
    const s6 = await startVsftpd({ listenAddress: "::1", port: v4.port });
    extra.push(s6);
    try {
      const r = await check(at("dual"), { tls: "off", resolver: resolver() });
      expectVerdict("A + AAAA, both listening", "vsftpd", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
      assert.deepEqual(
        r.observations.connects.map((c) => c.status),
        ["ok", "ok"],
      );
      assert.ok(!r.report.findings.some((f) => f.code === "NO_IPV6"));
    } finally {
      extra.splice(extra.indexOf(s6), 1);
      await s6.stop();
    }
  });

  test("AAAA ::1 only, server on IPv4 only → TCP_REFUSED", async () => {
    const r = await check(at("v6only"), { tls: "off", resolver: resolver() });
    expectVerdict("AAAA only, nothing listens on it", "vsftpd", r, "TCP_REFUSED");
    assert.deepEqual(
      r.observations.connects.map((c) => [c.address, c.status]),
      [["::1", "refused"]],
    );
  });

  test("resolver port closed → DNS_TIMEOUT at once", async () => {
    const port = await freePort("127.0.0.1");
    const r = await check(at("v4only"), { tls: "off", resolver: `127.0.0.1:${port}` });
    expectVerdict("resolver port closed", "vsftpd", r, "DNS_TIMEOUT");
    assert.ok(r.wallMs < LIMITS.dnsTimeoutMs + 1000, `took ${Math.round(r.wallMs)} ms`);
  });

  test("resolver that never answers → DNS_TIMEOUT within the DNS deadline and the budget", async () => {
    const mute = dgram.createSocket("udp4");
    sockets.push(mute);
    let seen = 0;
    mute.on("message", () => seen++); // read and ignore
    await new Promise<void>((r) => mute.bind(0, "127.0.0.1", () => r()));
    const port = mute.address().port;
    const r = await check(at("v4only"), { tls: "off", resolver: `127.0.0.1:${port}` });
    expectVerdict("resolver never answers", "vsftpd", r, "DNS_TIMEOUT");
    assert.ok(seen > 0, "the queries reached the mute resolver");
    assert.ok(r.wallMs < LIMITS.dnsTimeoutMs + 300, `took ${Math.round(r.wallMs)} ms`);
    assert.match(r.report.verdict.evidence.join("\n"), /TIMEOUT/);

    // c-ares rounds its own timeout up to whole seconds (1350 ms → 2 s): the budget must still hold.
    for (const budget of [1000, 1500]) {
      const short = await check(at("v4only"), { tls: "off", resolver: `127.0.0.1:${port}`, timeout: budget });
      expectVerdict(`resolver never answers, ${budget} ms budget`, "vsftpd", short, "DNS_TIMEOUT");
      assert.equal(short.observations.dns?.status, "timeout");
      assert.ok(short.wallMs <= budget + 300, `${budget} ms budget: took ${Math.round(short.wallMs)} ms`);
    }
  });
});
