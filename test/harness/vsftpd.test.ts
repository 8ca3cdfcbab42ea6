import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { certFixtures, tlsOf } from "./certs.js";
import { stopAndAssertNoStrays } from "./daemon-checks.js";
import { startVsftpd, VSFTPD_USER, type RunningServer } from "./daemons.js";
import { requirementsOptions, tempDir } from "./env.js";
import { curl, ftpTranscript, RawFtpClient } from "./ftpclient.js";

describe("vsftpd launcher", requirementsOptions(["vsftpd", "curl", "openssl", "root"]), () => {
  let server: RunningServer;
  let caFile: string;
  before(async () => {
    const f = certFixtures();
    server = await startVsftpd({ anonymous: true, localUsers: true, tls: tlsOf(f.valid) });
    caFile = path.join(server.dir, "test-ca.pem");
    writeFileSync(caFile, f.ca.certPem);
  });
  after(async () => {
    await server?.stop();
  });

  test("anonymous listing over plain FTP (curl)", async () => {
    const r = await curl([`ftp://${server.host}:${server.port}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /readme\.txt/);
    assert.match(r.stdout, /data\.bin/);
  });

  test("local user over explicit FTPS with a verified chain (curl --ssl-reqd --cacert)", async () => {
    const url = `ftp://localhost:${server.port}/`;
    const auth = ["--user", `${VSFTPD_USER.user}:${VSFTPD_USER.password}`, "--ssl-reqd", "--cacert", caFile];
    const list = await curl([url, ...auth]);
    assert.equal(list.code, 0, list.stderr + server.log());
    assert.match(list.stdout, /readme\.txt/);
    const upload = path.join(server.dir, "upload-src.txt");
    writeFileSync(upload, "hello\n");
    const put = await curl([`${url}uploaded.txt`, ...auth, "-T", upload]);
    assert.equal(put.code, 0, put.stderr);
    const insecure = await curl([
      `ftp://127.0.0.1:${server.port}/`,
      "--user",
      `${VSFTPD_USER.user}:${VSFTPD_USER.password}`,
      "--ssl-reqd",
      "-k",
    ]);
    assert.equal(insecure.code, 0, insecure.stderr);
  });

  test("reply texts: greeting, plain login refused, bad password, TLS login", async () => {
    const plain = await ftpTranscript(server.host, server.port, [`USER ${VSFTPD_USER.user}`]);
    assert.equal(plain[0]?.reply?.text, "220 (vsFTPd 3.0.3)");
    // ssl_enable=YES keeps force_local_logins_ssl=YES: FTPS_REQUIRED as on a real server.
    assert.equal(plain[1]?.reply?.text, "530 Non-anonymous sessions must use encryption.");

    const { client } = await RawFtpClient.connect(server.host, server.port);
    try {
      assert.equal((await client.send("AUTH TLS")).text, "234 Proceed with negotiation.");
      await client.upgradeTls({ ca: certFixtures().ca.certPem, servername: "localhost" });
      assert.equal((await client.send(`USER ${VSFTPD_USER.user}`)).text, "331 Please specify the password.");
      assert.equal((await client.send("PASS wrong")).text, "530 Login incorrect.");
    } finally {
      client.close();
    }
    const anon = await ftpTranscript(server.host, server.port, ["USER anonymous", "PASS guest@example.com", "SYST", "PWD"]);
    assert.deepEqual(
      anon.map((e) => e.reply?.text),
      [
        "220 (vsFTPd 3.0.3)",
        "331 Please specify the password.",
        "230 Login successful.",
        "215 UNIX Type: L8",
        '257 "/" is the current directory',
      ],
    );
  });

  test("log() has the protocol log", () => {
    const log = server.log();
    assert.match(log, /OK LOGIN: Client "127\.0\.0\.1", anon password/);
    assert.match(log, /FTP response: Client "127\.0\.0\.1", "530 Login incorrect\."/);
  });

  test("a bad config rejects with vsftpd's own words", async () => {
    await assert.rejects(
      startVsftpd({ extra: { no_such_option: true } }),
      /500 OOPS: unrecognised variable in config file: no_such_option/,
    );
  });

  test("a missing anon_root is reported at login, like a real misconfiguration", async (t) => {
    const dir = tempDir(t);
    const s = await startVsftpd({ anonRoot: path.join(dir, "missing") });
    t.after(() => s.stop());
    const tr = await ftpTranscript(s.host, s.port, ["USER anonymous", "PASS x@y"]);
    assert.equal(tr[2]?.reply?.text, `500 OOPS: cannot change directory:${path.join(dir, "missing")}`);
  });

  test("stop() ends the daemon and its session processes", async () => {
    const { client } = await RawFtpClient.connect(server.host, server.port);
    await client.send("USER anonymous");
    await client.send("PASS x@y");
    await stopAndAssertNoStrays(server);
    client.close();
  });
});
