import { test } from "node:test";
import assert from "node:assert/strict";
import { addressMatches, isPrivateOrUnroutable, normalizeIp, parseEpsv, parsePasv, sameSubnet } from "../../src/probe/address.js";

test("PASV replies in the shapes servers send", () => {
  assert.deepEqual(parsePasv("227 Entering Passive Mode (10,0,0,5,156,64)."), { host: "10.0.0.5", port: 40000 });
  assert.deepEqual(parsePasv("227 Entering Passive Mode 192,168,1,2,4,1"), { host: "192.168.1.2", port: 1025 });
  assert.deepEqual(parsePasv("227 =127,0,0,1,200,10"), { host: "127.0.0.1", port: 51210 });
  assert.equal(parsePasv("227 Entering Passive Mode (300,0,0,1,1,1)"), undefined);
  assert.equal(parsePasv("227 garbage"), undefined);
  assert.equal(parsePasv("227 (1,2,3,4,0,0)"), undefined);
});

test("EPSV replies, including IBM i's ! delimiter", () => {
  assert.equal(parseEpsv("229 Entering Extended Passive Mode (|||6446|)"), 6446);
  assert.equal(parseEpsv("229 Entering Extended Passive Mode (!!!6446!)"), 6446);
  assert.equal(parseEpsv("229 Entering Extended Passive Mode (|||99999|)"), undefined);
  assert.equal(parseEpsv("229 nonsense"), undefined);
});

test("private and unroutable ranges", () => {
  for (const ip of [
    "10.1.2.3",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.0.1",
    "100.64.0.1",
    "169.254.1.1",
    "127.0.0.1",
    "0.0.0.0",
    "fd00::1",
    "fe80::1",
    "::1",
    "::ffff:10.0.0.1",
  ])
    assert.equal(isPrivateOrUnroutable(ip), true, ip);
  for (const ip of ["203.0.113.5", "172.32.0.1", "8.8.8.8", "198.18.0.2", "2001:db8::1"])
    assert.equal(isPrivateOrUnroutable(ip), false, ip);
});

test("subnets and allow-lists", () => {
  assert.equal(normalizeIp("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(sameSubnet("203.0.113.9", "203.0.113.200"), true);
  assert.equal(sameSubnet("203.0.113.9", "203.0.114.9"), false);
  assert.equal(sameSubnet("2001:db8:1:2::5", "2001:db8:1:2:ffff::1"), true);
  assert.equal(sameSubnet("2001:db8:1:3::5", "2001:db8:1:2::5"), false);
  assert.equal(addressMatches("198.51.100.7", ["198.51.100.0/24"]), true);
  assert.equal(addressMatches("198.51.101.7", ["198.51.100.0/24"]), false);
  assert.equal(addressMatches("2001:db8::7", ["2001:db8::/32"]), true);
  assert.equal(addressMatches("2001:db9::7", ["2001:db8::/32"]), false);
  assert.equal(addressMatches("192.0.2.1", ["192.0.2.1"]), true);
});
