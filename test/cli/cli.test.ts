/** The `ftp-doctor check` front as a user runs it: a real process, real servers, exit codes, JSON. */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { requirementsOptions } from "../harness/env.js";
import { startVsftpd, VSFTPD_USER, type RunningServer } from "../harness/daemons.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { startScriptedServer, silentHandler, type ScriptedServer } from "../harness/scripted.js";
import { pemFile } from "../scenarios/lib.js";
import { runCli } from "./run.js";

const servers: { stop(): Promise<void> }[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

describe("ftp-doctor check (process)", () => {
  test("bad usage and bad input: exit 2, one clear line, no stack trace", async () => {
    const cases: [string[], RegExp][] = [
      [[], /Usage: ftp-doctor/],
      [["check"], /needs a target/],
      [["check", "ftp://x:secret@host"], /contains a password/],
      [["check", "host:99999"], /out of range/],
      [["check", "sftp://host"], /SSH file transfer/],
      [["check", "host", "--tls", "maybe"], /--tls: Invalid option: expected one of "auto"/],
      [["check", "host", "--timeout", "5"], /--timeout: must be at least 1000 ms/],
      [["check", "host", "--bogus"], /Unknown option '--bogus'/],
      [["check", "host", "--user", "u", "--password-env", "NOPE_NOT_SET"], /NOPE_NOT_SET .* is not set/],
      [["check", "host", "--ca", "/nonexistent.pem"], /--ca: file not found/],
      [["check", "host", "--allow-data-host", "10.0.0.0/99"], /--allow-data-host/],
      [["frobnicate"], /unknown command "frobnicate"/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(" ")}: exit ${r.code}\n${r.stderr}`);
      const text = r.stderr + r.stdout;
      assert.match(text, re, args.join(" "));
      assert.ok(!/\n\s+at .+\(.+:\d+:\d+\)/.test(text), `stack trace printed for ${args.join(" ")}`);
    }
  });

  test("--json on a healthy FTPS server: exit 0, documented shape, no password anywhere", {
    ...requirementsOptions(["vsftpd", "root"]),
  }, async () => {
    const certs = certFixtures();
    const s: RunningServer = await startVsftpd({ localUsers: true, tls: tlsOf(certs.valid) });
    servers.push(s);
    const ca = pemFile("cli-ca.pem", certs.ca.certPem);
    const r = await runCli(["check", `127.0.0.1:${s.port}`, "--json", "--user", VSFTPD_USER.user, "--password-env", "FTP_PW", "--ca", ca], {
      FTP_PW: VSFTPD_USER.password,
    });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const j = JSON.parse(r.stdout) as Record<string, unknown> & {
      verdict: Record<string, unknown>;
      steps: Record<string, unknown>[];
      server: Record<string, unknown>;
    };
    for (const k of ["target", "verdict", "findings", "steps", "server", "durationMs"]) assert.ok(k in j, `missing ${k}`);
    for (const k of ["code", "layer", "title", "explanation", "evidence", "remediation"]) assert.ok(k in j.verdict, `verdict.${k}`);
    for (const k of ["id", "status", "durationMs", "detail"]) assert.ok(k in j.steps[0]!, `steps[].${k}`);
    assert.equal(j.verdict.code, "HEALTHY");
    assert.equal(j.server.software, "vsftpd");
    assert.ok(!r.stdout.includes(VSFTPD_USER.password) && !r.stderr.includes(VSFTPD_USER.password), "password leaked into output");
    assert.ok(r.stdout.includes("PASS ****"), "transcript shows the redacted PASS");
  });

  test("human output of a fault: exit 1, fits 80 columns, evidence and fix shown", async () => {
    const s: ScriptedServer = await startScriptedServer(silentHandler());
    servers.push(s);
    const r = await runCli(["check", `127.0.0.1:${s.port}`, "--verbose", "--transcript"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /BANNER_TIMEOUT/);
    assert.match(r.stdout, /Evidence/);
    assert.match(r.stdout, /Fix/);
    const ESC = String.fromCharCode(27);
    for (const line of r.stdout.split("\n")) {
      const visible = line
        .split(ESC)
        .map((part, i) => (i === 0 ? part : part.replace(/^\[[0-9;]*m/, "")))
        .join("");
      assert.ok(visible.length <= 80, `line wider than 80 columns: ${visible}`);
    }
  });

  test("refused port: verdict in well under a second", async () => {
    const r = await runCli(["check", "127.0.0.1:1", "--json"]);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { verdict: { code: string } }).verdict.code, "TCP_REFUSED");
  });
});
