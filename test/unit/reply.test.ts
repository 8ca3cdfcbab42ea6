import assert from "node:assert/strict";
import { test } from "node:test";
import { LIMITS } from "../../src/config/defaults.js";
import { type Incoming, parseReplies, parseReplyLine } from "../../src/probe/reply.js";

const reply = (code: number, text: string): Incoming => ({ type: "reply", reply: { code, text } });
const garbage = (text: string): Incoming => ({ type: "garbage", text });

/** Control text as servers send it → what the parser hands the engine, in order. */
const table: {
  name: string;
  text: string;
  items: Incoming[];
  pending?: string;
  rest?: string;
  pipelined?: boolean;
  interleaved?: number;
}[] = [
  { name: "one single-line reply", text: "220 ready\r\n", items: [reply(220, "220 ready")] },
  {
    name: "bare LF line ends (ftp-srv, some embedded servers)",
    text: "331 Password\n230 ok\n",
    items: [reply(331, "331 Password"), reply(230, "230 ok")],
  },
  { name: "a code alone on its line", text: "200\r\n", items: [reply(200, "200")] },
  {
    name: "multi-line greeting (vsftpd banner_file, Pure-FTPd)",
    text: "220-Welcome\r\n220-second line\r\n220 ready\r\n",
    items: [reply(220, "220-Welcome\n220-second line\n220 ready")],
  },
  {
    name: "multi-line FEAT with indented features",
    text: "211-Features:\r\n EPSV\r\n UTF8\r\n211 End\r\n",
    items: [reply(211, "211-Features:\n EPSV\n UTF8\n211 End")],
  },
  {
    name: "a continuation line that starts with digits but not the code and a space",
    text: "211-Features\r\n2110 lines\r\n211-x\r\n211 End\r\n",
    items: [reply(211, "211-Features\n2110 lines\n211-x\n211 End")],
  },
  {
    name: "pipelined replies in one segment",
    text: "211-Features:\r\n UTF8\r\n211 End\r\n331 Please specify the password.\r\n",
    items: [reply(211, "211-Features:\n UTF8\n211 End"), reply(331, "331 Please specify the password.")],
  },
  {
    // ftp-srv answers pipelined commands concurrently: USER's 331 lands inside FEAT's 211-.
    name: "interleaved: another command's reply inside a multi-line reply (ftp-srv), taken out in command order",
    text: "211-Extensions supported\r\n AUTH TLS\r\n331 Username okay, awaiting password\r\n MDTM\r\n211 End\r\n",
    pipelined: true,
    items: [reply(211, "211-Extensions supported\n AUTH TLS\n MDTM\n211 End"), reply(331, "331 Username okay, awaiting password")],
    interleaved: 1,
  },
  {
    name: "interleaved: AUTH TLS's 234 inside FEAT, then replies after it keep their order",
    text: "211-Extensions supported\r\n234 Honored\r\n UTF8\r\n211 End\r\n200 next\r\n",
    pipelined: true,
    items: [reply(211, "211-Extensions supported\n UTF8\n211 End"), reply(234, "234 Honored"), reply(200, "200 next")],
    interleaved: 1,
  },
  {
    name: "not pipelined: a digits-first line inside a multi-line banner stays text",
    text: "220-Welcome\r\n100 GB free for everyone\r\n220 ready\r\n",
    items: [reply(220, "220-Welcome\n100 GB free for everyone\n220 ready")],
  },
  {
    name: "pipelined: a line that is not a whole reply (no space, or 6xx) stays text",
    text: "211-x\r\n331-not-whole\r\n600 nope\r\n211 End\r\n",
    pipelined: true,
    items: [reply(211, "211-x\n331-not-whole\n600 nope\n211 End")],
  },
  {
    name: "a reply split before its line end stays unread",
    text: "220 rea",
    items: [],
    rest: "220 rea",
  },
  {
    name: "a multi-line reply that has not ended yet",
    text: "211-Features:\r\n EPSV\r\n",
    items: [],
    pending: "211",
  },
  { name: "blank lines are skipped", text: "\r\n\r\n220 ok\r\n", items: [reply(220, "220 ok")] },
  {
    name: "malformed: HTTP instead of FTP",
    text: "HTTP/1.1 400 Bad Request\r\n",
    items: [garbage("HTTP/1.1 400 Bad Request")],
  },
  { name: "malformed: SSH banner", text: "SSH-2.0-OpenSSH_9.6\r\n", items: [garbage("SSH-2.0-OpenSSH_9.6")] },
  { name: "malformed: two-digit code", text: "22 hello\r\n", items: [garbage("22 hello")] },
  { name: "malformed: code glued to text", text: "220hello\r\n", items: [garbage("220hello")] },
  {
    name: "control characters are neutralised",
    text: "220 evil\x1b[2Jbanner\r\n",
    items: [reply(220, "220 evil\uFFFD[2Jbanner")],
  },
];

for (const row of table) {
  test(`reply parser: ${row.name}`, () => {
    const r = parseReplies(row.text, undefined, row.pipelined);
    assert.deepEqual(r.items, row.items);
    assert.equal(r.interleaved, row.interleaved);
    assert.equal(r.pending?.code, row.pending);
    assert.equal(r.rest, row.rest ?? "");
    assert.equal(r.oversize, undefined);
  });
}

test("reply parser: a reply continues across calls (segment boundaries)", () => {
  const a = parseReplies("211-Features:\r\n EP");
  assert.deepEqual(a.items, []);
  const b = parseReplies(`${a.rest}SV\r\n211 End\r\n`, a.pending);
  assert.deepEqual(b.items, [reply(211, "211-Features:\n EPSV\n211 End")]);
});

test("reply parser: limits on lines, replies and line length", () => {
  const many = `211-x\r\n${" f\r\n".repeat(LIMITS.maxReplyLines)}211 End\r\n`;
  assert.match(parseReplies(many).oversize ?? "", /exceeded/);
  const long = `211-x\r\n${` ${"a".repeat(1000)}\r\n`.repeat(Math.ceil(LIMITS.maxReplyBytes / 1000) + 1)}`;
  assert.match(parseReplies(long).oversize ?? "", /exceeded/);
  assert.match(parseReplies(`220 ${"a".repeat(LIMITS.maxLineBytes + 1)}`).oversize ?? "", /without a line break/);
});

test("reply parser: one line at a time keeps no hidden state", () => {
  const first = parseReplyLine(undefined, "230-Welcome");
  assert.deepEqual(first.items, []);
  assert.equal(first.pending?.code, "230");
  assert.deepEqual(parseReplyLine(first.pending, "230 ok").items, [reply(230, "230-Welcome\n230 ok")]);
  // the pending state passed in is not mutated
  assert.deepEqual(first.pending?.lines, ["230-Welcome"]);
});
