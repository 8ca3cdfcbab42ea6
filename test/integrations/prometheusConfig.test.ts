/**
 * deploy/prometheus/ as shipped, checked by the real tools (Debian's prometheus and
 * prometheus-alertmanager packages): promtool check config / check rules, promtool test rules
 * (a firing case for every alert), amtool check-config; and the rules only use series
 * /probe really exports.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { buildReport } from "../../src/check/run.js";
import { FINDING_CODES, ROOT_CAUSE_CODES } from "../../src/diagnosis/codes.js";
import { probeRegistry } from "../../src/integrations/probeMetrics.js";
import type { Observations } from "../../src/probe/types.js";
import { repoRoot, requirementsOptions, requireTool, runCommand } from "../harness/env.js";

const dir = path.join(repoRoot, "deploy", "prometheus");
const rulesFile = path.join(dir, "ftp-doctor.rules.yml");
interface Rule {
  alert: string;
  expr: string;
  labels?: Record<string, string>;
  annotations: Record<string, string>;
}
const rules = (parse(readFileSync(rulesFile, "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

async function tool(name: "promtool" | "amtool", args: string[]) {
  const r = await runCommand(requireTool(name), args, { timeoutMs: 60_000 });
  return { code: r.code, out: `${r.stdout}${r.stderr}` };
}

describe("deploy/prometheus", requirementsOptions(["promtool", "amtool"]), () => {
  test("promtool check config (with the rule file it names)", async () => {
    const r = await tool("promtool", ["check", "config", path.join(dir, "prometheus.yml")]);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /SUCCESS: 8 rules found/);
  });

  test("promtool check rules", async () => {
    const r = await tool("promtool", ["check", "rules", rulesFile]);
    assert.equal(r.code, 0, r.out);
  });

  test("promtool test rules passes, and fails when an expectation is wrong", async () => {
    const r = await tool("promtool", ["test", "rules", path.join(dir, "tests", "ftp-doctor.rules.test.yml")]);
    assert.equal(r.code, 0, r.out);
    // The tests can fail: the passive-mode case with another expected code does.
    const file = parse(readFileSync(path.join(dir, "tests", "ftp-doctor.rules.test.yml"), "utf8")) as {
      rule_files: string[];
      tests: unknown[];
    };
    const passive = JSON.stringify(file.tests.find((t) => JSON.stringify(t).includes("PASV_PORTS_BLOCKED")));
    const broken = JSON.stringify({
      ...file,
      rule_files: [rulesFile],
      tests: [JSON.parse(passive.replaceAll('"code":"PASV_PORTS_BLOCKED","layer":"data"}', '"code":"TCP_REFUSED","layer":"data"}'))],
    });
    assert.notEqual(broken, JSON.stringify({ ...file, rule_files: [rulesFile], tests: [JSON.parse(passive)] }));
    const tmp = path.join(dir, "tests", `.broken-${process.pid}.yml`);
    writeFileSync(tmp, broken);
    try {
      const b = await tool("promtool", ["test", "rules", tmp]);
      assert.notEqual(b.code, 0, b.out);
    } finally {
      rmSync(tmp, { force: true });
    }
  });

  test("every alert has a firing case and a silent case in the promtool tests", () => {
    const tests = (
      parse(readFileSync(path.join(dir, "tests", "ftp-doctor.rules.test.yml"), "utf8")) as {
        tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
      }
    ).tests.flatMap((t) => t.alert_rule_test);
    for (const r of rules) {
      assert.ok(
        tests.some((t) => t.alertname === r.alert && t.exp_alerts.length > 0),
        `${r.alert}: no promtool case where it fires`,
      );
      assert.ok(
        tests.some((t) => t.alertname === r.alert && t.exp_alerts.length === 0),
        `${r.alert}: no promtool case where it stays silent`,
      );
    }
  });

  test("every alert has a severity and a runbook annotation naming the verdict code", () => {
    const codes = new Set<string>([...ROOT_CAUSE_CODES, ...FINDING_CODES, "PROBE_ERROR"]);
    for (const r of rules) {
      assert.ok(["critical", "warning"].includes(r.labels?.severity ?? ""), `${r.alert}: severity`);
      const runbook = r.annotations.runbook ?? "";
      const named = runbook.includes("{{ $labels.code }}") || [...codes].some((c) => runbook.includes(c));
      assert.ok(named, `${r.alert}: runbook annotation does not name a verdict code: ${runbook}`);
      // The code is a label of the alert too: from the joined verdict series, or set by the rule.
      assert.ok(r.expr.includes("ftp_doctor_verdict") || codes.has(r.labels?.code ?? ""), `${r.alert}: no code label`);
    }
  });

  test("the rules use only series /probe exports (or Prometheus' own up)", async () => {
    const { observations: obs } = JSON.parse(
      readFileSync(path.join(repoRoot, "test", "fixtures", "observations", "expired-certificate.json"), "utf8"),
    ) as { observations: Observations };
    const exported = new Set(
      (await probeRegistry(buildReport(obs), { durationSeconds: 1, timeoutSeconds: 8.5 }).getMetricsAsJSON()).map((m) => m.name),
    );
    for (const n of ["probe_success", "ftp_doctor_verdict", "ftp_doctor_passive_ok", "ftp_doctor_login_ok"]) exported.add(n);
    for (const r of rules)
      for (const name of r.expr.match(/\b(?:probe|ftp_doctor)_[a-z_]+\b/g) ?? [])
        assert.ok(exported.has(name), `${r.alert} uses ${name}, which /probe does not export`);
    assert.ok(exported.has("probe_ssl_earliest_cert_expiry"), "an FTPS report exports the certificate expiry");
  });

  test("the scrape job hands target, zone and profile to /probe through relabelling", () => {
    const cfg = parse(readFileSync(path.join(dir, "prometheus.yml"), "utf8")) as {
      scrape_configs: { job_name: string; metrics_path?: string; relabel_configs?: { target_label: string }[] }[];
    };
    const job = cfg.scrape_configs.find((j) => j.job_name === "ftp-doctor");
    assert.equal(job?.metrics_path, "/probe");
    const targets = job?.relabel_configs?.map((r) => r.target_label);
    assert.deepEqual(targets, ["__param_target", "__param_zone", "__param_profile", "instance", "__address__"]);
  });

  test("amtool check-config: the Alertmanager route to the bot's webhook", async () => {
    const r = await tool("amtool", ["check-config", path.join(dir, "alertmanager.yml")]);
    assert.equal(r.code, 0, r.out);
    const am = parse(readFileSync(path.join(dir, "alertmanager.yml"), "utf8")) as {
      receivers: {
        name: string;
        webhook_configs?: { url: string; send_resolved: boolean; http_config: { authorization: { type: string } } }[];
      }[];
    };
    const hook = am.receivers.find((x) => x.name === "ftp-doctor")?.webhook_configs?.[0];
    assert.match(hook?.url ?? "", /\/hooks\/alertmanager$/);
    assert.equal(hook?.send_resolved, true);
    assert.equal(hook?.http_config.authorization.type, "Bearer");
  });
});
