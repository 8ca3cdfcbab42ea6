import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { certFixtures, tlsOf } from "./certs.js";
import { stopAndAssertNoStrays } from "./daemon-checks.js";
import { PROFTPD_USER, startProftpd, type RunningServer } from "./daemons.js";
import { requirementsOptions } from "./env.js";
import { curl, ftpTranscript, RawFtpClient } from "./ftpclient.js";

describe("proftpd launcher", requirementsOptions(["proftpd", "curl", "openssl", "root"]), () => {
  let server: RunningServer;
  let caFile: string;
  before(async () => {
    const f = certFixtures();
    server = await startProftpd({ anonymous: true, tls: tlsOf(f.valid) });
    caFile = path.join(server.dir, "test-ca.pem");
    writeFileSync(caFile, f.ca.certPem);
  });
  after(async () => {
    await server?.stop();
  });

  test("user login, listing and upload over plain FTP (curl)", async () => {
    const auth = ["--user", `${PROFTPD_USER.user}:${PROFTPD_USER.password}`];
    const r = await curl([`ftp://${server.host}:${server.port}/`, ...auth]);
    assert.equal(r.code, 0, r.stderr + server.log());
    assert.match(r.stdout, /readme\.txt/);
    const src = path.join(server.dir, "upload-src.txt");
    writeFileSync(src, "hello\n");
    const put = await curl([`ftp://${server.host}:${server.port}/uploaded.txt`, ...auth, "-T", src]);
    assert.equal(put.code, 0, put.stderr);
  });

  test("anonymous listing (curl)", async () => {
    const r = await curl([`ftp://${server.host}:${server.port}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /readme\.txt/);
  });

  test("explicit FTPS with a verified chain (curl --ssl-reqd --cacert, and -k)", async () => {
    const auth = ["--user", `${PROFTPD_USER.user}:${PROFTPD_USER.password}`, "--ssl-reqd"];
    const r = await curl([`ftp://localhost:${server.port}/`, ...auth, "--cacert", caFile]);
    assert.equal(r.code, 0, r.stderr + server.log());
    assert.match(r.stdout, /readme\.txt/);
    const k = await curl([`ftp://127.0.0.1:${server.port}/`, ...auth, "-k"]);
    assert.equal(k.code, 0, k.stderr);
  });

  test("reply texts: greeting, login, bad password, anonymous", async () => {
    const ok = await ftpTranscript(server.host, server.port, [
      `USER ${PROFTPD_USER.user}`,
      `PASS ${PROFTPD_USER.password}`,
      "SYST",
      "CWD /nonexistent",
    ]);
    assert.deepEqual(
      ok.map((e) => e.reply?.text),
      [
        `220 ProFTPD Server (ftp-doctor test) [${server.host}]`,
        `331 Password required for ${PROFTPD_USER.user}`,
        `230 User ${PROFTPD_USER.user} logged in`,
        "215 UNIX Type: L8",
        "550 /nonexistent: No such file or directory",
      ],
    );
    const bad = await ftpTranscript(server.host, server.port, [`USER ${PROFTPD_USER.user}`, "PASS wrong"]);
    assert.equal(bad[2]?.reply?.text, "530 Login incorrect.");
    const anon = await ftpTranscript(server.host, server.port, ["USER anonymous", "PASS guest@example.com"]);
    assert.deepEqual(
      anon.slice(1).map((e) => e.reply?.text),
      ["331 Anonymous login ok, send your complete email address as your password", "230 Anonymous access granted, restrictions apply"],
    );
    const { client } = await RawFtpClient.connect(server.host, server.port);
    try {
      assert.equal((await client.send("AUTH TLS")).text, "234 AUTH TLS successful");
      const tlsSocket = await client.upgradeTls({ ca: certFixtures().ca.certPem, servername: "localhost" });
      assert.equal(tlsSocket.authorized, true);
    } finally {
      client.close();
    }
  });

  test("log() has the system and extended logs", () => {
    const log = server.log();
    assert.match(log, /USER alice: Login successful/);
    assert.match(log, /"PASS \(hidden\)" 530/);
  });

  test("a bad directive rejects with proftpd's own words", async () => {
    await assert.rejects(startProftpd({ extra: { NoSuchDirective: "on" } }), /fatal: unknown configuration directive 'NoSuchDirective'/);
  });

  test("stop() ends the daemon and its session processes", async () => {
    const { client } = await RawFtpClient.connect(server.host, server.port);
    await client.send(`USER ${PROFTPD_USER.user}`);
    await client.send(`PASS ${PROFTPD_USER.password}`);
    await stopAndAssertNoStrays(server);
    client.close();
  });
});
