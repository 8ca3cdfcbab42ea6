import client from "prom-client";
import type { CheckReport } from "../check/run.js";

/**
 * One /probe answer in blackbox_exporter's shape (prober/handler.go, prober/utils.go,
 * prober/tls.go), so scrape configs, relabelling and dashboards written for it carry over:
 * `probe_success`, `probe_duration_seconds`, `probe_timeout_seconds`,
 * `probe_dns_lookup_time_seconds`, `probe_ip_protocol`, `probe_ssl_earliest_cert_expiry`,
 * plus the diagnosis. A fresh registry per probe: nothing from an earlier target leaks in, and
 * a verdict that changed disappears (Prometheus marks the old series stale).
 */
export function probeRegistry(report: CheckReport, o: { durationSeconds: number; timeoutSeconds: number }): client.Registry {
  const registry = new client.Registry();
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new client.Gauge<L>({ name, help, labelNames, registers: [registry] });

  gauge("probe_success", "Displays whether or not the probe was a success (1: verdict HEALTHY)").set(
    report.verdict.code === "HEALTHY" ? 1 : 0,
  );
  gauge("probe_duration_seconds", "Returns how long the probe took to complete in seconds").set(o.durationSeconds);
  gauge("probe_timeout_seconds", "Returns how long the probe timeout is in seconds").set(o.timeoutSeconds);
  const resolve = report.steps.filter((s) => s.id === "resolve");
  if (resolve.length)
    gauge("probe_dns_lookup_time_seconds", "Returns the time taken for probe dns lookup in seconds").set(
      Math.max(...resolve.map((s) => s.durationMs)) / 1000,
    );
  if (report.peer) gauge("probe_ip_protocol", "Specifies whether probe ip protocol is IP4 or IP6").set(report.peer.family === 6 ? 6 : 4);
  const expiry = earliestExpiry(report);
  if (expiry !== undefined)
    gauge("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime (the earliest notAfter of the chain)").set(expiry);

  gauge("ftp_doctor_verdict", "1 for the current root cause (code, layer)", ["code", "layer"]).set(
    { code: report.verdict.code, layer: report.verdict.layer },
    1,
  );
  const finding = gauge("ftp_doctor_finding", "1 for each finding of the check (server works, someone should know)", ["code"]);
  for (const f of report.findings) finding.set({ code: f.code }, 1);
  const steps = gauge("ftp_doctor_step_duration_seconds", "Duration of each probe step of this check (the longest, for a repeated step)", [
    "step",
  ]);
  const longest = new Map<string, number>();
  for (const s of report.steps) if (s.status !== "skip") longest.set(s.id, Math.max(longest.get(s.id) ?? 0, s.durationMs));
  for (const [step, ms] of longest) steps.set({ step }, ms / 1000);
  const passive = stepOutcome(report, "data");
  if (passive !== undefined)
    gauge("ftp_doctor_passive_ok", "1 when a passive data connection worked, 0 when it failed (absent: not reached)").set(passive);
  const login = stepOutcome(report, "login");
  if (login !== undefined) gauge("ftp_doctor_login_ok", "1 when the login succeeded, 0 when it failed (absent: not reached)").set(login);
  return registry;
}

/** Unix seconds of the earliest notAfter in the presented chain (blackbox: getEarliestCertExpiry). */
function earliestExpiry(report: CheckReport): number | undefined {
  const times = (report.tls?.chain ?? []).map((c) => Date.parse(c.validTo)).filter((t) => Number.isFinite(t));
  return times.length ? Math.min(...times) / 1000 : undefined;
}

/** 1 ok (or ok with a warning), 0 failed, undefined when the check never got that far. */
function stepOutcome(report: CheckReport, id: "data" | "login"): 0 | 1 | undefined {
  const s = report.steps.filter((x) => x.id === id && x.status !== "skip");
  if (s.length === 0) return undefined;
  return s.some((x) => x.status === "fail") ? 0 : 1;
}
