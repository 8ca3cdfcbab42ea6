/** The monitoring keys of the configuration file, as `config check` reports them. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { environmentProblems, validateConfigData } from "../../src/config/validate.js";

test("alerts and auto-triage keys: defaults, and every mistake with its key path and fix", () => {
  const ok = validateConfigData({ alerts: { channel: "C0123ALERTS" }, slack: { autoTriageChannels: ["C0INCIDENTS"] } });
  assert.deepEqual(ok.problems, []);
  assert.deepEqual(ok.config?.alerts?.targetLabels, ["target", "instance"]);

  const bad = validateConfigData({
    alerts: { channel: "#alerts", targetLabels: ["instance", "bad-label"] },
    slack: { allowedChannels: ["C0OPS"], autoTriageChannels: ["C0INCIDENTS", "incidents"] },
  });
  const at = (path: string) =>
    bad.problems
      .filter((p) => p.path === path)
      .map((p) => p.message)
      .join("; ");
  assert.match(at("alerts.channel"), /channel id/, JSON.stringify(bad.problems));
  assert.match(at("alerts.targetLabels[1]"), /label name/);
  assert.match(at("slack.autoTriageChannels[1]"), /channel id/);

  const outside = validateConfigData({ slack: { allowedChannels: ["C0OPS"], autoTriageChannels: ["C0INCIDENTS"] } });
  assert.equal(outside.problems[0]?.path, "slack.autoTriageChannels[0]");
  assert.match(outside.problems[0]?.fix ?? "", /add C0INCIDENTS to slack.allowedChannels/);
});

test("a webhook token without a channel for the diagnoses is a problem on that host", () => {
  const { config } = validateConfigData({});
  const problems = environmentProblems(config!, { FTP_DOCTOR_ALERTMANAGER_TOKEN: "x".repeat(32) });
  assert.equal(problems[0]?.path, "alerts.channel");
  assert.deepEqual(environmentProblems(config!, {}), []);
});
