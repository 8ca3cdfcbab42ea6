import { Outcome, type RuleContext } from "./ruleKit.js";

/**
 * The target policy refused a resolved address. Nothing connected at all: that is the verdict.
 * Other addresses of the name were probed: their verdict stands, and the refused one is named
 * as not covered (a policy outcome must not raise a false alarm on a working server).
 */
export function targetPolicyRule({ obs }: RuleContext): Outcome {
  const out = new Outcome();
  const p = obs.policyRefusal;
  if (!p) return out;
  if (obs.connects.length > 0) {
    out.scope.push(`${p.address} not checked: the target policy refused it (${p.rule})`);
    return out;
  }
  out.fault("TARGET_NOT_PERMITTED", { name: p.name, address: p.address, rule: p.rule }, [
    `${p.name} → ${p.address}: refused by the target policy (${p.rule})`,
    ...(obs.dns?.addresses.length ? [`addresses resolved: ${obs.dns.addresses.map((a) => a.address).join(", ")}`] : []),
  ]);
  out.stop = true;
  return out;
}
