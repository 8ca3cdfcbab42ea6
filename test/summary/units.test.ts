/** Pure parts of the LLM summary: contradiction check, output schema, redaction, input whitelist, prompts, settings. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { checkDigestOverview, checkSummary, codesMentioned } from "../../src/summary/contradiction.js";
import { SummaryOutput, DigestOverviewOutput, type Summary } from "../../src/summary/outputSchema.js";
import { createRedactor, usersIn } from "../../src/summary/redact.js";
import { digestInput, summaryInput } from "../../src/summary/input.js";
import { loadPrompt, parsePrompt, renderPrompt, PROMPT_NAMES } from "../../src/summary/prompts.js";
import { summaryConfigFromEnv } from "../../src/summary/settings.js";
import { PromptError, SummaryConfigError, SUMMARY_FAILURES } from "../../src/summary/failures.js";
import { authFailedReport, CANARY, CANARY_ENV, CANARY_USER } from "./fixtures.js";

const s = (text: string, severity: Summary["severity"] = "high", nextAction = "Open port 21 in the firewall."): Summary => ({
  text,
  severity,
  nextAction,
});

describe("contradiction check", () => {
  test("accepts an answer that explains the verdict, code included", () => {
    assert.deepEqual(checkSummary(s("TCP_REFUSED: nothing listens on port 21, so nobody can upload."), { code: "TCP_REFUSED" }), {
      ok: true,
    });
    assert.deepEqual(
      checkSummary(s("The server works; logins are sent unencrypted.", "high", "Require FTPS."), { code: "HEALTHY" }, [
        { severity: "high" },
      ]),
      { ok: true },
    );
    assert.deepEqual(checkSummary(s("The control connection works but file listings time out.", "high"), { code: "PASV_PORTS_BLOCKED" }), {
      ok: true,
    });
  });

  test("rejects another root-cause code, in any case, in text or next action", () => {
    const r = checkSummary(s("Looks like TCP_TIMEOUT: a firewall drops packets."), { code: "TCP_REFUSED" });
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /TCP_TIMEOUT/);
    assert.equal(checkSummary(s("Refused.", "high", "Check dns_nxdomain records."), { code: "TCP_REFUSED" }).ok, false);
    assert.equal(checkSummary(s("Logins fail; also PASV_PORTS_BLOCKED."), { code: "AUTH_FAILED" }).ok, false);
  });

  test("rejects healthy language or severity none for a fault", () => {
    for (const text of [
      "The server is healthy.",
      "Everything looks fine.",
      "No issues were found.",
      "All good, the service is up and running.",
      "It is working normally.",
      "Status: HEALTHY.",
    ])
      assert.equal(checkSummary(s(text), { code: "AUTH_FAILED" }).ok, false, text);
    assert.equal(checkSummary(s("Logins fail.", "high", "No action is needed."), { code: "AUTH_FAILED" }).ok, false);
    assert.equal(checkSummary(s("Logins fail.", "none"), { code: "AUTH_FAILED" }).ok, false);
  });

  test("rejects an outage claim or critical severity for a healthy server", () => {
    for (const text of [
      "The server is down.",
      "Users cannot connect.",
      "There is an ongoing outage.",
      "The site is currently unreachable.",
    ])
      assert.equal(checkSummary(s(text, "low"), { code: "HEALTHY" }).ok, false, text);
    assert.equal(checkSummary(s("Works.", "critical"), { code: "HEALTHY" }).ok, false);
    assert.equal(checkSummary(s("Works.", "high"), { code: "HEALTHY" }, []).ok, false, "high needs a high finding");
    assert.equal(checkSummary(s("Works; the certificate expires soon.", "medium"), { code: "HEALTHY" }, [{ severity: "medium" }]).ok, true);
  });

  test("codesMentioned needs the code as a word", () => {
    assert.deepEqual(codesMentioned("XTCP_REFUSED and TCP_REFUSEDX"), []);
    assert.deepEqual(codesMentioned("(AUTH_FAILED)"), ["AUTH_FAILED"]);
  });

  test("digest: codes outside the list, 'all fine' on a failing day, 'outage' on a healthy day", () => {
    const entries = [{ code: "HEALTHY", changedFrom: "TCP_TIMEOUT" }, { code: "AUTH_FAILED" }];
    assert.deepEqual(
      checkDigestOverview({ text: "One server recovered from TCP_TIMEOUT; logins to another now fail (AUTH_FAILED)." }, entries),
      { ok: true },
    );
    assert.equal(checkDigestOverview({ text: "One target shows DNS_NXDOMAIN." }, entries).ok, false);
    assert.equal(checkDigestOverview({ text: "Everything is fine today." }, entries).ok, false);
    assert.deepEqual(
      checkDigestOverview({ text: "All targets are HEALTHY again after yesterday's outage." }, [
        { code: "HEALTHY", changedFrom: "TCP_REFUSED" },
      ]),
      { ok: true },
    );
    assert.equal(checkDigestOverview({ text: "The eu server is still down." }, [{ code: "HEALTHY" }]).ok, false);
  });
});

describe("output schema", () => {
  test("accepts the three fields, trims them", () => {
    const r = SummaryOutput.safeParse({ text: "  Two lines.\nSecond.  ", severity: "medium", nextAction: " Do it. " });
    assert.ok(r.success);
    assert.equal(r.data.text, "Two lines.\nSecond.");
  });

  test("rejects malformed and oversized answers", () => {
    const bad: unknown[] = [
      {},
      { text: "x", severity: "ok", nextAction: "y" },
      { text: "x", severity: "low" },
      { text: "x", severity: "low", nextAction: "y", extra: 1 },
      { text: "a".repeat(601), severity: "low", nextAction: "y" },
      { text: "1\n2\n3\n4", severity: "low", nextAction: "y" },
      { text: "x", severity: "low", nextAction: "b".repeat(201) },
      { text: "x", severity: "low", nextAction: "two\nlines" },
      { text: "", severity: "low", nextAction: "y" },
      { text: "ping <!channel> now", severity: "low", nextAction: "y" },
      { text: "bell\u0007", severity: "low", nextAction: "y" },
      "just a string",
    ];
    for (const b of bad) assert.equal(SummaryOutput.safeParse(b).success, false, JSON.stringify(b));
    assert.equal(DigestOverviewOutput.safeParse({ text: "ok", severity: "low" }).success, false);
  });
});

describe("redaction and the input whitelist", () => {
  test("scrubs PASS, userinfo, USER names, secret env values and known names", () => {
    const r = createRedactor({ env: { FTP_PASSWORD: CANARY_ENV, PATH: "/usr/bin", SHORT_TOKEN: "ab" }, names: ["ops-profile"] });
    assert.equal(r(`PASS ${CANARY} → "530 Login incorrect."`), 'PASS **** → "530 Login incorrect."');
    assert.equal(r("PASS ****"), "PASS ****");
    assert.equal(r(`ftp://bob:${CANARY}@h:21/x and bob:${CANARY}@h`), "ftp://****@h:21/x and ****@h");
    assert.equal(r(`USER ${CANARY_USER} → "331"`), 'USER **** → "331"');
    assert.equal(r(`env says ${CANARY_ENV}!`), "env says ****!");
    assert.equal(r("profile ops-profile failed; ab stays"), "profile **** failed; ab stays");
    assert.equal(r("/usr/bin is not a secret"), "/usr/bin is not a secret");
    assert.ok(r.leaks(`x${CANARY_ENV}x`));
  });

  test("a user name learnt from USER lines is scrubbed from titles too", () => {
    assert.deepEqual(usersIn([`USER ${CANARY_USER}`, "USER ****", "PWD"]), [CANARY_USER]);
    const input = summaryInput(authFailedReport(), createRedactor({ env: {} }));
    const text = JSON.stringify(input);
    assert.ok(!text.includes(CANARY), text);
    assert.ok(!text.includes(CANARY_USER), text);
    assert.equal(input.verdict.title, "Login failed for ****");
    assert.equal(input.target, "ftp.example.test:2121");
    assert.ok(!("transcript" in input) && !("steps" in input));
  });

  test("digest targets lose their user@", () => {
    const r = createRedactor({});
    assert.deepEqual(
      digestInput([{ target: `ftp://${CANARY_USER}@h.example`, zone: "eu", code: "HEALTHY", title: "ok" }], r)[0]!.target,
      "ftp://****@h.example",
    );
  });
});

describe("prompt files", () => {
  test("every shipped prompt loads and declares exactly what it uses", () => {
    for (const id of PROMPT_NAMES) {
      const p = loadPrompt(id);
      assert.ok(p.variables.length > 0 && p.system.length > 100 && p.user.length > 0, id);
    }
  });

  test("rendering needs every variable, rejects extras, never expands placeholders inside values", () => {
    const p = loadPrompt("digest.v1");
    assert.throws(() => renderPrompt(p, { changes_json: "[]" }), PromptError);
    assert.throws(() => renderPrompt(p, { changes_json: "[]", max_text_chars: "600", other: "x" }), PromptError);
    const out = renderPrompt(p, { changes_json: '["{{max_text_chars}}"]', max_text_chars: "600" });
    assert.ok(out.user.includes('["{{max_text_chars}}"]'));
    assert.ok(!/\{\{/.test(out.system));
  });

  test("broken prompt files are PromptErrors", () => {
    const head = "---\nname: summary\nversion: 1\nvariables: [a]\n---\n";
    assert.throws(() => parsePrompt("summary.v1", "## system\nx\n## user\n{{a}}"), /front matter/);
    assert.throws(() => parsePrompt("summary.v1", `${head}## system\n{{a}} {{b}}\n## user\nx`), /undeclared variable\(s\) b/);
    assert.throws(() => parsePrompt("summary.v1", `${head}## system\nnone\n## user\nx`), /never uses: a/);
    assert.throws(() => parsePrompt("summary.v1", `${head}## user\n{{a}}`), /"## system"/);
    assert.throws(
      () => parsePrompt("summary.v1", "---\nname: digest\nversion: 1\nvariables: [a]\n---\n## system\n{{a}}\n## user\nx"),
      /says digest.v1/,
    );
  });
});

describe("settings", () => {
  test("off unless OPENAI_API_KEY or OPENAI_BASE_URL is set; empty counts as unset", () => {
    assert.deepEqual(summaryConfigFromEnv({}), { enabled: false });
    assert.deepEqual(summaryConfigFromEnv({ OPENAI_API_KEY: "", OPENAI_MODEL: "m" }), { enabled: false });
    const c = summaryConfigFromEnv({ OPENAI_BASE_URL: "http://127.0.0.1:8000/v1", OPENAI_MODEL: "llama3" });
    assert.deepEqual(c, {
      enabled: true,
      model: "llama3",
      baseURL: "http://127.0.0.1:8000/v1",
      apiKey: "not-needed",
      deadlineMs: 20_000,
      responseFormat: "json_schema",
    });
    const k = summaryConfigFromEnv({
      OPENAI_API_KEY: "sk-x",
      FTP_DOCTOR_SUMMARY_DEADLINE_MS: "5000",
      FTP_DOCTOR_SUMMARY_FORMAT: "json_object",
    });
    assert.ok(
      k.enabled && k.baseURL === undefined && k.model === "gpt-4o-mini" && k.deadlineMs === 5000 && k.responseFormat === "json_object",
    );
  });

  test("bad settings say what to fix", () => {
    assert.throws(
      () => summaryConfigFromEnv({ OPENAI_BASE_URL: "not a url" }),
      (e: unknown) => e instanceof SummaryConfigError && /OPENAI_BASE_URL: must be an http:\/\/ or https:\/\/ URL/.test(e.message),
    );
    assert.throws(() => summaryConfigFromEnv({ OPENAI_BASE_URL: "ftp://x/v1" }), SummaryConfigError);
    assert.throws(() => summaryConfigFromEnv({ OPENAI_API_KEY: "k", FTP_DOCTOR_SUMMARY_DEADLINE_MS: "10" }), /at least 500/);
  });

  test("failure reasons are a fixed list", () => {
    assert.deepEqual([...SUMMARY_FAILURES].sort(), [
      "config",
      "connection_error",
      "contradiction",
      "http_error",
      "internal",
      "malformed",
      "prompt_error",
      "rate_limited",
      "timeout",
    ]);
  });
});
