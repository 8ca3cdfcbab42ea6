import { formatHostPort } from "../../target/parse.js";
import { err, Outcome, type RuleContext } from "./ruleKit.js";

/** DNS: the name does not resolve. Nothing past DNS ran. */
export function dnsRule({ obs }: RuleContext): Outcome {
  const out = new Outcome();
  const dns = obs.dns;
  if (!dns || dns.status === "ok" || dns.status === "literal") return out;
  const host = obs.target.host;
  const pasted = obs.target.notes.length ? [`input read as: ${obs.target.notes.join("; ")}`] : [];
  if (dns.status === "nxdomain")
    out.fault("DNS_NXDOMAIN", { host, resolver: dns.resolver }, [
      `NXDOMAIN for ${host} from ${dns.resolver} in ${dns.durationMs} ms`,
      ...pasted,
    ]);
  else if (dns.status === "nodata") out.fault("DNS_NO_ADDRESS", { host }, [`no A/AAAA for ${host} from ${dns.resolver}`]);
  else out.fault("DNS_TIMEOUT", { host, resolver: dns.resolver }, [`${err(dns.error)} after ${dns.durationMs} ms`]);
  out.stop = true;
  return out;
}

/**
 * Some addresses answer, some do not. Ordered last: a session fault that hits every client
 * outranks one that hits some.
 */
export function partialAddressRule({ obs }: RuleContext): Outcome {
  const out = new Outcome();
  const bad = obs.connects.filter((c) => c.status !== "ok");
  if (bad.length === 0 || bad.length === obs.connects.length) return out;
  return out.fault(
    "DNS_PARTIAL",
    { host: obs.target.host, total: obs.connects.length, failing: bad.length },
    obs.connects.map((c) => `${formatHostPort(c.address, obs.target.port)}: ${c.status} (${c.durationMs} ms)`),
  );
}

/** Facts about the whole check, whatever the verdict. */
export function ipv6Rule({ obs }: RuleContext): Outcome {
  const out = new Outcome();
  if (obs.dns?.aaaaQueried && obs.dns.status === "ok" && !obs.dns.addresses.some((x) => x.family === 6))
    out.finding("NO_IPV6", "info", { host: obs.target.host });
  return out;
}
