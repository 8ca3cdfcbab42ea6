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
import { CheckOptionsInput, toCheckOptions } from "../../src/check/options.js";
import { runCheck } from "../../src/check/run.js";
import { parseTarget } from "../../src/target/parse.js";
import { check, expectVerdict, pemFile } from "./lib.js";

const running: RunningServer[] = [];
after(async () => {
  await Promise.all(running.map((s) => s.stop()));
});

describe("TLS session reuse requirement: vsftpd", requirementsOptions(["vsftpd", "root"]), () => {
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  const run = async (reuse: boolean, password = VSFTPD_USER.password) => {
    const s = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid), extra: { require_ssl_reuse: reuse } });
    running.push(s);
    return check(`127.0.0.1:${s.port}`, { tls: "explicit", ca, user: VSFTPD_USER.user }, password);
  };
  const sent = (r: Awaited<ReturnType<typeof run>>, conn: string) =>
    r.observations.transcript.filter((l) => l.conn === conn && l.dir === ">").map((l) => l.text.split(" ")[0]);

  test("require_ssl_reuse=YES → HEALTHY with TLS_REUSE_REQUIRED", async () => {
    const r = await run(true);
    expectVerdict("require_ssl_reuse=YES", "vsftpd", r, "HEALTHY", { findings: ["TLS_REUSE_REQUIRED"] });
    assert.equal(r.observations.data?.dataTls?.reused, true, "the main listing resumed");
    assert.equal(r.observations.tlsReuse?.status, "required");
    assert.match(r.observations.tlsReuse?.reply?.text ?? "", /session reuse required/);
    // Its own session, beside the main one: the main session never saw the refusal.
    assert.deepEqual(sent(r, "reuse"), ["AUTH", "USER", "PASS", "PBSZ", "PROT", "EPSV", "LIST", "QUIT"]);
    assert.equal(sent(r, "ctl").filter((c) => c === "LIST").length, 1, "one listing on the main session");
    assert.ok(r.observations.controlConnections <= 4, `${r.observations.controlConnections} control connections`);
  });

  test("wrong password → AUTH_FAILED; the reuse session never sends the credentials", async () => {
    const r = await run(true, "not-the-password");
    expectVerdict("wrong password", "vsftpd", r, "AUTH_FAILED");
    assert.equal(sent(r, "ctl").filter((c) => c === "PASS").length, 1, "one failed login, not two");
    assert.ok(!sent(r, "reuse").includes("USER") && !sent(r, "reuse").includes("PASS"), sent(r, "reuse").join(" "));
    assert.equal(r.observations.tlsReuse?.status, "not-run");
    assert.ok(!r.report.findings.some((f) => f.code === "TLS_REUSE_REQUIRED"));
  });

  test("max_per_ip 1 and 2: the side sessions are refused, never the main one; HEALTHY, and they say why", async () => {
    // A check opens up to 4 control connections; a server's per-IP limit must cost only side answers.
    for (const limit of [1, 2]) {
      const s = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid), extra: { max_per_ip: limit } });
      running.push(s);
      const r = await check(`127.0.0.1:${s.port}`, { tls: "explicit", ca, user: VSFTPD_USER.user }, VSFTPD_USER.password);
      expectVerdict(`max_per_ip=${limit}, FTPS with a user`, "vsftpd", r, "HEALTHY");
      assert.equal(r.observations.data?.status, "ok");
      assert.notEqual(r.observations.tlsReuse?.status, "required");
      if (limit === 1) assert.match(r.observations.tlsReuse?.detail ?? "", /421 There are too many connections/);
      assert.ok(!r.report.findings.some((f) => f.code === "TLS_REUSE_REQUIRED" || f.code === "ANON_ENABLED"));
    }
  });

  test("a second check of the same server within the hour remembers the answer: no second login, same finding", async () => {
    const s = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid), extra: { require_ssl_reuse: true } });
    running.push(s);
    const first = await check(`127.0.0.1:${s.port}`, { tls: "explicit", ca, user: VSFTPD_USER.user }, VSFTPD_USER.password);
    assert.equal(first.observations.tlsReuse?.status, "required");
    // check() forgets between scenarios; a worker does not: the engine's own entry point, twice.
    const options = toCheckOptions(CheckOptionsInput.parse({ tls: "explicit", ca, user: VSFTPD_USER.user }));
    const again = await runCheck(parseTarget(`127.0.0.1:${s.port}`), options, { password: VSFTPD_USER.password });
    assert.equal(again.observations.tlsReuse?.status, "required");
    assert.ok(again.observations.tlsReuse?.askedAt, "marked as remembered");
    assert.ok(
      again.report.steps.some((st) => st.id === "side" && /session resumption: .*asked 0 min ago/.test(st.detail)),
      "the steps say so",
    );
    assert.ok(again.report.findings.some((f) => f.code === "TLS_REUSE_REQUIRED"));
    assert.deepEqual(
      again.observations.transcript.filter((l) => l.conn === "reuse" && l.dir !== "*"),
      [],
      "no reuse session this time",
    );
    assert.equal(again.observations.controlConnections, first.observations.controlConnections - 1);
  });

  test("logins delayed 2 s (delay_successful_login): the verdict does not wait for the second login", async () => {
    const s = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid), extra: { delay_successful_login: 2 } });
    running.push(s);
    const r = await check(`127.0.0.1:${s.port}`, { tls: "explicit", ca, user: VSFTPD_USER.user }, VSFTPD_USER.password);
    expectVerdict("delay_successful_login=2", "vsftpd", r, "HEALTHY");
    assert.equal(r.observations.tlsReuse?.status, "not-run");
    assert.match(r.observations.tlsReuse?.detail ?? "", /not answered before the check ended/);
    // The main login's own 2 s, not a second one on top: the check ends a grace after the main session.
    const quit = r.observations.steps.find((st) => st.id === "quit")!;
    assert.ok(r.observations.durationMs - (quit.startMs + quit.durationMs) < 1500, JSON.stringify(r.observations.steps));
  });

  test("require_ssl_reuse=NO → HEALTHY, no reuse finding", async () => {
    const r = await run(false);
    expectVerdict("require_ssl_reuse=NO", "vsftpd", r, "HEALTHY");
    assert.equal(r.observations.tlsReuse?.status, "not-required");
    assert.ok(!r.report.findings.some((f) => f.code === "TLS_REUSE_REQUIRED"));
  });
});
