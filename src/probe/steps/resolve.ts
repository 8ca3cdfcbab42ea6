import dns from "node:dns";
import net from "node:net";
import { LIMITS } from "../../config/defaults.js";
import { failureOf, type ProbeContext } from "../context.js";
import { netError, NetFailureError, sleep } from "../net.js";
import type { NetError, Observations } from "../types.js";

type Address = { address: string; family: 4 | 6 };
type DnsStatus = NonNullable<Observations["dns"]>["status"];
interface Lookup {
  status: DnsStatus;
  addresses: Address[];
  error?: NetError;
  /** The step detail. */
  detail: string;
}

/** Step "resolve": the name's addresses (every A and AAAA with --resolver, else the system's lookup). */
export async function resolve(ctx: ProbeContext): Promise<Address[]> {
  const step = ctx.rec.begin("resolve");
  const host = ctx.target.host;
  const fam = net.isIP(host);
  if (fam) {
    ctx.obs.dns = {
      status: "literal",
      resolver: "-",
      addresses: [{ address: host, family: fam as 4 | 6 }],
      aaaaQueried: false,
      durationMs: 0,
    };
    step.end("skip", `${host} is an IP address`);
    return ctx.obs.dns.addresses;
  }
  // Whole milliseconds: dns.Resolver throws ERR_OUT_OF_RANGE for a fractional timeout (budgets < 2.65 s).
  const timeout = Math.floor(ctx.budget.cap(LIMITS.dnsTimeoutMs));
  const started = ctx.rec.now();
  const server = ctx.options.resolver;
  const r = server ? await viaResolver(host, server, timeout) : await viaSystem(host, timeout);
  ctx.obs.dns = {
    status: r.status,
    resolver: server ?? "system",
    addresses: r.addresses,
    aaaaQueried: !!server,
    durationMs: ctx.rec.now() - started,
    ...(r.error ? { error: r.error } : {}),
  };
  step.end(r.status === "ok" ? "ok" : "fail", r.detail, r.error ? { error: r.error } : {});
  return r.addresses;
}

/** A and AAAA from one DNS server, under our own deadline. */
async function viaResolver(host: string, server: string, timeout: number): Promise<Lookup> {
  const resolver = new dns.promises.Resolver({ timeout, tries: 1 });
  resolver.setServers([server]);
  // c-ares rounds its timeout up to whole seconds (1.2 s waits 2 s): our own deadline cancels.
  const deadline = setTimeout(() => resolver.cancel(), timeout);
  const [a, aaaa] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]).finally(() => clearTimeout(deadline));
  const addresses = [
    ...(a.status === "fulfilled" ? a.value.map((address) => ({ address, family: 4 as const })) : []),
    ...(aaaa.status === "fulfilled" ? aaaa.value.map((address) => ({ address, family: 6 as const })) : []),
  ];
  if (addresses.length > 0) return { status: "ok", addresses, detail: `${addresses.map((x) => x.address).join(", ")} via ${server}` };
  const errs = [a, aaaa]
    .filter((r): r is PromiseRejectedResult => r.status === "rejected")
    .map((r) => failureOf(r.reason))
    .map((e) => (e.code === "ECANCELLED" ? netError("timeout", "ETIMEOUT", `resolver ${server} did not answer within ${timeout} ms`) : e));
  const codes = errs.map((e) => e.code);
  const status = codes.includes("ENOTFOUND")
    ? "nxdomain"
    : codes.every((c) => c === "ENODATA")
      ? "nodata"
      : codes.some((c) => c === "ETIMEOUT" || c === "ECONNREFUSED")
        ? "timeout"
        : "error";
  const why =
    status === "nxdomain" ? "no such name (NXDOMAIN)" : status === "nodata" ? "no A or AAAA record" : (errs[0]?.message ?? status);
  return { status, addresses: [], ...(errs[0] ? { error: errs[0] } : {}), detail: `${host}: ${why}` };
}

/** The system resolver (getaddrinfo), raced against our deadline. */
async function viaSystem(host: string, timeout: number): Promise<Lookup> {
  try {
    const result = await Promise.race([
      dns.promises.lookup(host, { all: true, verbatim: true }),
      sleep(timeout).then(() => {
        throw new NetFailureError(netError("timeout", "ETIMEOUT", `system resolver did not answer within ${timeout} ms`));
      }),
    ]);
    const addresses = result.map((r) => ({ address: r.address, family: r.family as 4 | 6 }));
    return { status: "ok", addresses, detail: addresses.map((x) => x.address).join(", ") };
  } catch (err) {
    const e = failureOf(err);
    const status =
      e.code === "ENOTFOUND"
        ? "nxdomain"
        : e.code === "ENODATA"
          ? "nodata"
          : e.code === "ETIMEOUT" || e.code === "EAI_AGAIN"
            ? "timeout"
            : "error";
    return { status, addresses: [], error: e, detail: `${host}: ${status === "nxdomain" ? "no such name (NXDOMAIN)" : e.message}` };
  }
}
