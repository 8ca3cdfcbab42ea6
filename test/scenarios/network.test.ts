/**
 * Network faults on a real IP path: vsftpd in a network namespace (198.18.X.2) behind iptables
 * rules inside the namespace or on the host side of its veth. Each test asserts the exact verdict.
 * Traffic stays on 127.0.0.0/8 and our own veth pairs (198.18.0.0/15).
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startVsftpd, type RunningServer, type VsftpdOptions } from "../harness/daemons.js";
import { certFixtures, makeLeaf, tlsOf } from "../harness/certs.js";
import { createNetns, type Netns } from "../harness/netns.js";
import { startDnsServer } from "../harness/dns.js";
import { freePort, requirementsOptions, runCommand } from "../harness/env.js";
import { LIMITS } from "../../src/config/defaults.js";
import { FTPSRV_USER, startFtpSrv } from "../harness/ftpsrv.js";
import { PYFTPDLIB_USER, startPyftpdlib } from "../harness/pyftpdlib.js";
import { startTwistedFtpd } from "../harness/twisted.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const namespaces: Netns[] = [];
const running: RunningServer[] = [];
after(async () => {
  await Promise.allSettled(running.splice(0).map((s) => s.stop()));
  await Promise.allSettled(namespaces.splice(0).map((n) => n.destroy()));
});

/** A fresh namespace with vsftpd on its address; both torn down by `done()` (and by `after`). */
function vsftpdInNetns(opts: VsftpdOptions = {}): Promise<{ ns: Netns; s: RunningServer; target: string; done: () => Promise<void> }> {
  return serverInNetns((where) => startVsftpd({ ...opts, ...where }));
}

/** A fresh namespace with the server `start` starts on its address; both torn down by `done()` (and by `after`). */
async function serverInNetns(
  start: (where: { netns: string; listenAddress: string }) => Promise<RunningServer>,
): Promise<{ ns: Netns; s: RunningServer; target: string; done: () => Promise<void> }> {
  const ns = await createNetns();
  namespaces.push(ns);
  const s = await start({ netns: ns.name, listenAddress: ns.nsAddress });
  running.push(s);
  const done = async (): Promise<void> => {
    running.splice(running.indexOf(s), 1);
    namespaces.splice(namespaces.indexOf(ns), 1);
    try {
      await s.stop();
    } finally {
      await ns.destroy();
    }
  };
  return { ns, s, target: `${ns.nsAddress}:${s.port}`, done };
}

/** Packet count of the root-namespace rules in `chain` carrying our namespace's comment tag. */
async function hostRulePackets(ns: Netns, chain: string, table = "filter"): Promise<number> {
  const r = await runCommand("iptables", ["-t", table, "-L", chain, "-v", "-n", "-x"], { timeoutMs: 10_000 });
  assert.equal(r.code, 0, r.stderr);
  let total = 0;
  for (const line of r.stdout.split("\n")) if (line.includes(`/* ${ns.name} */`)) total += Number(line.trim().split(/\s+/)[0]);
  return total;
}

const range = (s: RunningServer) => `${s.pasvRange[0]}:${s.pasvRange[1]}`;

describe("network (namespaces)", requirementsOptions(["vsftpd", "ip", "iptables", "root"]), () => {
  const certs = certFixtures();

  test("baseline: vsftpd in a namespace, nothing in the way → HEALTHY", async () => {
    const { target, done } = await vsftpdInNetns();
    try {
      const r = await check(target, { tls: "off" });
      expectVerdict("namespace baseline", "vsftpd", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    } finally {
      await done();
    }
  });

  test("SYN dropped (iptables DROP on the control port) → TCP_TIMEOUT within the budget", async () => {
    const { ns, s, target, done } = await vsftpdInNetns();
    try {
      await ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", String(s.port), "-j", "DROP"]);
      const r = await check(target, { tls: "off" });
      expectVerdict("SYN dropped", "vsftpd", r, "TCP_TIMEOUT");
      assert.equal(r.observations.connects[0]?.status, "timeout");
      // Our own connect deadline decides, not the OS's 21 s to 2 min.
      assert.ok(
        r.observations.connects[0]!.durationMs < LIMITS.connectTimeoutMs + 500,
        `connect gave up after ${r.observations.connects[0]!.durationMs} ms`,
      );
      assert.ok(r.wallMs < LIMITS.connectTimeoutMs + LIMITS.sideProbeMs + 1500, `took ${Math.round(r.wallMs)} ms`);

      const short = await check(target, { tls: "off", timeout: 2000 });
      expectVerdict("SYN dropped, 2 s budget", "vsftpd", short, "TCP_TIMEOUT");
      assert.ok(short.wallMs <= 2000 + 300, `2 s budget: took ${Math.round(short.wallMs)} ms`);
    } finally {
      await done();
    }
  });

  test("ICMP host-unreachable (REJECT) → TCP_UNREACHABLE", async () => {
    const { ns, s, target, done } = await vsftpdInNetns();
    try {
      await ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", String(s.port), "-j", "REJECT", "--reject-with", "icmp-host-unreachable"]);
      const r = await check(target, { tls: "off" });
      expectVerdict("ICMP host unreachable", "vsftpd", r, "TCP_UNREACHABLE");
      assert.equal(r.observations.connects[0]?.error?.code, "EHOSTUNREACH");
      assert.ok(r.observations.connects[0]!.durationMs < 1000, "an ICMP answer is fast");
    } finally {
      await done();
    }
  });

  test("closed port on the namespace address and on loopback → TCP_REFUSED", async () => {
    const ns = await createNetns();
    namespaces.push(ns);
    try {
      const r = await check(`${ns.nsAddress}:2121`, { tls: "off" });
      expectVerdict("closed port (namespace)", "none", r, "TCP_REFUSED");
      assert.equal(r.observations.connects[0]?.error?.code, "ECONNREFUSED");
      assert.ok(r.observations.connects[0]!.durationMs < 1000, "a reset is immediate");

      const port = await freePort("127.0.0.1");
      const l = await check(`127.0.0.1:${port}`, { tls: "off" });
      expectVerdict("closed port (loopback)", "none", l, "TCP_REFUSED");
    } finally {
      namespaces.splice(namespaces.indexOf(ns), 1);
      await ns.destroy();
    }
  });

  test("two A records, one behind a DROP rule → DNS_PARTIAL (timeout), session otherwise healthy", async () => {
    const { ns, s, done } = await vsftpdInNetns();
    const dns = await startDnsServer({});
    try {
      const dead = ns.nsAddress.replace(/\.2$/, ".3");
      await ns.addNsAddress(dead);
      await ns.iptables(["-A", "INPUT", "-p", "tcp", "-d", dead, "--dport", String(s.port), "-j", "DROP"]);
      dns.set("ftp.partial.test", { A: [dead, ns.nsAddress] });
      const r = await check(`ftp.partial.test:${s.port}`, { tls: "off", resolver: `127.0.0.1:${dns.port}` });
      expectVerdict("one of two A records dropped", "vsftpd", r, "DNS_PARTIAL", { findings: ["NO_IPV6"] });
      const by = Object.fromEntries(r.observations.connects.map((c) => [c.address, c.status]));
      assert.deepEqual(by, { [dead]: "timeout", [ns.nsAddress]: "ok" });
      assert.equal(r.observations.data?.status, "ok");
      assert.deepEqual(r.report.secondary, []);
      assert.ok(r.wallMs < LIMITS.connectTimeoutMs + 1000, `took ${Math.round(r.wallMs)} ms`);
    } finally {
      await dns.stop();
      await done();
    }
  });

  for (const [how, rule, word, status] of [
    ["DROP", ["-j", "DROP"], /time out/, "timeout"],
    ["REJECT tcp-reset", ["-j", "REJECT", "--reject-with", "tcp-reset"], /refused/, "refused"],
  ] as const) {
    test(`passive range blocked (${how}) → PASV_PORTS_BLOCKED`, async () => {
      const { ns, s, target, done } = await vsftpdInNetns();
      try {
        await ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", range(s), ...rule]);
        const r = await check(target, { tls: "off" });
        expectVerdict(`passive ports blocked (${how})`, "vsftpd", r, "PASV_PORTS_BLOCKED");
        assert.match(r.report.verdict.explanation, word);
        if (status === "timeout") assert.doesNotMatch(r.report.verdict.explanation, /refused/);
        const passive = r.observations.data!.passive;
        assert.ok(passive.length >= 1 && passive.every((p) => p.connect?.status === status), JSON.stringify(passive));
        // Decided at the data-connect deadline (per passive attempt: EPSV, then PASV), not at the budget.
        const dataDeadline = LIMITS.dataConnectMinMs + 300;
        for (const p of passive)
          assert.ok(
            p.connect!.durationMs <= (status === "timeout" ? dataDeadline : 500),
            `${p.command} connect took ${p.connect!.durationMs} ms`,
          );
        assert.ok(r.wallMs < passive.length * dataDeadline + 2000, `took ${Math.round(r.wallMs)} ms, far from the 15 s budget`);
      } finally {
        await done();
      }
    });
  }

  test("pasv_address=10.99.88.77 reached at 198.18.X.2 → PASV_ADDRESS_PRIVATE, never connected to", async () => {
    const { ns, target, done } = await vsftpdInNetns({ extra: { pasv_address: "10.99.88.77" } });
    try {
      // Counts (and stops) any packet to the advertised address. Unscoped because that is the point:
      // it matches only 10.99.88.77/32, which is not ours, so nothing may ever be sent there.
      await ns.hostIptables(["-I", "OUTPUT", "1", "-d", "10.99.88.77/32", "-j", "DROP"], { unscoped: true });
      const r = await check(target, { tls: "off" });
      expectVerdict("PASV advertises a private address (namespace)", "vsftpd", r, "PASV_ADDRESS_PRIVATE");
      const pa = r.observations.data?.pasvAddress;
      assert.equal(pa?.advertised, "10.99.88.77");
      assert.equal(pa?.controlPeer, ns.nsAddress);
      assert.equal(pa?.peerPrivate, false, "198.18.0.0/15 is not a private range for the classification");
      assert.ok(!r.observations.data!.passive.some((p) => p.connectedHost === "10.99.88.77"), JSON.stringify(r.observations.data!.passive));
      // EPSV carries no address: the listing itself worked on the control peer.
      assert.equal(r.observations.data?.status, "ok");
      assert.equal(await hostRulePackets(ns, "OUTPUT"), 0, "no packet was sent to 10.99.88.77");
    } finally {
      await done();
    }
  });

  test("data connection from another source IP (host SNAT) → DATA_FOREIGN_IP", async () => {
    const { ns, s, target, done } = await vsftpdInNetns();
    try {
      const second = ns.hostAddress.replace(/\.1$/, ".3");
      await ns.addHostAddress(second);
      await ns.hostIptables([
        "-t",
        "nat",
        "-A",
        "POSTROUTING",
        "-p",
        "tcp",
        "-d",
        ns.nsAddress,
        "--dport",
        range(s),
        "-j",
        "SNAT",
        "--to-source",
        second,
      ]);
      const r = await check(target, { tls: "off" });
      expectVerdict("data from a foreign IP (SNAT)", "vsftpd", r, "DATA_FOREIGN_IP");
      assert.match(r.observations.data?.listReply?.text ?? "", /^425 Security: Bad IP connecting/);
      assert.ok((await hostRulePackets(ns, "POSTROUTING", "nat")) > 0, "the SNAT rule was used");
    } finally {
      await done();
    }
  });

  test("large packets from the server vanish (MTU black hole) → TLS_HANDSHAKE_STALL", async () => {
    const { ns, s, target, done } = await vsftpdInNetns({ tls: tlsOf(certs.valid) });
    try {
      // 220 / 234 / FEAT are small and pass; the certificate flight is not.
      await ns.iptables(["-A", "OUTPUT", "-p", "tcp", "--sport", String(s.port), "-m", "length", "--length", "600:65535", "-j", "DROP"]);
      const r = await check(target, { tls: "explicit" });
      expectVerdict("TLS stall (packets > 600 bytes dropped)", "vsftpd", r, "TLS_HANDSHAKE_STALL");
      assert.equal(r.observations.tls?.authReply?.code, 234);
      assert.equal(r.observations.tls?.status, "stall");
      assert.equal(r.observations.tls?.plainCheck?.status, "ok", JSON.stringify(r.observations.tls?.plainCheck));
      assert.match(r.report.verdict.explanation, /plain FTP on another connection works/);
      assert.ok(
        r.report.verdict.evidence.some((e) => /plain FTP on a second connection: plain session: "?220/.test(e)),
        r.report.verdict.evidence.join("\n"),
      );
    } finally {
      await done();
    }
  });

  test("real MTU black hole: 1000-byte link, 1460-byte MSS advertised, no ICMP → TLS_HANDSHAKE_STALL", async () => {
    const { ns, target, done } = await vsftpdInNetns({ tls: tlsOf(certs.valid) });
    const ip = async (...args: string[]): Promise<void> => {
      const r = await runCommand("ip", args, { timeoutMs: 10_000 });
      assert.equal(r.code, 0, `ip ${args.join(" ")}: ${r.stderr}`);
    };
    try {
      // The client's link (host end of our veth) carries 1000-byte packets at most, yet the
      // client advertises MSS 1460 (as behind a broken MSS clamp), and nothing sends ICMP
      // "fragmentation needed": the veth drops oversized frames silently. GSO off on the server
      // side, or the veth forwards its super-packets regardless of the MTU. All of it goes with the veth.
      await ip("link", "set", ns.hostInterface, "mtu", "1000");
      await ip(
        "route",
        "replace",
        `${ns.hostAddress.replace(/\.1$/, ".0")}/24`,
        "dev",
        ns.hostInterface,
        "proto",
        "kernel",
        "scope",
        "link",
        "src",
        ns.hostAddress,
        "advmss",
        "1460",
      );
      await ip("-n", ns.name, "link", "set", ns.nsInterface, "gso_max_segs", "1");
      const dropsBefore = Number(readFileSync(`/sys/class/net/${ns.hostInterface}/statistics/rx_dropped`, "utf8"));
      const r = await check(target, { tls: "explicit" });
      expectVerdict("TLS stall (real MTU black hole)", "vsftpd", r, "TLS_HANDSHAKE_STALL");
      assert.equal(r.observations.tls?.authReply?.code, 234);
      assert.equal(r.observations.tls?.plainCheck?.status, "ok", JSON.stringify(r.observations.tls?.plainCheck));
      const drops = Number(readFileSync(`/sys/class/net/${ns.hostInterface}/statistics/rx_dropped`, "utf8")) - dropsBefore;
      assert.ok(drops > 0, "oversized frames were dropped on the 1000-byte link");
    } finally {
      await done();
    }
  });
});

describe("network (namespaces): the other server software", requirementsOptions(["python3", "ip", "iptables", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  // A certificate for the namespace's address, so that TLS is not what the check finds.
  const tls = (address: string) => tlsOf(makeLeaf(certs.intermediate, { cn: "localhost", sans: [address] }));
  // Their quirks differ (ftp-srv answers concurrently, pyftpdlib and Twisted are single-process
  // Python, Twisted has no EPSV); a passive range that drops packets must read the same.
  const servers = [
    {
      daemon: "ftp-srv",
      start: (w: { netns: string; listenAddress: string }) => startFtpSrv({ ...w, tls: tls(w.listenAddress) }),
      options: { tls: "explicit", ca, user: FTPSRV_USER.user },
      password: FTPSRV_USER.password,
    },
    {
      daemon: "pyftpdlib",
      start: (w: { netns: string; listenAddress: string }) => startPyftpdlib({ ...w, tls: tls(w.listenAddress) }),
      options: { tls: "explicit", ca, user: PYFTPDLIB_USER.user },
      password: PYFTPDLIB_USER.password,
    },
    {
      daemon: "twisted",
      start: (w: { netns: string; listenAddress: string }) => startTwistedFtpd({ ...w, anonymous: true }),
      options: { tls: "off", anonymous: true },
      password: undefined,
    },
  ];
  for (const srv of servers)
    test(`${srv.daemon}: passive range blocked (DROP) → PASV_PORTS_BLOCKED, decided at the data deadline`, async () => {
      const { ns, s, target, done } = await serverInNetns(srv.start);
      try {
        await ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", range(s), "-j", "DROP"]);
        const r = await check(target, srv.options, srv.password);
        expectVerdict("passive ports blocked (DROP)", srv.daemon, r, "PASV_PORTS_BLOCKED");
        // Twisted has no EPSV (502): only the commands that gave a port were connected to.
        const tried = r.observations.data!.passive.filter((p) => p.connect);
        assert.ok(tried.length >= 1 && tried.every((p) => p.connect?.status === "timeout"), JSON.stringify(tried));
        assert.ok(r.wallMs < tried.length * (LIMITS.dataConnectMinMs + 300) + 3000, `took ${Math.round(r.wallMs)} ms`);
      } finally {
        await done();
      }
    });
});
