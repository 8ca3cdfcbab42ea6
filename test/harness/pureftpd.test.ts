import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { certFixtures, tlsOf } from "./certs.js";
import { stopAndAssertNoStrays } from "./daemon-checks.js";
import { PUREFTPD_USER, startPureFtpd, type RunningServer } from "./daemons.js";
import { requirementsOptions } from "./env.js";
import { curl, ftpTranscript, RawFtpClient } from "./ftpclient.js";
import { startScriptedServer, silentHandler } from "./scripted.js";

describe("pure-ftpd launcher", requirementsOptions(["pure-ftpd", "pure-pw", "unshare", "curl", "openssl", "root"]), () => {
  let server: RunningServer;
  let caFile: string;
  before(async () => {
    const f = certFixtures();
    server = await startPureFtpd({ anonymous: true, tls: tlsOf(f.valid) });
    caFile = path.join(server.dir, "test-ca.pem");
    writeFileSync(caFile, f.ca.certPem);
  });
  after(async () => {
    await server?.stop();
  });

  test("virtual user login, listing and upload over plain FTP (curl)", async () => {
    const auth = ["--user", `${PUREFTPD_USER.user}:${PUREFTPD_USER.password}`];
    const r = await curl([`ftp://${server.host}:${server.port}/`, ...auth]);
    assert.equal(r.code, 0, r.stderr + server.log());
    assert.match(r.stdout, /readme\.txt/);
    const src = path.join(server.dir, "upload-src.txt");
    writeFileSync(src, "hello\n");
    const put = await curl([`ftp://${server.host}:${server.port}/uploaded.txt`, ...auth, "-T", src]);
    assert.equal(put.code, 0, put.stderr);
  });

  test("anonymous listing comes from our anon root, not the ftp user's real home", async () => {
    const r = await curl([`ftp://${server.host}:${server.port}/`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /readme\.txt/);
  });

  test("explicit FTPS with a verified chain (curl --ssl-reqd --cacert, and -k)", async () => {
    const auth = ["--user", `${PUREFTPD_USER.user}:${PUREFTPD_USER.password}`, "--ssl-reqd"];
    const r = await curl([`ftp://localhost:${server.port}/`, ...auth, "--cacert", caFile]);
    assert.equal(r.code, 0, r.stderr + server.log());
    assert.match(r.stdout, /readme\.txt/);
    const k = await curl([`ftp://127.0.0.1:${server.port}/`, ...auth, "-k"]);
    assert.equal(k.code, 0, k.stderr);
  });

  test("reply texts: greeting, login, bad password, anonymous", async () => {
    const ok = await ftpTranscript(server.host, server.port, [`USER ${PUREFTPD_USER.user}`, `PASS ${PUREFTPD_USER.password}`, "PWD"]);
    assert.match(ok[0]?.reply?.lines[0] ?? "", /^220---------- Welcome to Pure-FTPd \[privsep\] \[TLS\] ----------$/);
    assert.deepEqual(
      ok.slice(1).map((e) => e.reply?.text),
      [`331 User ${PUREFTPD_USER.user} OK. Password required`, "230 OK. Current directory is /", '257 "/" is your current location'],
    );
    const started = Date.now();
    const bad = await ftpTranscript(server.host, server.port, [`USER ${PUREFTPD_USER.user}`, "PASS wrong"], 15_000);
    assert.equal(bad[2]?.reply?.text, "530 Login authentication failed", JSON.stringify(bad));
    console.log(`pure-ftpd answered a bad password after ${Date.now() - started} ms`);
    const anon = await ftpTranscript(server.host, server.port, ["USER anonymous", "PASS x@y"]);
    assert.deepEqual(
      anon.slice(1).map((e) => e.reply?.text),
      ["230 Anonymous user logged in", "230 Any password will work"],
    );
    const { client } = await RawFtpClient.connect(server.host, server.port);
    try {
      assert.equal((await client.send("AUTH TLS")).text, "234 AUTH TLS OK.");
      const tlsSocket = await client.upgradeTls({ ca: certFixtures().ca.certPem, servername: "localhost" });
      assert.equal(tlsSocket.authorized, true);
    } finally {
      client.close();
    }
  });

  test('without anonymous: -E treats "anonymous" as an ordinary (unknown) user', async (t) => {
    const s = await startPureFtpd({});
    t.after(() => s.stop());
    // (PASS would give 530 after Pure-FTPd's ~3-4 s failed-login delay; not worth the wait here.)
    const tr = await ftpTranscript(s.host, s.port, ["USER anonymous"]);
    assert.ok(tr[0]?.reply?.lines.includes("220-This is a private system - No anonymous login"), JSON.stringify(tr));
    assert.equal(tr[1]?.reply?.text, "331 User anonymous OK. Password required");
  });

  test("a port in use rejects with pure-ftpd's own words", async (t) => {
    const busy = await startScriptedServer(silentHandler());
    t.after(() => busy.stop());
    await assert.rejects(startPureFtpd({ port: busy.port }), /Unable to start a standalone server: Address already in use/);
  });

  test("stop() ends the daemon and its session processes", async () => {
    const { client } = await RawFtpClient.connect(server.host, server.port);
    await client.send(`USER ${PUREFTPD_USER.user}`);
    await client.send(`PASS ${PUREFTPD_USER.password}`);
    await stopAndAssertNoStrays(server);
    client.close();
  });
});
