import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ACCESS_DENIED,
  FOREIGN_DATA_ADDRESS,
  HOME_FALLBACK,
  NO_SPACE,
  NO_SUCH_DIRECTORY,
  SERVER_FULL,
  SESSION_REUSE_REQUIRED,
  says,
  TLS_REQUIRED_FOR_DATA,
  TLS_REQUIRED_FOR_LOGIN,
  type Wording,
} from "../../src/diagnosis/wording.js";

const TABLES: Record<string, Wording[]> = {
  SERVER_FULL,
  TLS_REQUIRED_FOR_LOGIN,
  TLS_REQUIRED_FOR_DATA,
  SESSION_REUSE_REQUIRED,
  FOREIGN_DATA_ADDRESS,
  NO_SPACE,
  NO_SUCH_DIRECTORY,
  ACCESS_DENIED,
  HOME_FALLBACK,
};

/** Words that really do mean two things; the rule's context (login vs data) decides. */
const SHARED = new Set(["534 Policy requires SSL."]);

for (const [name, table] of Object.entries(TABLES)) {
  test(`wording ${name}: every daemon's example means ${name}, and nothing else`, () => {
    for (const { daemon, text } of table.flatMap((w) => w.examples)) {
      assert.ok(says(table, text), `${daemon}: "${text}" should mean ${name}`);
      if (SHARED.has(text)) continue;
      for (const [other, t] of Object.entries(TABLES))
        if (other !== name) assert.ok(!says(t, text), `${daemon}: "${text}" is ${name} but also reads as ${other}`);
    }
  });
}

test("wording: a full server in every daemon's words, per IP and global", () => {
  for (const text of [
    "421 1 users (the maximum) are already logged in, sorry",
    "421 Too many users right now, try again in a few minutes.",
    "421 Too many connections (3) from this IP",
    "421 There are too many connections from your internet address.",
    "421 Too many connections from the same IP address.",
    "421 Too many connections. Service temporarily unavailable.",
    "530 Sorry, the maximum number of clients (1) from your host are already connected.",
    "421 Server busy, try again later.",
  ])
    assert.ok(says(SERVER_FULL, text), text);
  // Access control and a closing service are not "full".
  for (const text of [
    "421 Connection refused: tcp_wrappers denial.",
    "421 Service not available, closing control connection.",
    "421 Timeout.",
    "530 Login incorrect.",
  ])
    assert.ok(!says(SERVER_FULL, text), text);
});

test("wording: TLS demanded on the data channel is not a demand on the login", () => {
  assert.ok(says(TLS_REQUIRED_FOR_DATA, "550 SSL/TLS required on the data channel."));
  assert.ok(!says(TLS_REQUIRED_FOR_LOGIN, "550 SSL/TLS required on the data channel."));
  assert.ok(!says(TLS_REQUIRED_FOR_DATA, "550 Permission denied."), "vsftpd pasv_enable=NO is a refusal, not a TLS demand");
});
