/**
 * Property-based tests (fast-check) of everything that reads text a person or a server typed:
 * target parsing, slash-command text, PASV/EPSV replies. Every input gets a result or the
 * documented error class (TargetParseError / CommandTextError), nothing else is ever thrown,
 * results keep their invariants, and no input makes a parser slow (ReDoS).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatHostPort, parseTarget, TargetParseError, type Target } from "../../src/target/parse.js";
import { CommandTextError, findHostInText, parseCommandText } from "../../src/slack/commandText.js";
import { ProfileName, ZoneName } from "../../src/config/file.js";
import { parseEpsv, parsePasv } from "../../src/probe/address.js";

const RUNS = Number(process.env.FTPD_PROPERTY_RUNS ?? 2000);
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** Characters that matter to these parsers, mixed with anything at all. */
const interesting = fc.constantFrom(
  ..."ftpsFTPes:/@[]<>|%.-_0123456789 \t\n\r\u00a0\u0000\u001b\u2028\u202eaz".split(""),
  "%0d%0a",
  "%00",
  "%3a",
  "%40",
  "://",
  "ftp://",
  "ftps://",
  "ftpes://",
  "sftp://",
  "[::1]",
  "127.0.0.1",
  "localhost",
  ":21",
  ":990",
  ":65536",
  "****",
);
const anyText = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.array(interesting, { maxLength: 24 }).map((a) => a.join("")),
);

function parseOrTyped(s: string): Target | TargetParseError {
  try {
    return parseTarget(s);
  } catch (err) {
    if (err instanceof TargetParseError) return err;
    throw new Error(`parseTarget(${JSON.stringify(s)}) threw ${(err as Error)?.name}: ${(err as Error)?.message}`);
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function assertTargetInvariants(t: Target, raw: string): void {
  const why = `for ${JSON.stringify(raw)}: ${JSON.stringify(t)}`;
  assert.ok(t.host.length > 0 && !/[\s/@[\]<>|]/.test(t.host) && !CONTROL.test(t.host), `bad host ${why}`);
  assert.ok(Number.isInteger(t.port) && t.port >= 1 && t.port <= 65535, `bad port ${why}`);
  // The user name goes into `USER <name>\r\n` on the wire: a CR/LF there is command injection.
  if (t.user !== undefined) assert.ok(!CONTROL.test(t.user), `control character in user ${why}`);
  assert.ok(!CONTROL.test(t.input), `control character in input ${why}`);
  if (t.urlHadPassword) assert.match(t.input, /:\*\*\*\*@/, `password not masked ${why}`);
  // What we print as host:port reads back as the same target.
  const again = parseTarget(formatHostPort(t.host, t.port));
  assert.equal(again.host, t.host, why);
  assert.equal(again.port, t.port, why);
}

test("parseTarget: any text → a valid Target or a TargetParseError, never anything else", () => {
  fc.assert(
    fc.property(anyText, (s) => {
      const r = parseOrTyped(s);
      if (!(r instanceof TargetParseError)) assertTargetInvariants(r, s);
      else assert.ok(r.message.length > 0 && r.message.length < 400, "a short, non-empty message");
    }),
    { numRuns: RUNS },
  );
});

const hostArb = fc.oneof(
  fc.domain().map((d) => ({ typed: d, host: d.toLowerCase() })),
  fc.ipV4().map((ip) => ({ typed: ip, host: ip })),
  fc.ipV6().map((ip) => ({ typed: `[${ip}]`, host: ip })),
  fc.constantFrom({ typed: "LOCALHOST", host: "localhost" }, { typed: "ftp.example.com.", host: "ftp.example.com" }),
);
const userArb = fc.oneof(
  fc.constant(undefined),
  fc.stringMatching(/^[a-z][a-z0-9._-]{0,15}$/),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);

test("parseTarget: well-formed URLs and host:port read back exactly what was meant", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("", "ftp://", "FTP://", "ftps://", "ftpes://"),
      userArb,
      fc.option(fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent), { nil: undefined }),
      hostArb,
      fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      fc.option(fc.webPath(), { nil: undefined }),
      fc.boolean(),
      (scheme, user, password, { typed, host }, port, path, slackWrap) => {
        const url = scheme !== "";
        // Bare IPv6 with a port needs brackets; without a port, brackets are optional.
        let text = `${scheme}${
          url && user !== undefined ? `${user}${password !== undefined ? `:${password}` : ""}@` : ""
        }${typed}${port !== undefined ? `:${port}` : ""}${url && path ? path : ""}`;
        if (slackWrap) text = `<${text}|${typed}>`;
        const r = parseOrTyped(text);
        // A user name or path that decodes to control characters is refused (TargetParseError): fine.
        if (r instanceof TargetParseError) {
          const decoded = (x: string | undefined) => (x === undefined ? "" : safeDecode(x));
          assert.ok(url && CONTROL.test(decoded(user) + decoded(path)), `refused ${JSON.stringify(text)}: ${r.message}`);
          return;
        }
        assertTargetInvariants(r, text);
        assert.equal(r.host, host, text);
        const lower = scheme.toLowerCase();
        assert.equal(r.port, port ?? (lower === "ftps://" ? 990 : 21), text);
        assert.equal(r.schemeTls, lower === "ftps://" ? "implicit" : lower === "ftpes://" ? "explicit" : undefined, text);
        if (url && user !== undefined) {
          assert.equal(r.urlHadPassword, password !== undefined, text);
          if (password !== undefined) assert.ok(!r.input.includes(`:${password}@`) || password === "****", `password shown in ${r.input}`);
        }
      },
    ),
    { numRuns: RUNS },
  );
});

test("parseTarget: a user name that decodes to CR/LF (FTP command injection) is refused", () => {
  for (const t of [
    "ftp://a%0d%0aDELE%20x@host",
    "ftp://%0aUSER%20root@host:21",
    "ftpes://u%00@host",
    "ftp://x%0D%0APORT%201,2,3,4,5,6@127.0.0.1",
  ]) {
    assert.throws(() => parseTarget(t), TargetParseError, t);
  }
  assert.throws(() => parseCommandText("ftp://a%0d%0aDELE%20x@host"), CommandTextError);
});

const word = fc.oneof(
  fc.constantFrom(
    "from",
    "FROM",
    "in",
    "zone",
    "as",
    "profile",
    "write",
    "--write",
    "check",
    "help",
    "?",
    "-h",
    "dmz",
    "ops",
    "ftp.example.com",
    "127.0.0.1:21",
    "[::1]:2121",
    "<ftp://ftp.example.com|ftp.example.com>",
    "ftp://u:pw@h",
    "ftp://u@h",
    "sftp://h",
    "bad zone!",
    "a".repeat(40),
  ),
  fc.string({ minLength: 1, maxLength: 20 }),
  fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
);
const space = fc.constantFrom(" ", "  ", "\t", "\n", "\u00a0", " \u00a0 ");

test("parseCommandText: any text → help, a valid check request, or a CommandTextError", () => {
  const slashText = fc.oneof(
    anyText,
    fc.array(fc.tuple(word, space), { maxLength: 8 }).map((ws) => ws.map(([w, s]) => w + s).join("")),
    fc.string({ minLength: 490, maxLength: 520 }),
  );
  fc.assert(
    fc.property(slashText, (text) => {
      let r;
      try {
        r = parseCommandText(text);
      } catch (err) {
        assert.ok(
          err instanceof CommandTextError,
          `parseCommandText(${JSON.stringify(text)}) threw ${(err as Error)?.name}: ${(err as Error)?.message}`,
        );
        assert.ok((err as Error).message.length > 0);
        return;
      }
      if (r.kind === "help") return;
      assert.equal(r.kind, "check");
      assertTargetInvariants(r.target, text);
      assert.ok(!r.target.urlHadPassword, "a URL with a password became a check request");
      if (r.zone !== undefined) assert.ok(ZoneName.safeParse(r.zone).success, r.zone);
      if (r.profile !== undefined) assert.ok(ProfileName.safeParse(r.profile).success, r.profile);
      assert.equal(typeof r.write, "boolean");
    }),
    { numRuns: RUNS },
  );
});

test("parseCommandText: a URL with a password never becomes a check, wherever it sits", () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z]{1,8}$/),
      fc.stringMatching(/^[A-Za-z0-9!$*+]{6,12}$/).map((p) => `pw9${p}`),
      fc.constantFrom("", " from dmz", " as ops", " write"),
      (u, pw, rest) => {
        assert.throws(
          () => parseCommandText(`ftp://${u}:${pw}@ftp.example.com${rest}`),
          (e: unknown) =>
            e instanceof CommandTextError && /never paste passwords/.test((e as Error).message) && !(e as Error).message.includes(pw),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test("no parser input is slow (no catastrophic backtracking)", () => {
  const long = fc.oneof(
    fc.string({ minLength: 100, maxLength: 2100 }),
    fc.array(interesting, { minLength: 50, maxLength: 400 }).map((a) => a.join("")),
    fc
      .tuple(fc.constantFrom("a.", "a-", "1.", "<", "[", ":", "%", "ftp://a", "a@"), fc.integer({ min: 100, max: 1000 }))
      .map(([p, n]) => p.repeat(n)),
  );
  let worst = 0;
  fc.assert(
    fc.property(long, (s) => {
      const t0 = performance.now();
      parseOrTyped(s);
      try {
        parseCommandText(s);
      } catch {
        // typed errors are covered above
      }
      parsePasv(s);
      parseEpsv(s);
      worst = Math.max(worst, performance.now() - t0);
    }),
    { numRuns: 500 },
  );
  assert.ok(worst < 200, `slowest parse took ${worst.toFixed(1)} ms`);
});

test("parsePasv/parseEpsv: any reply text → a usable address and port, or undefined", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        anyText,
        fc
          .array(fc.integer({ min: -5, max: 1500 }), { minLength: 4, maxLength: 7 })
          .map((n) => `227 Entering Passive Mode (${n.join(",")})`),
      ),
      (s) => {
        const p = parsePasv(s);
        if (p) {
          assert.ok(
            p.host.split(".").every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255),
            `${s} → ${p.host}`,
          );
          assert.ok(p.port >= 1 && p.port <= 65535, `${s} → ${p.port}`);
        }
        const e = parseEpsv(s);
        if (e !== undefined) assert.ok(Number.isInteger(e) && e >= 1 && e <= 65535);
      },
    ),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(
      fc.ipV4(),
      fc.integer({ min: 1, max: 65535 }),
      fc.constantFrom("227 Entering Passive Mode (%).", "227 =%", "227 Entering Passive Mode %"),
      (ip, port, tpl) => {
        const text = tpl.replace("%", `${ip.split(".").join(",")},${port >> 8},${port & 255}`);
        assert.deepEqual(parsePasv(text), { host: ip.split(".").map(Number).join("."), port });
      },
    ),
    { numRuns: 500 },
  );
  // A number with more digits is not silently truncated to its first three (port 4*256+100).
  assert.equal(parsePasv("227 Entering Passive Mode (127,0,0,1,4,1000)"), undefined);
  assert.equal(parsePasv("227 Entering Passive Mode (1127,0,0,1,4,1)"), undefined);
});

test("findHostInText never throws", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        anyText,
        fc.array(fc.tuple(word, space), { maxLength: 10 }).map((ws) => ws.map(([w, s]) => w + s).join("")),
      ),
      (s) => {
        const h = findHostInText(s);
        assert.ok(h === undefined || typeof h === "string");
      },
    ),
    { numRuns: RUNS },
  );
});

test("findHostInText stays fast on a long mention (Slack allows 40,000 characters)", () => {
  for (const s of ["a.".repeat(20_000), `${"a-".repeat(20_000)}!`, "1.1.1.1.".repeat(5_000), "<".repeat(40_000)]) {
    const t0 = performance.now();
    findHostInText(s);
    const ms = performance.now() - t0;
    assert.ok(ms < 100, `${JSON.stringify(s.slice(0, 12))}… (${s.length} chars) took ${ms.toFixed(0)} ms`);
  }
});
