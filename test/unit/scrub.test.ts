import assert from "node:assert/strict";
import { test } from "node:test";
import { SCRUBBED, scrubDeep, scrubber } from "../../src/policy/scrub.js";

const secret = "S3cr3t pass/+wörd";

test("a secret is scrubbed in clear and in common encodings, wherever it sits", () => {
  const s = scrubber([secret]);
  const b = Buffer.from(secret, "utf8");
  const forms = [
    secret,
    secret.toUpperCase(),
    encodeURIComponent(secret),
    encodeURIComponent(secret).replace(/%20/g, "+"),
    b.toString("hex"),
    b.toString("hex").toUpperCase(),
    b.toString("base64"),
    b.toString("base64url"),
    JSON.stringify(secret).slice(1, -1),
  ];
  for (const f of forms) assert.equal(s(`530 Login incorrect: password '${f}'.`), `530 Login incorrect: password '${SCRUBBED}'.`, f);
  // Inside a longer base64 blob, at every byte alignment (SASL PLAIN: \0user\0password).
  for (const pre of ["", "a", "ab", "\0alice\0"]) {
    const blob = Buffer.from(`${pre}${secret}!tail`).toString("base64");
    assert.ok(!s(blob).includes(Buffer.from(secret).toString("base64").slice(4, 12)), `aligned after ${JSON.stringify(pre)}: ${s(blob)}`);
    assert.ok(s(blob).includes(SCRUBBED), `base64 after ${JSON.stringify(pre)}`);
  }
  assert.equal(s("nothing to see"), "nothing to see");
});

test("deep scrub of a report-shaped value, keys included; short secrets are left alone", () => {
  const v = { a: [`x ${secret} y`, 1, null, { [secret]: true }], b: { c: Buffer.from(secret).toString("hex") } };
  const out = scrubDeep(v, [secret, undefined]);
  assert.ok(!JSON.stringify(out).includes(secret));
  assert.ok(!JSON.stringify(out).includes(Buffer.from(secret).toString("hex")));
  assert.deepEqual(scrubDeep({ t: "ab cd" }, ["ab"]), { t: "ab cd" });
});
