import assert from "node:assert/strict";
import { Resolver } from "node:dns/promises";
import { after, before, describe, test } from "node:test";
import { _internal, startDnsServer, type DnsServer } from "./dns.js";

describe("dns server", () => {
  let dns: DnsServer;
  let resolver: Resolver;
  before(async () => {
    dns = await startDnsServer({
      "ftp.example.test": { A: ["127.0.0.1", "198.18.0.2"], AAAA: ["::1", "2001:db8::21"] },
      "v4only.example.test.": { A: ["127.0.0.2"] },
      "MixedCase.Example.Test": { AAAA: ["::ffff:192.0.2.1"] },
    });
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${dns.port}`]);
  });
  after(() => dns.stop());

  test("resolve4 / resolve6 answer from the zone", async () => {
    assert.deepEqual((await resolver.resolve4("ftp.example.test")).sort(), ["127.0.0.1", "198.18.0.2"]);
    assert.deepEqual((await resolver.resolve6("ftp.example.test")).sort(), ["2001:db8::21", "::1"]);
    assert.deepEqual(await resolver.resolve4("v4only.example.test"), ["127.0.0.2"]);
    assert.deepEqual(await resolver.resolve6("mixedcase.example.test"), ["::ffff:192.0.2.1"]);
  });

  test("TTLs come back with the answer", async () => {
    const r = await resolver.resolve4("ftp.example.test", { ttl: true });
    assert.ok(r.every((x) => x.ttl === 5));
  });

  test("unknown name → NXDOMAIN (ENOTFOUND)", async () => {
    await assert.rejects(resolver.resolve4("nope.example.test"), { code: "ENOTFOUND" });
    // c-ares refuses a URL pasted as a name before any query is sent.
    await assert.rejects(resolver.resolve4("ftp://ftp.example.test"), { code: "EBADNAME" });
  });

  test("known name without that type → NOERROR, no answer (ENODATA)", async () => {
    await assert.rejects(resolver.resolve6("v4only.example.test"), { code: "ENODATA" });
    await assert.rejects(resolver.resolveMx("ftp.example.test"), { code: "ENODATA" });
  });

  test("set() changes records while running; queries are logged", async () => {
    dns.set("late.example.test", { A: ["127.0.0.9"] });
    assert.deepEqual(await resolver.resolve4("late.example.test"), ["127.0.0.9"]);
    dns.set("late.example.test", undefined);
    await assert.rejects(resolver.resolve4("late.example.test"), { code: "ENOTFOUND" });
    assert.ok(dns.queries.some((q) => q.name === "late.example.test" && q.type === "A" && q.transport === "udp"));
  });

  test("TCP transport answers too", async () => {
    const net = await import("node:net");
    const query = Buffer.from("12340100000100000000000003667470076578616d706c6504746573740000010001", "hex");
    const reply = await new Promise<Buffer>((resolve, reject) => {
      const s = net.connect(dns.port, "127.0.0.1", () => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(query.length);
        s.write(Buffer.concat([len, query]));
      });
      let buf = Buffer.alloc(0);
      s.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          s.destroy();
          resolve(buf.subarray(2));
        }
      });
      s.on("error", reject);
      s.setTimeout(2000, () => reject(new Error("tcp dns timeout")));
    });
    assert.equal(reply.readUInt16BE(0), 0x1234);
    assert.equal(reply.readUInt16BE(2) & 0xf, 0); // NOERROR
    assert.equal(reply.readUInt16BE(6), 2); // two A records
  });

  test("IPv6 text → bytes", () => {
    assert.equal(_internal.ipv6Bytes("::1").toString("hex"), "00000000000000000000000000000001");
    assert.equal(_internal.ipv6Bytes("2001:db8::21").toString("hex"), "20010db8000000000000000000000021");
    assert.equal(_internal.ipv6Bytes("::ffff:192.0.2.1").toString("hex"), "00000000000000000000ffffc0000201");
    assert.throws(() => _internal.ipv6Bytes("1.2.3.4"));
  });
});
