/**
 * TLS session reuse on data connections (issue 14): the engine resumes, so a server that demands
 * it works for us; one more data connection with a fresh session tells whether clients that do not
 * resume (Python ftplib, many Java/.NET libraries) fail.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { type RunningServer, startVsftpd, VSFTPD_USER } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

describe("TLS session reuse requirement: vsftpd", requirementsOptions(["vsftpd", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  const run = async (reuse: boolean) => {
    const s = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid), extra: { require_ssl_reuse: reuse } });
    running.push(s);
    return check(`127.0.0.1:${s.port}`, { tls: "explicit", ca, user: VSFTPD_USER.user }, VSFTPD_USER.password);
  };

  test("require_ssl_reuse=YES → HEALTHY with TLS_REUSE_REQUIRED", async () => {
    const r = await run(true);
    expectVerdict("require_ssl_reuse=YES", "vsftpd", r, "HEALTHY", { findings: ["TLS_REUSE_REQUIRED"] });
    assert.equal(r.observations.data?.dataTls?.reused, true, "the main listing resumed");
    assert.equal(r.observations.tlsReuse?.status, "required");
    assert.match(r.observations.tlsReuse?.reply?.text ?? "", /session reuse required/);
  });

  test("require_ssl_reuse=NO → HEALTHY, no reuse finding", async () => {
    const r = await run(false);
    expectVerdict("require_ssl_reuse=NO", "vsftpd", r, "HEALTHY");
    assert.equal(r.observations.tlsReuse?.status, "not-required");
    assert.ok(!r.report.findings.some((f) => f.code === "TLS_REUSE_REQUIRED"));
  });
});
