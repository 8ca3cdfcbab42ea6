/**
 * Real X.509 certificates for TLS tests: a CA, intermediates, leaves with arbitrary validity
 * windows and SANs, self-signed leaves. Keys are RSA-2048 from node:crypto (fast, native); the
 * certificates are built and signed with node-forge, because neither node:crypto nor the
 * OpenSSL 3.0 CLI in Debian 12 (`x509 -days` only) can set an arbitrary notBefore/notAfter.
 *
 * Keys are cached per role within the process (one per CA name, one per intermediate name, one
 * shared by all leaves), so a whole test run generates a handful of RSA keys.
 */
import { generateKeyPairSync, randomBytes, createPrivateKey } from "node:crypto";
import net from "node:net";
import forge from "node-forge";

/** PEM text a TLS server needs: the certificate and its private key, plus intermediates to send. */
export interface TlsMaterial {
  certPem: string;
  keyPem: string;
  /** Intermediate certificates (PEM, leaf's issuer first), without the root. Omit to send none. */
  chainPem?: string;
}

/** A certificate authority (root or intermediate) that can issue certificates. */
export interface CertAuthority {
  readonly kind: "ca";
  readonly name: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Certificates between this authority and the root, this one first, root excluded ('' for a root). */
  readonly chainPem: string;
  /** The root's certificate: what a client must trust. */
  readonly rootPem: string;
  /** @internal forge objects for signing */
  readonly forgeCert: forge.pki.Certificate;
  /** @internal */
  readonly forgeKey: forge.pki.rsa.PrivateKey;
}

/** A server certificate. `chainPem` holds the intermediates a correct server sends with it. */
export interface LeafCert extends TlsMaterial {
  readonly kind: "leaf";
  readonly certPem: string;
  readonly keyPem: string;
  /** Intermediates ('' when issued by a root or self-signed). */
  readonly chainPem: string;
  /** certPem + chainPem: what goes in a single "fullchain" file. */
  readonly fullChainPem: string;
  /** The root to trust for this leaf (the leaf itself when self-signed). */
  readonly rootPem: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly sans: readonly string[];
}

export interface LeafOptions {
  /** Subject common name. */
  cn: string;
  /** Subject alternative names; IPv4/IPv6 literals become IP SANs, everything else DNS SANs. */
  sans: readonly string[];
  /** @defaultValue one hour ago */
  notBefore?: Date;
  /** @defaultValue 90 days from now */
  notAfter?: Date;
  /** Reuse a cached key under this id instead of the shared leaf key. */
  keyId?: string;
}

export interface CaOptions {
  /** @defaultValue one day ago */
  notBefore?: Date;
  /** @defaultValue ten years from now */
  notAfter?: Date;
}

// ---------------------------------------------------------------------------------------------
// Keys

interface CachedKey {
  pkcs8Pem: string;
  forgeKey: forge.pki.rsa.PrivateKey;
  forgePublic: forge.pki.rsa.PublicKey;
}

const keyCache = new Map<string, CachedKey>();
let keysGenerated = 0;

/** How many RSA keys this process generated so far (to keep an eye on test cost). */
export function generatedKeyCount(): number {
  return keysGenerated;
}

function cachedKey(id: string): CachedKey {
  const hit = keyCache.get(id);
  if (hit) return hit;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  keysGenerated++;
  const pkcs1Pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  const pkcs8Pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pkcs1Pem) as forge.pki.rsa.PrivateKey;
  const forgePublic = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) as forge.pki.rsa.PublicKey;
  const entry = { pkcs8Pem, forgeKey, forgePublic };
  keyCache.set(id, entry);
  return entry;
}

// ---------------------------------------------------------------------------------------------
// Building certificates

const HOUR = 3600_000;
const DAY = 24 * HOUR;

function serial(): string {
  // Positive (top bit clear), 16 bytes, unique enough that no two certificates in a run collide.
  const b = randomBytes(16);
  b[0] = (b[0] ?? 0) & 0x7f;
  return b.toString("hex");
}

function subject(cn: string, org = "ftp-doctor tests"): forge.pki.CertificateField[] {
  return [
    { name: "commonName", value: cn },
    { name: "organizationName", value: org },
  ];
}

type AltName = { type: 2; value: string } | { type: 7; ip: string };

function altNames(sans: readonly string[]): AltName[] {
  return sans.map((s) => (net.isIP(s) !== 0 ? { type: 7 as const, ip: s } : { type: 2 as const, value: s }));
}

interface BuildSpec {
  cn: string;
  key: CachedKey;
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  sans?: readonly string[];
  /** undefined = self-signed */
  issuer?: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
}

function build(spec: BuildSpec): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = spec.key.forgePublic;
  cert.serialNumber = serial();
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  cert.setSubject(subject(spec.cn));
  cert.setIssuer(spec.issuer ? spec.issuer.cert.subject.attributes : subject(spec.cn));
  const extensions: object[] = [
    { name: "basicConstraints", cA: spec.isCa, critical: true },
    spec.isCa
      ? { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ];
  if (!spec.isCa) extensions.push({ name: "extKeyUsage", serverAuth: true, clientAuth: true });
  if (spec.sans && spec.sans.length > 0) extensions.push({ name: "subjectAltName", altNames: altNames(spec.sans) });
  // Authority key identifier lets OpenSSL pick the right issuer when several share a name.
  const issuerCert = spec.issuer?.cert ?? cert;
  const aki = issuerCert === cert ? undefined : issuerCert.generateSubjectKeyIdentifier().getBytes();
  if (aki !== undefined) extensions.push({ name: "authorityKeyIdentifier", keyIdentifier: aki });
  cert.setExtensions(extensions);
  cert.sign(spec.issuer?.key ?? spec.key.forgeKey, forge.md.sha256.create());
  return cert;
}

const toPem = (c: forge.pki.Certificate): string => forge.pki.certificateToPem(c).replace(/\r\n/g, "\n");

// ---------------------------------------------------------------------------------------------
// Public API

/** A self-signed root CA. Same name → same key (cached), new certificate each call. */
export function makeCa(name: string, opts: CaOptions = {}): CertAuthority {
  const key = cachedKey(`ca:${name}`);
  const now = Date.now();
  const cert = build({
    cn: name,
    key,
    isCa: true,
    notBefore: opts.notBefore ?? new Date(now - DAY),
    notAfter: opts.notAfter ?? new Date(now + 3650 * DAY),
  });
  const certPem = toPem(cert);
  return { kind: "ca", name, certPem, keyPem: key.pkcs8Pem, chainPem: "", rootPem: certPem, forgeCert: cert, forgeKey: key.forgeKey };
}

/** An intermediate CA issued by `issuer` (a root or another intermediate). */
export function makeIntermediate(issuer: CertAuthority, name = `${issuer.name} Intermediate`, opts: CaOptions = {}): CertAuthority {
  const key = cachedKey(`intermediate:${name}`);
  const now = Date.now();
  const cert = build({
    cn: name,
    key,
    isCa: true,
    notBefore: opts.notBefore ?? new Date(now - DAY),
    notAfter: opts.notAfter ?? new Date(now + 1825 * DAY),
    issuer: { cert: issuer.forgeCert, key: issuer.forgeKey },
  });
  const certPem = toPem(cert);
  return {
    kind: "ca",
    name,
    certPem,
    keyPem: key.pkcs8Pem,
    chainPem: certPem + issuer.chainPem,
    rootPem: issuer.rootPem,
    forgeCert: cert,
    forgeKey: key.forgeKey,
  };
}

/** A server certificate issued by `issuer`. */
export function makeLeaf(issuer: CertAuthority, opts: LeafOptions): LeafCert {
  const key = cachedKey(opts.keyId ?? "leaf");
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - HOUR);
  const notAfter = opts.notAfter ?? new Date(now + 90 * DAY);
  const cert = build({
    cn: opts.cn,
    key,
    isCa: false,
    sans: opts.sans,
    notBefore,
    notAfter,
    issuer: { cert: issuer.forgeCert, key: issuer.forgeKey },
  });
  const certPem = toPem(cert);
  const chainPem = issuer.chainPem;
  return {
    kind: "leaf",
    certPem,
    keyPem: key.pkcs8Pem,
    chainPem,
    fullChainPem: certPem + chainPem,
    rootPem: issuer.rootPem,
    notBefore,
    notAfter,
    sans: [...opts.sans],
  };
}

/** A self-signed server certificate (not a CA): what `openssl req -x509` setups and appliances ship. */
export function makeSelfSigned(opts: LeafOptions): LeafCert {
  const key = cachedKey(opts.keyId ?? "leaf");
  const now = Date.now();
  const notBefore = opts.notBefore ?? new Date(now - HOUR);
  const notAfter = opts.notAfter ?? new Date(now + 90 * DAY);
  const cert = build({ cn: opts.cn, key, isCa: false, sans: opts.sans, notBefore, notAfter });
  const certPem = toPem(cert);
  return {
    kind: "leaf",
    certPem,
    keyPem: key.pkcs8Pem,
    chainPem: "",
    fullChainPem: certPem,
    rootPem: certPem,
    notBefore,
    notAfter,
    sans: [...opts.sans],
  };
}

/** TLS material for a server that sends the leaf only, without its intermediates (broken chain). */
export function withoutChain(leaf: LeafCert): TlsMaterial {
  return { certPem: leaf.certPem, keyPem: leaf.keyPem };
}

/** TLS material for a correctly configured server (leaf + intermediates). */
export function tlsOf(leaf: LeafCert): TlsMaterial {
  return leaf.chainPem === ""
    ? { certPem: leaf.certPem, keyPem: leaf.keyPem }
    : { certPem: leaf.certPem, keyPem: leaf.keyPem, chainPem: leaf.chainPem };
}

/** Validates that a PEM key loads in node:crypto (cheap sanity check for fixtures). */
export function assertKeyLoads(keyPem: string): void {
  createPrivateKey(keyPem);
}

/** The standard certificate scenarios for FTPS tests, all for `localhost` / 127.0.0.1 / ::1. */
export interface CertFixtures {
  /** Root CA: what a client trusts (pass `ca.certPem` as `ca` to tls.connect). */
  ca: CertAuthority;
  intermediate: CertAuthority;
  /** Valid leaf issued by the intermediate; serve with its chain (tlsOf(valid)). */
  valid: LeafCert;
  /** notAfter yesterday. */
  expired: LeafCert;
  /** notAfter in 5 days (valid; ftp-doctor should warn TLS_CERT_EXPIRING). */
  expiringSoon: LeafCert;
  /** notBefore tomorrow. */
  notYetValid: LeafCert;
  /** Valid leaf issued by the intermediate, to be served WITHOUT the intermediate (withoutChain). */
  missingIntermediate: LeafCert;
  /** Issued for `ftp.example.net` / `*.provider.example` only. */
  wrongSan: LeafCert;
  /** Self-signed leaf for localhost. */
  selfSigned: LeafCert;
  /** Leaf issued by a CA that nobody trusts. */
  unknownCa: LeafCert;
}

export const LOCAL_SANS: readonly string[] = ["localhost", "127.0.0.1", "::1"];

let fixtures: CertFixtures | undefined;

/** Builds (once per process) every certificate scenario; 5 RSA keys in total. */
export function certFixtures(): CertFixtures {
  if (fixtures) return fixtures;
  const now = Date.now();
  const ca = makeCa("ftp-doctor Test Root CA");
  const intermediate = makeIntermediate(ca, "ftp-doctor Test Intermediate CA");
  const local = { cn: "localhost", sans: LOCAL_SANS };
  fixtures = {
    ca,
    intermediate,
    valid: makeLeaf(intermediate, local),
    expired: makeLeaf(intermediate, { ...local, notBefore: new Date(now - 400 * DAY), notAfter: new Date(now - DAY) }),
    expiringSoon: makeLeaf(intermediate, { ...local, notBefore: new Date(now - 85 * DAY), notAfter: new Date(now + 5 * DAY) }),
    notYetValid: makeLeaf(intermediate, { ...local, notBefore: new Date(now + DAY), notAfter: new Date(now + 90 * DAY) }),
    missingIntermediate: makeLeaf(intermediate, local),
    wrongSan: makeLeaf(intermediate, { cn: "ftp.example.net", sans: ["ftp.example.net", "*.provider.example"] }),
    selfSigned: makeSelfSigned(local),
    unknownCa: makeLeaf(makeCa("Untrusted Other CA"), local),
  };
  return fixtures;
}
