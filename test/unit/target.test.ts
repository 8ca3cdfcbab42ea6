import { test } from "node:test";
import assert from "node:assert/strict";
import { parseTarget, TargetParseError, mask } from "../../src/target/parse.js";

test("plain host gets port 21", () => {
  const t = parseTarget("ftp.example.com");
  assert.equal(t.host, "ftp.example.com");
  assert.equal(t.port, 21);
  assert.equal(t.schemeTls, undefined);
});

test("host:port, [v6]:port and bare IPv6", () => {
  assert.deepEqual([parseTarget("ftp.example.com:2121").port, parseTarget("ftp.example.com:2121").host], [2121, "ftp.example.com"]);
  const v6 = parseTarget("[2001:db8::1]:990");
  assert.equal(v6.host, "2001:db8::1");
  assert.equal(v6.port, 990);
  assert.equal(parseTarget("::1").host, "::1");
  assert.equal(parseTarget("::1").port, 21);
});

test("URLs: ftp, ftps (implicit, 990), ftpes (explicit), user and path", () => {
  const u = parseTarget("ftp://alice@files.example.org:2121/pub/x");
  assert.equal(u.user, "alice");
  assert.equal(u.port, 2121);
  assert.equal(u.path, "/pub/x");
  assert.equal(u.urlHadPassword, false);
  const s = parseTarget("ftps://files.example.org");
  assert.equal(s.schemeTls, "implicit");
  assert.equal(s.port, 990);
  assert.equal(parseTarget("ftpes://files.example.org").schemeTls, "explicit");
  assert.equal(parseTarget("FTP://Files.Example.ORG.").host, "files.example.org");
});

test("a password in the URL is detected and masked, never kept", () => {
  const t = parseTarget("ftp://bob:s3cret@host.example");
  assert.equal(t.urlHadPassword, true);
  assert.equal(t.user, "bob");
  assert.ok(!JSON.stringify(t).includes("s3cret"));
  assert.equal(mask("ftp://bob:s3cret@host"), "ftp://bob:****@host");
});

test("Slack link markup is unwrapped", () => {
  assert.equal(parseTarget("<ftp://ftp.example.com|ftp.example.com>").host, "ftp.example.com");
});

test("bad input gets a clear message, never a crash", () => {
  const bad: [string, RegExp][] = [
    ["", /no target/],
    ["sftp://host", /SSH file transfer/],
    ["http://host", /unsupported scheme/],
    ["host:99999", /out of range/],
    ["host:abc", /not a number/],
    ["ho st", /spaces/],
    ["-bad-.example", /not a valid host/],
    ["[::1", /unclosed/],
    ["[zz::1]:21", /not an IPv6/],
    ["host/path", /paths need a URL/],
    ["a".repeat(3000), /too long/],
  ];
  for (const [input, re] of bad) {
    assert.throws(
      () => parseTarget(input),
      (e: unknown) => e instanceof TargetParseError && re.test((e as Error).message),
      input,
    );
  }
});
