import type { Observations } from "../probe/types.js";
import { formatHostPort } from "../target/parse.js";
import type { RootCauseCode } from "./codes.js";
import { CAUSES } from "./causes.js";
import { remediationFor } from "./remediation.js";
import { dnsRule, ipv6Rule, partialAddressRule } from "./rules/addressRules.js";
import { dataRule } from "./rules/dataRules.js";
import { greetingRule } from "./rules/greetingRules.js";
import { loginRule } from "./rules/loginRules.js";
import { optionalRule } from "./rules/optionalRules.js";
import { pathRule } from "./rules/pathRules.js";
import { targetPolicyRule } from "./rules/policyRules.js";
import type { Rule, RuleContext } from "./rules/ruleKit.js";
import { versionRule } from "./rules/serverRules.js";
import { sessionRule } from "./rules/sessionRules.js";
import { tcpRule } from "./rules/tcpRules.js";
import { tlsRule } from "./rules/tlsRules.js";
import { identifyServer } from "./software.js";
import type { Diagnosis, Fault, Finding, Verdict } from "./verdict.js";

export type { Diagnosis } from "./verdict.js";

/**
 * The rules in the order a client meets their layers. With implicit FTPS the TLS handshake comes
 * before the greeting, so a certificate fault there is found before a greeting that never came.
 * Session-level symptoms (a reply timeout, a reset) come after every definite fault; a partially
 * dead address set last (it hits some clients, a session fault hits all).
 */
function rulesFor(obs: Observations): Rule[] {
  const tlsFirst = obs.tls?.mode === "implicit";
  return [
    dnsRule,
    targetPolicyRule,
    tcpRule,
    ...(tlsFirst ? [tlsRule, greetingRule] : [greetingRule, tlsRule]),
    loginRule,
    pathRule,
    dataRule,
    optionalRule,
    sessionRule,
    partialAddressRule,
  ];
}

/** Findings that hold whatever the verdict, even when an early layer stopped the check. */
const ALWAYS: Rule[] = [versionRule, ipv6Rule];

/**
 * The fault tree: a pure function from observations to one root cause, the other faults seen on
 * the way, and findings. Rules per layer (./rules/) find faults with their evidence; the cause
 * table (./causes.ts) words them; this function only orders them. The first fault is the root
 * cause: the first one a client would hit (shared/FAULTS.md).
 */
export function diagnose(obs: Observations, now: Date = new Date()): Diagnosis {
  const where = formatHostPort(obs.target.host, obs.target.port);
  const server: Diagnosis["server"] = {
    ...identifyServer(obs.greeting?.reply?.text ?? obs.greeting?.tlsProbe?.greeting?.text, obs.syst?.text, [
      obs.tls?.authReply?.text,
      obs.login?.userReply?.text,
      obs.login?.passReply?.text,
      ...(obs.data?.passive.map((p) => p.reply?.text) ?? []),
    ]),
    ...(obs.greeting?.reply ? { banner: obs.greeting.reply.text.split("\n")[0]! } : {}),
  };
  const faults: Fault[] = [];
  const findings: Finding[] = [];
  const scope: string[] = [];
  const ctx = (): RuleContext => ({
    obs,
    now,
    where,
    ...(obs.peer ? { rtt: `control round trip ${obs.peer.rttMs.toFixed(1)} ms` } : {}),
    mode: obs.target.schemeTls && obs.options.tls === "auto" ? obs.target.schemeTls : obs.options.tls,
    server,
    prior: [...faults],
  });
  const run = (rule: Rule): boolean => {
    const out = rule(ctx());
    faults.push(...out.faults);
    for (const f of out.findings) if (!findings.some((x) => x.code === f.code)) findings.push(f);
    scope.push(...out.scope);
    return out.stop;
  };
  for (const rule of rulesFor(obs)) if (run(rule)) break;
  for (const rule of ALWAYS) run(rule);

  const root = faults[0];
  const verdict: Verdict = root
    ? { ...root, layer: CAUSES[root.code].layer, ...remediationFor(root.code, server.software) }
    : {
        code: "HEALTHY",
        layer: "none",
        title: scope.length > 0 ? `${where} answers; ${scope[0]!.split(":")[0]}` : `${where} is healthy`,
        explanation: healthySummary(obs),
        evidence: healthyEvidence(obs),
        ...remediationFor("HEALTHY", server.software),
      };
  const seen = new Set<RootCauseCode>([verdict.code]);
  const secondary = faults
    .slice(1)
    .filter((f) => !seen.has(f.code) && seen.add(f.code))
    .map((f) => ({ code: f.code, title: f.title }));
  return { verdict, secondary, findings, server, scope };
}

function healthySummary(obs: Observations): string {
  const parts: string[] = [];
  if (obs.greeting?.status === "ok") parts.push("greets");
  if (obs.tls?.status === "ok") parts.push(`negotiates ${obs.tls.protocol} with a valid certificate`);
  if (obs.login?.status === "ok") parts.push(`accepts the login of ${obs.login.user}`);
  if (obs.data?.status === "ok")
    parts.push(
      "lists the directory over " +
        `${obs.data.passive.find((p) => p.connect?.status === "ok")?.command ?? "passive mode"}` +
        `${obs.data.protected ? " with encrypted data" : ""}`,
    );
  if (obs.write?.status === "ok") parts.push("stores, reads back and deletes a test file");
  if (obs.active?.status === "ok") parts.push("works in active mode");
  if (obs.idle?.status === "ok") parts.push(`keeps an idle session for ${obs.idle.seconds} s`);
  return parts.length ? `Every step that ran succeeded: the server ${parts.join(", ")}.` : "Every step that ran succeeded.";
}

function healthyEvidence(obs: Observations): string[] {
  // Step details often carry their own time ("TLSv1.3 … in 13 ms"): one duration per line, not two.
  return obs.steps
    .filter((s) => s.status === "ok" || s.status === "warn")
    .map((s) => (/\d ms\b/.test(s.detail) ? `${s.id}: ${s.detail}` : `${s.id}: ${s.detail} (${s.durationMs} ms)`));
}
