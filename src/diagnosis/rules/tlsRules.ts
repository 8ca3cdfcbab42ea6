import { LIMITS } from "../../config/defaults.js";
import { err, Outcome, q, type RuleContext } from "./ruleKit.js";

/** TLS on the control connection: refused, stalled, failed, or a certificate clients refuse. */
export function tlsRule({ obs, where, rtt, mode, now }: RuleContext): Outcome {
  const out = new Outcome();
  const t = obs.tls;
  if (!t) return out;
  const auth = t.authReply ? [`AUTH TLS → ${q(t.authReply)}`] : [];
  if (t.status === "refused") {
    if (mode === "explicit") return out.fault("FTPS_UNSUPPORTED", { where }, [`AUTH TLS → ${q(t.authReply)}`]);
    return out.finding("TLS_FALLBACK_PLAIN", "medium", { code: t.authReply?.code });
  }
  if (t.status === "stall")
    return out.fault("TLS_HANDSHAKE_STALL", { where, plainWorks: t.plainCheck?.status === "ok" }, [
      ...auth,
      `handshake: ${err(t.error)}`,
      ...(t.plainCheck ? [`plain FTP on a second connection: ${t.plainCheck.detail}`] : []),
      ...(rtt ? [rtt] : []),
    ]);
  if (t.status === "failed") {
    const ev = [...auth, `modern handshake: ${err(t.error)}`];
    if (t.legacyRetry?.status === "ok")
      return out.fault("TLS_PROTOCOL_OUTDATED", { where, protocol: t.legacyRetry.protocol ?? "", cipher: t.legacyRetry.cipher ?? "" }, [
        ...ev,
        `legacy-allowing handshake: ${t.legacyRetry.protocol} ${t.legacyRetry.cipher}`,
      ]);
    if (t.mode === "implicit" && /wrong version number|packet length too long|http request/i.test(t.error?.message ?? ""))
      return out.fault("TLS_HANDSHAKE_FAILED", { where, kind: "plain-port" }, [
        ...ev,
        "use ftpes:// or --tls explicit for this port, or the implicit port (990)",
      ]);
    return out.fault("TLS_HANDSHAKE_FAILED", { where, kind: "other" }, [
      ...ev,
      ...(t.legacyRetry?.status === "failed" ? [`legacy-allowing handshake: ${err(t.legacyRetry.error)}`] : []),
    ]);
  }
  if (t.status !== "ok") return out;

  // The handshake worked: is the certificate one that clients accept?
  const leaf = t.chain[0];
  const chainEv = t.chain.map(
    (c, i) => `chain[${i}]: ${c.subject} — issued by ${c.issuer}, valid ${c.validFrom.slice(0, 10)} → ${c.validTo.slice(0, 10)}`,
  );
  const expired = leaf && new Date(leaf.validTo) < now;
  const authErr = t.authorizationError ?? "";
  if (expired || authErr === "CERT_HAS_EXPIRED")
    out.fault("TLS_CERT_EXPIRED", { where, validTo: leaf?.validTo.slice(0, 10) ?? "?" }, [
      ...chainEv,
      ...(authErr ? [`verification: ${authErr}`] : []),
    ]);
  if (authErr === "DEPTH_ZERO_SELF_SIGNED_CERT" || authErr === "SELF_SIGNED_CERT_IN_CHAIN")
    out.fault("TLS_CERT_SELF_SIGNED", { where }, [`verification: ${authErr}`, ...chainEv]);
  else if (authErr && authErr !== "CERT_HAS_EXPIRED")
    out.fault("TLS_CERT_UNTRUSTED", { where, reason: authErr }, [
      `verification: ${authErr}`,
      `certificates received: ${t.chain.length}`,
      ...chainEv,
    ]);
  if (t.hostnameError)
    out.fault(
      "TLS_HOSTNAME_MISMATCH",
      { host: obs.target.host, names: leaf?.sans.join(", ") || `${leaf?.subject}`, checkedName: t.checkedName },
      [`${t.hostnameError}`, ...chainEv.slice(0, 1)],
    );
  if (leaf && !expired) {
    const days = (new Date(leaf.validTo).getTime() - now.getTime()) / 86_400_000;
    if (days < LIMITS.certExpiringDays)
      out.finding("TLS_CERT_EXPIRING", days < 7 ? "high" : "medium", {
        days: Math.max(0, Math.floor(days)),
        validTo: leaf.validTo.slice(0, 10),
      });
  }
  const legacy = t.protocol === "TLSv1" || t.protocol === "TLSv1.1";
  if (legacy || t.legacyAccepted) out.finding("TLS_LEGACY_ACCEPTED", "medium", { protocol: legacy ? t.protocol! : "TLS 1.0/1.1" });
  return out;
}
