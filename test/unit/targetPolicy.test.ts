import assert from "node:assert/strict";
import { test } from "node:test";
import { parseConfig } from "../../src/config/file.js";
import { classifyAddress, type Requester, TargetPolicy } from "../../src/policy/targetPolicy.js";

const config = parseConfig({
  targets: { allow: ["ftp.example.com", "*.corp.example", "10.20.0.0/16", "127.0.0.0/8", "2001:db8:aa::/48", "198.51.100.7"] },
  zones: [{ name: "dmz", targets: ["*.corp.example"] }, { name: "office" }],
  profiles: {
    open: { user: "a", passwordEnv: "P_OPEN" },
    corp: { user: "b", passwordEnv: "P_CORP", targets: ["*.corp.example"], slackUsers: ["UOPS"], slackChannels: ["COPS"] },
    plain: { user: "c", passwordEnv: "P_PLAIN", tls: "off" },
    explicit: { user: "d", passwordEnv: "P_EXP", tls: "explicit" },
  },
  slack: { allowedChannels: ["COPS", "CGEN"], allowedUsers: ["UOPS", "UDEV"] },
});
const policy = new TargetPolicy(config);
const ops: Requester = { front: "slack", user: "UOPS", channel: "COPS" };
const dev: Requester = { front: "slack", user: "UDEV", channel: "CGEN" };

test("requests: who, what, zone and profile, as a table", () => {
  const rows: [string, Parameters<TargetPolicy["request"]>[0], string, string?][] = [
    ["allowed name", { who: ops, host: "ftp.example.com" }, "allow-pattern", "dmz"],
    ["name case and trailing dot", { who: ops, host: "FTP.Example.COM." }, "allow-pattern", "dmz"],
    ["wildcard routes to its zone", { who: dev, host: "a.corp.example" }, "allow-pattern", "dmz"],
    ["wildcard does not cover the apex", { who: dev, host: "corp.example" }, "target-not-allowed"],
    ["suffix trick", { who: dev, host: "evilcorp.example" }, "target-not-allowed"],
    ["name not listed", { who: ops, host: "ftp.other.com" }, "target-not-allowed"],
    ["IP literal in a CIDR", { who: ops, host: "10.20.3.4" }, "allow-cidr", "dmz"],
    ["IP literal outside", { who: ops, host: "10.21.3.4" }, "target-not-allowed"],
    ["exact IP", { who: ops, host: "198.51.100.7" }, "allow-cidr"],
    ["bracketed IPv6 in a CIDR", { who: ops, host: "[2001:db8:aa::5]" }, "allow-cidr"],
    ["IPv6 outside", { who: ops, host: "2001:db8:ab::5" }, "target-not-allowed"],
    ["an IP never matches a host pattern", { who: ops, host: "8.8.8.8" }, "target-not-allowed"],
    ["user not allowed", { who: { front: "slack", user: "UEVIL", channel: "COPS" }, host: "ftp.example.com" }, "user-not-allowed"],
    ["channel not allowed", { who: { front: "slack", user: "UOPS", channel: "CX" }, host: "ftp.example.com" }, "channel-not-allowed"],
    ["unknown zone", { who: ops, host: "ftp.example.com", zone: "lab" }, "unknown-zone"],
    ["explicit zone", { who: ops, host: "ftp.example.com", zone: "office" }, "allow-pattern", "office"],
    ["unknown profile", { who: ops, host: "ftp.example.com", profile: "nope" }, "unknown-profile"],
    ["prototype key is no profile", { who: ops, host: "ftp.example.com", profile: "constructor" }, "unknown-profile"],
    ["open profile", { who: dev, host: "ftp.example.com", profile: "open" }, "allow-pattern"],
    ["limited profile, right user/channel/target", { who: ops, host: "x.corp.example", profile: "corp" }, "allow-pattern"],
    ["limited profile, wrong target", { who: ops, host: "ftp.example.com", profile: "corp" }, "profile-target"],
    [
      "limited profile, wrong user",
      { who: { front: "slack", user: "UDEV", channel: "COPS" }, host: "x.corp.example", profile: "corp" },
      "profile-user",
    ],
    [
      "limited profile, wrong channel",
      { who: { front: "slack", user: "UOPS", channel: "CGEN" }, host: "x.corp.example", profile: "corp" },
      "profile-channel",
    ],
    ["webhook cannot use a user-limited profile", { who: { front: "webhook" }, host: "x.corp.example", profile: "corp" }, "profile-user"],
    ["webhook, open profile", { who: { front: "webhook" }, host: "ftp.example.com", profile: "open" }, "allow-pattern"],
    ["worker: profile target limit holds", { who: { front: "worker" }, host: "ftp.example.com", profile: "corp" }, "profile-target"],
    [
      "worker cannot know who: user limits not applied",
      { who: { front: "worker" }, host: "x.corp.example", profile: "corp" },
      "allow-pattern",
    ],
    ["non-Slack fronts ignore slack.allowedUsers", { who: { front: "cli" }, host: "ftp.example.com" }, "allow-pattern"],
    ["non-Slack fronts still need the allow-list", { who: { front: "exporter" }, host: "ftp.other.com" }, "target-not-allowed"],
  ];
  for (const [name, req, rule, zone] of rows) {
    const d = policy.request(req);
    assert.equal(d.rule, rule, name);
    assert.equal(d.permitted, rule.startsWith("allow"), name);
    if (d.permitted && zone) assert.equal(d.zone, zone, name);
    if (!d.permitted) assert.ok(d.message.length > 10, `${name}: a message the user can act on`);
  }
});

test("resolved addresses, as a table (issue 10 item 3)", () => {
  const rows: [string, string, boolean, string][] = [
    ["93.184.216.34", "ftp.example.com", true, "public"],
    ["2606:2800:220:1::1", "ftp.example.com", true, "public"],
    ["127.0.0.1", "ftp.example.com", true, "allow-cidr"], // 127.0.0.0/8 is in targets.allow: the operator's choice
    ["::1", "ftp.example.com", false, "loopback"],
    ["::ffff:127.0.0.1", "ftp.example.com", true, "allow-cidr"],
    ["169.254.169.254", "ftp.example.com", false, "link-local"],
    ["fe80::1", "ftp.example.com", false, "link-local"],
    ["febf::1", "ftp.example.com", false, "link-local"],
    ["0.0.0.0", "ftp.example.com", false, "unspecified"],
    ["::", "ftp.example.com", false, "unspecified"],
    ["224.0.0.1", "ftp.example.com", false, "multicast"],
    ["ff02::1", "ftp.example.com", false, "multicast"],
    ["255.255.255.255", "ftp.example.com", false, "reserved"],
    ["10.0.0.5", "ftp.example.com", false, "private"],
    ["10.20.0.5", "ftp.example.com", true, "allow-cidr"],
    ["172.16.9.9", "ftp.example.com", false, "private"],
    ["192.168.1.1", "ftp.example.com", false, "private"],
    ["100.64.1.1", "ftp.example.com", false, "private"],
    ["fd00:ec2::254", "ftp.example.com", false, "private"],
    ["::ffff:10.0.0.1", "ftp.example.com", false, "private"],
    ["::ffff:169.254.169.254", "ftp.example.com", false, "link-local"],
    ["64:ff9b::a9fe:a9fe", "ftp.example.com", false, "link-local"], // NAT64 of 169.254.169.254
    ["64:ff9b::10.0.0.1", "ftp.example.com", false, "private"],
    ["::127.0.0.1", "ftp.example.com", false, "reserved"],
    ["2001:db8:aa::9", "ftp.example.com", true, "allow-cidr"],
    ["not-an-ip", "ftp.example.com", false, "not-an-address"],
  ];
  for (const [address, name, permitted, rule] of rows) {
    const d = policy.address(address, name);
    assert.deepEqual(d, { permitted, rule }, address);
  }
});

test("loopback is refused without a CIDR, even for a name on the allow-list", () => {
  const strict = new TargetPolicy(parseConfig({ targets: { allow: ["localhost", "ftp.example.com"] } }));
  assert.equal(strict.request({ who: { front: "cli" }, host: "localhost" }).permitted, true);
  assert.deepEqual(strict.address("127.0.0.1", "localhost"), { permitted: false, rule: "loopback" });
  assert.deepEqual(strict.address("127.0.0.1", "ftp.example.com"), { permitted: false, rule: "loopback" });
});

test("differing PASV/EPSV addresses: only a permitted target in its own right (item 4)", () => {
  const rows: [string, boolean][] = [
    ["10.20.9.9", true], // in a CIDR of targets.allow
    ["198.51.100.7", true],
    ["198.51.100.8", false], // the /24 neighbour of an allowed address
    ["93.184.216.35", false], // public, but not an allowed target
    ["127.0.0.5", true],
    ["10.0.0.5", false],
  ];
  for (const [address, permitted] of rows) assert.equal(policy.dataHost(address).permitted, permitted, address);
});

test("probe hooks: the password needs TLS unless the profile says tls: off (item 5)", () => {
  assert.equal(policy.probePolicy("open").passwordRequiresTls, true);
  assert.equal(policy.probePolicy("explicit").passwordRequiresTls, true);
  assert.equal(policy.probePolicy("plain").passwordRequiresTls, false);
  assert.equal(policy.probePolicy(undefined).passwordRequiresTls, false);
  assert.equal(policy.probePolicy("open").address("169.254.169.254", "ftp.example.com").permitted, false);
  assert.equal(policy.probePolicy("open").dataHost("10.20.1.1").permitted, true);
});

test("address classes", () => {
  assert.equal(classifyAddress("8.8.8.8"), "public");
  assert.equal(classifyAddress("[::1]"), "loopback");
  assert.equal(classifyAddress("300.1.1.1"), undefined);
});

test("an empty configuration permits nothing", () => {
  const none = new TargetPolicy(parseConfig({}));
  assert.equal(none.request({ who: { front: "worker" }, host: "ftp.example.com" }).permitted, false);
  assert.equal(none.request({ who: { front: "worker" }, host: "127.0.0.1" }).permitted, false);
  assert.equal(none.address("127.0.0.1", "x").permitted, false);
});
