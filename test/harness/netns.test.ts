import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import net from "node:net";
import { after, before, describe, test } from "node:test";
import { startProftpd, type RunningServer } from "./daemons.js";
import { requirementsOptions } from "./env.js";
import { ftpTranscript } from "./ftpclient.js";
import { cleanupStaleNetns, createNetns, type Netns } from "./netns.js";

const sh = (cmd: string, args: string[]): string => execFileSync(cmd, args, { encoding: "utf8" });

/** TCP connect outcome within `ms`: 'connected', 'timeout', or the error code. */
function tryConnect(host: string, port: number, ms: number, localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, localAddress });
    const done = (r: string): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done("timeout"), ms);
    s.once("connect", () => done("connected"));
    s.once("error", (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

describe("network namespace", requirementsOptions(["ip", "iptables", "proftpd", "curl", "openssl", "root"]), () => {
  let ns: Netns;
  let server: RunningServer;
  before(async () => {
    cleanupStaleNetns();
    ns = await createNetns();
    server = await startProftpd({ netns: ns.name, listenAddress: ns.nsAddress });
  });
  after(async () => {
    await server?.stop();
    await ns?.destroy();
  });

  test("layout: 198.18.X.1 on the host, 198.18.X.2 inside, lo up", async () => {
    assert.match(ns.name, /^ftpd-\d+-\d+$/);
    assert.match(ns.nsAddress, /^198\.1[89]\.\d+\.2$/);
    assert.match(sh("ip", ["-o", "addr", "show", "dev", ns.hostInterface]), new RegExp(`inet ${ns.hostAddress.replace(/\./g, "\\.")}/24`));
    const inside = await ns.exec("ip", ["-o", "addr"]);
    assert.match(inside.stdout, /lo\s+inet 127\.0\.0\.1/);
    assert.match(inside.stdout, new RegExp(`inet ${ns.nsAddress.replace(/\./g, "\\.")}/24`));
  });

  test("a daemon inside answers on the namespace address", async () => {
    const tr = await ftpTranscript(server.host, server.port, ["QUIT"]);
    assert.equal(tr[0]?.reply?.text, `220 ProFTPD Server (ftp-doctor test) [${ns.nsAddress}]`);
  });

  test("DROP inside the namespace → connect timeout; REJECT → refused", async () => {
    await ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", String(server.port), "-j", "DROP"]);
    assert.equal(await tryConnect(server.host, server.port, 700), "timeout");
    await ns.iptables(["-F", "INPUT"]);
    await ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", String(server.port), "-j", "REJECT", "--reject-with", "tcp-reset"]);
    assert.equal(await tryConnect(server.host, server.port, 2000), "ECONNREFUSED");
    await ns.iptables(["-A", "INPUT", "-p", "tcp", "--dport", "1", "-j", "REJECT", "--reject-with", "icmp-host-unreachable"]);
    assert.equal(await tryConnect(server.host, 1, 2000), "EHOSTUNREACH");
    await ns.iptables(["-F", "INPUT"]);
    assert.equal(await tryConnect(server.host, server.port, 2000), "connected");
  });

  test("addHostAddress gives the client a second source address", async () => {
    const second = ns.hostAddress.replace(/\.1$/, ".3");
    await ns.addHostAddress(second);
    await assert.rejects(ns.addHostAddress("10.1.2.3"), /198\.18\.0\.0\/15/);
    const tr = await new Promise<string>((resolve, reject) => {
      const s = net.connect({ host: server.host, port: server.port, localAddress: second });
      s.setEncoding("utf8");
      s.once("data", (d: string) => {
        s.end("QUIT\r\n");
        resolve(d);
      });
      s.once("error", reject);
      s.setTimeout(3000, () => reject(new Error("timeout")));
    });
    assert.match(tr, /^220 /);
    // The daemon saw the second address as the client.
    for (let i = 0; i < 20 && !server.log().includes(`(${second}[${second}])`); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(server.log().includes(`(${second}[${second}])`), server.log());
  });

  test("host-side rules are scoped, recorded and tagged", async () => {
    await assert.rejects(ns.hostIptables(["-A", "OUTPUT", "-p", "tcp", "--dport", "21", "-j", "DROP"]), /not scoped/);
    await ns.hostIptables([
      "-A",
      "OUTPUT",
      "-d",
      ns.nsAddress,
      "-p",
      "tcp",
      "--dport",
      String(server.port),
      "-j",
      "REJECT",
      "--reject-with",
      "tcp-reset",
    ]);
    assert.match(sh("iptables", ["-S", "OUTPUT"]), new RegExp(`--comment ${ns.name}`));
    assert.equal(await tryConnect(server.host, server.port, 2000), "ECONNREFUSED");
  });

  test("a daemon on the namespace loopback is reachable only from inside", async () => {
    const inner = await startProftpd({ netns: ns.name });
    try {
      assert.equal(inner.host, "127.0.0.1");
      const r = await ns.exec("curl", ["-sS", "--max-time", "5", `ftp://127.0.0.1:${inner.port}/`, "--user", "alice:Alice-Test-1"]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /readme\.txt/);
    } finally {
      await inner.stop();
    }
  });

  test("destroy() removes namespace, veth, host rules; cleanupStaleNetns() removes leftovers", async () => {
    const other = await createNetns();
    await other.hostIptables(["-A", "INPUT", "-s", other.nsAddress, "-j", "ACCEPT"]);
    await other.destroy();
    assert.doesNotMatch(sh("ip", ["netns", "list"]), new RegExp(`^${other.name}\\b`, "m"));
    assert.doesNotMatch(sh("ip", ["-o", "link"]), new RegExp(`${other.hostInterface}@`));
    assert.doesNotMatch(sh("iptables", ["-S"]), new RegExp(other.name));

    // A namespace left by a crashed run (creator PID long gone), with a tagged host rule.
    const stale = "ftpd-999999999-999";
    sh("ip", ["netns", "add", stale]);
    sh("iptables", ["-A", "INPUT", "-s", "198.19.255.77", "-m", "comment", "--comment", stale, "-j", "ACCEPT"]);
    const removed = cleanupStaleNetns();
    assert.ok(removed.includes(stale), `removed: ${removed.join(", ")}`);
    assert.doesNotMatch(sh("ip", ["netns", "list"]), new RegExp(stale));
    assert.doesNotMatch(sh("iptables", ["-S"]), new RegExp(stale));
    assert.match(sh("ip", ["netns", "list"]), new RegExp(ns.name), "our own live namespace is kept");
  });
});
