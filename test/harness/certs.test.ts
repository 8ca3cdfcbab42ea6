import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import tls from "node:tls";
import { after, before, describe, test } from "node:test";
import { certFixtures, generatedKeyCount, makeCa, makeIntermediate, makeLeaf, tlsOf, withoutChain, type TlsMaterial } from "./certs.js";
import { startScriptedServer, type ScriptedServer } from "./scripted.js";

const DAY = 86_400_000;

/** Handshake against a TLS server serving `material`; resolves to Node's verdict. */
async function handshake(
  material: TlsMaterial,
  ca: string,
  servername = "localhost",
): Promise<{ authorized: boolean; error: string | null; chain: string[] }> {
  const server: ScriptedServer = await startScriptedServer((s) => s.end(), { tls: material });
  try {
    return await new Promise((resolve, reject) => {
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca, servername, rejectUnauthorized: false }, () => {
        const chain: string[] = [];
        let c: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
        const seen = new Set<string>();
        while (c?.fingerprint256 && !seen.has(c.fingerprint256)) {
          seen.add(c.fingerprint256);
          chain.push(String(c.subject.CN));
          c = c.issuerCertificate;
        }
        // authorizationError is an Error whose code (and message) is OpenSSL's name for it.
        const err = socket.authorizationError as (Error & { code?: string }) | string | null | undefined;
        const error = err === null || err === undefined ? null : typeof err === "string" ? err : (err.code ?? err.message);
        resolve({ authorized: socket.authorized, error, chain });
        socket.destroy();
      });
      socket.once("error", reject);
      socket.setTimeout(5000, () => reject(new Error("handshake timeout")));
    });
  } finally {
    await server.stop();
  }
}

/** Node's own check for the name, as tls.connect does it. */
function hostnameError(material: TlsMaterial, name: string): string | undefined {
  const cert = new X509Certificate(material.certPem);
  return (
    tls.checkServerIdentity(name, {
      subject: { CN: cert.subject.split("CN=")[1]?.split("\n")[0] ?? "" },
      subjectaltname: cert.subjectAltName ?? "",
    } as tls.PeerCertificate) as (Error & { code?: string }) | undefined
  )?.code;
}

describe("certs", () => {
  let f: ReturnType<typeof certFixtures>;
  before(() => {
    f = certFixtures();
  });
  after(() => {
    assert.ok(generatedKeyCount() <= 6, `generated ${generatedKeyCount()} RSA keys`);
  });

  test("a valid chain for localhost and 127.0.0.1 verifies", async () => {
    const leaf = new X509Certificate(f.valid.certPem);
    const inter = new X509Certificate(f.intermediate.certPem);
    const root = new X509Certificate(f.ca.certPem);
    assert.ok(leaf.verify(inter.publicKey));
    assert.ok(inter.verify(root.publicKey));
    assert.equal(leaf.checkHost("localhost"), "localhost");
    assert.equal(leaf.checkIP("127.0.0.1"), "127.0.0.1");
    assert.equal(leaf.ca, false);
    assert.equal(inter.ca, true);
    const r = await handshake(tlsOf(f.valid), f.ca.certPem);
    assert.deepEqual(r, {
      authorized: true,
      error: null,
      chain: ["localhost", "ftp-doctor Test Intermediate CA", "ftp-doctor Test Root CA"],
    });
  });

  test("expired leaf → CERT_HAS_EXPIRED", async () => {
    assert.ok(new Date(new X509Certificate(f.expired.certPem).validTo).getTime() < Date.now());
    assert.equal((await handshake(tlsOf(f.expired), f.ca.certPem)).error, "CERT_HAS_EXPIRED");
  });

  test("expiring-in-5-days leaf is valid and ends in 5 days", async () => {
    const left = new Date(new X509Certificate(f.expiringSoon.certPem).validTo).getTime() - Date.now();
    assert.ok(left > 4.9 * DAY && left <= 5 * DAY + 1000, `expires in ${left / DAY} days`);
    assert.equal((await handshake(tlsOf(f.expiringSoon), f.ca.certPem)).authorized, true);
  });

  test("not-yet-valid leaf → CERT_NOT_YET_VALID", async () => {
    assert.equal((await handshake(tlsOf(f.notYetValid), f.ca.certPem)).error, "CERT_NOT_YET_VALID");
  });

  test("leaf served without its intermediate → UNABLE_TO_VERIFY_LEAF_SIGNATURE", async () => {
    const r = await handshake(withoutChain(f.missingIntermediate), f.ca.certPem);
    assert.equal(r.error, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert.deepEqual(r.chain, ["localhost"]);
  });

  test("wrong-SAN leaf is trusted but fails the hostname check", async () => {
    // Node folds the name check into authorizationError; the chain itself is fine.
    assert.equal((await handshake(tlsOf(f.wrongSan), f.ca.certPem)).error, "ERR_TLS_CERT_ALTNAME_INVALID");
    assert.equal((await handshake(tlsOf(f.wrongSan), f.ca.certPem, "ftp.example.net")).authorized, true);
    assert.equal(hostnameError(tlsOf(f.wrongSan), "localhost"), "ERR_TLS_CERT_ALTNAME_INVALID");
    assert.equal(hostnameError(tlsOf(f.wrongSan), "a.provider.example"), undefined);
    assert.equal(hostnameError(tlsOf(f.valid), "localhost"), undefined);
  });

  test("self-signed leaf → DEPTH_ZERO_SELF_SIGNED_CERT, trusted when pinned", async () => {
    assert.equal((await handshake(tlsOf(f.selfSigned), f.ca.certPem)).error, "DEPTH_ZERO_SELF_SIGNED_CERT");
    assert.equal((await handshake(tlsOf(f.selfSigned), f.selfSigned.certPem)).authorized, true);
  });

  test("leaf from an unknown CA → UNABLE_TO_VERIFY_LEAF_SIGNATURE", async () => {
    assert.equal((await handshake(tlsOf(f.unknownCa), f.ca.certPem)).error, "UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    assert.equal((await handshake(tlsOf(f.unknownCa), f.unknownCa.rootPem)).authorized, true);
  });

  test("keys are cached: a new leaf costs no new RSA key", () => {
    const before = generatedKeyCount();
    const ca = makeCa("ftp-doctor Test Root CA");
    const leaf = makeLeaf(makeIntermediate(ca, "ftp-doctor Test Intermediate CA"), {
      cn: "x",
      sans: ["x.test"],
      notAfter: new Date(Date.now() + DAY),
    });
    assert.equal(generatedKeyCount(), before);
    assert.equal(leaf.fullChainPem, leaf.certPem + leaf.chainPem);
    assert.match(leaf.keyPem, /^-----BEGIN PRIVATE KEY-----/);
  });
});
