/**
 * Anonymous access while the check logs in with credentials (issue 14): a side connection tries
 * anonymous login and whether that session can write (MKD + RMD of a unique directory).
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { PROFTPD_USER, type RunningServer, startProftpd, startVsftpd, VSFTPD_USER } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { PYFTPDLIB_USER, startPyftpdlib } from "../harness/pyftpdlib.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});
const target = (s: RunningServer) => `127.0.0.1:${s.port}`;

describe("anonymous side check", requirementsOptions(["vsftpd", "proftpd", "python3", "openssl", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  const tls = tlsOf(certs.valid);

  test("vsftpd, local user over FTPS, anonymous read-only too → HEALTHY + ANON_ENABLED (cannot write)", async () => {
    const s = await startVsftpd({ localUsers: true, anonymous: true, tls });
    running.push(s);
    const r = await check(target(s), { tls: "explicit", ca, user: VSFTPD_USER.user }, VSFTPD_USER.password);
    expectVerdict("anonymous open beside a local user", "vsftpd", r, "HEALTHY", { findings: ["ANON_ENABLED"] });
    assert.equal(r.observations.anonymousSide?.status, "accepted");
    assert.equal(r.observations.anonymousSide?.canWrite, false);
    assert.ok(r.observations.controlConnections <= 4, `${r.observations.controlConnections} control connections`);
  });

  test("pyftpdlib, anonymous may create directories → ANON_ENABLED (high), and the test directory is removed", async () => {
    const s = await startPyftpdlib({ anonymous: true, anonPerm: "elrmd" });
    running.push(s);
    const r = await check(target(s), { tls: "off", user: PYFTPDLIB_USER.user }, PYFTPDLIB_USER.password);
    assert.equal(r.observations.anonymousSide?.status, "accepted", JSON.stringify(r.observations.anonymousSide));
    assert.equal(r.observations.anonymousSide?.canWrite, true);
    const finding = r.report.findings.find((f) => f.code === "ANON_ENABLED");
    assert.equal(finding?.severity, "high");
    const anonRoot = path.join(s.dir, "anon");
    assert.deepEqual(
      readdirSync(anonRoot).filter((f) => f.startsWith(".ftp-doctor")),
      [],
      "cleaned up",
    );
  });

  test("ProFTPD without <Anonymous> → refused on the side connection, no finding", async () => {
    const s = await startProftpd({ tls });
    running.push(s);
    const r = await check(target(s), { tls: "explicit", ca, user: PROFTPD_USER.user }, PROFTPD_USER.password);
    expectVerdict("anonymous refused beside a virtual user", "proftpd", r, "HEALTHY");
    // Refused, or not answered before the check ended (ProFTPD's mod_delay holds refused logins).
    const side = r.observations.anonymousSide;
    assert.ok(side?.status === "refused" || (side?.status === "not-run" && /not answered/.test(side.detail ?? "")), JSON.stringify(side));
    assert.ok(!r.report.findings.some((f) => f.code === "ANON_ENABLED"));
  });
});
