import assert from "node:assert/strict";
import net from "node:net";
import { describe, test } from "node:test";
import { certFixtures, tlsOf } from "./certs.js";
import { FtpClosedError, FtpTimeoutError, RawFtpClient } from "./ftpclient.js";
import {
  closeAtOnceHandler,
  httpHandler,
  hugeGreetingHandler,
  silentHandler,
  sshBannerHandler,
  startFakeFtp,
  startScriptedServer,
} from "./scripted.js";

/** Connects and collects what the server sends within `ms` (or until it closes). */
function collect(port: number, ms: number, send?: string): Promise<{ data: Buffer; closed: boolean; error: string | null }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const s = net.connect(port, "127.0.0.1", () => {
      if (send !== undefined) s.write(send);
    });
    const done = (closed: boolean, error: string | null): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(chunks), closed, error });
    };
    const timer = setTimeout(() => done(false, null), ms);
    s.on("data", (d: Buffer) => {
      size += d.length;
      if (size < 64 * 1024) chunks.push(d);
    });
    s.on("end", () => done(true, null));
    s.on("error", (e: NodeJS.ErrnoException) => done(true, e.code ?? e.message));
  });
}

describe("scripted servers", () => {
  test("fake FTP: greeting, replies, fallback, multi-line, close", async (t) => {
    const fake = await startFakeFtp({
      greeting: "220-Welcome\n220 FileZilla Server 1.8.0",
      replies: {
        USER: (arg) => (arg === "alice" ? "331 Password required" : "530 No such user"),
        PASS: { reply: "530 Login incorrect.", delayMs: 50 },
        FEAT: "211-Features:\n AUTH TLS\n211 End",
        QUIT: { reply: "221 Bye", close: true },
      },
    });
    t.after(() => fake.stop());
    const { client, greeting } = await RawFtpClient.connect(fake.host, fake.port);
    assert.deepEqual(greeting, {
      code: 220,
      text: "220-Welcome\n220 FileZilla Server 1.8.0",
      lines: ["220-Welcome", "220 FileZilla Server 1.8.0"],
    });
    assert.equal((await client.send("USER alice")).text, "331 Password required");
    assert.equal((await client.send("PASS x")).code, 530);
    assert.equal((await client.send("FEAT")).lines.length, 3);
    assert.equal((await client.send("NOOP")).text, "502 Command not implemented.");
    assert.equal((await client.send("QUIT")).code, 221);
    await assert.rejects(client.readReply(1000), FtpClosedError);
    assert.deepEqual(fake.received, ["USER alice", "PASS x", "FEAT", "NOOP", "QUIT"]);
    assert.equal(fake.connections(), 1);
  });

  test("fake FTP: AUTH TLS upgrades the control connection", async (t) => {
    const f = certFixtures();
    const fake = await startFakeFtp({
      greeting: "220 ready",
      replies: { AUTH: { reply: "234 AUTH TLS OK.", startTls: tlsOf(f.valid) }, USER: "331 ok", PBSZ: "200 PBSZ=0" },
    });
    t.after(() => fake.stop());
    const { client } = await RawFtpClient.connect(fake.host, fake.port);
    assert.equal((await client.send("AUTH TLS")).code, 234);
    const secure = await client.upgradeTls({ ca: f.ca.certPem, servername: "localhost" });
    assert.equal(secure.authorized, true);
    assert.equal((await client.send("USER bob")).text, "331 ok");
    assert.equal((await client.send("PBSZ 0")).text, "200 PBSZ=0");
    client.close();
  });

  test("fake FTP: 234 then a stalled handshake times out", async (t) => {
    const fake = await startFakeFtp({ greeting: "220 ready", replies: { AUTH: { reply: "234 go ahead", stall: true } } });
    t.after(() => fake.stop());
    const { client } = await RawFtpClient.connect(fake.host, fake.port, { timeoutMs: 500 });
    assert.equal((await client.send("AUTH TLS")).code, 234);
    await assert.rejects(client.upgradeTls({ rejectUnauthorized: false }), FtpTimeoutError);
    client.close();
  });

  test("silent server: no greeting", async (t) => {
    const srv = await startScriptedServer(silentHandler());
    t.after(() => srv.stop());
    await assert.rejects(RawFtpClient.connect(srv.host, srv.port, { timeoutMs: 300 }), FtpTimeoutError);
  });

  test("close at once: FIN, or RST", async (t) => {
    const fin = await startScriptedServer(closeAtOnceHandler());
    const rst = await startScriptedServer(closeAtOnceHandler("rst"));
    t.after(() => Promise.all([fin.stop(), rst.stop()]));
    const a = await collect(fin.port, 2000);
    assert.deepEqual([a.data.length, a.closed, a.error], [0, true, null]);
    const b = await collect(rst.port, 2000);
    assert.deepEqual([b.data.length, b.closed, b.error], [0, true, "ECONNRESET"]);
  });

  test("SSH banner and HTTP server", async (t) => {
    const ssh = await startScriptedServer(sshBannerHandler());
    const http = await startScriptedServer(httpHandler());
    t.after(() => Promise.all([ssh.stop(), http.stop()]));
    assert.match((await collect(ssh.port, 500)).data.toString(), /^SSH-2\.0-OpenSSH/);
    const quiet = await collect(http.port, 300);
    assert.equal(quiet.data.length, 0);
    const answered = await collect(http.port, 2000, "USER anonymous\r\n");
    assert.match(answered.data.toString(), /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.equal(answered.closed, true);
  });

  test("10 MB greeting arrives in full when read; stop() ends a stalled writer", async () => {
    const srv = await startScriptedServer(hugeGreetingHandler(10 * 1024 * 1024));
    const total = await new Promise<number>((resolve, reject) => {
      let n = 0;
      const s = net.connect(srv.port, "127.0.0.1");
      s.on("data", (d: Buffer) => {
        n += d.length;
        if (n >= 10 * 1024 * 1024) {
          s.destroy();
          resolve(n);
        }
      });
      s.on("error", reject);
      setTimeout(() => reject(new Error(`only ${n} bytes`)), 10_000).unref();
    });
    assert.ok(total >= 10 * 1024 * 1024);
    // A client that never reads leaves the server blocked on backpressure: stop() must still end.
    const lazy = net.connect(srv.port, "127.0.0.1");
    lazy.pause();
    lazy.on("error", () => undefined);
    await new Promise((r) => setTimeout(r, 100));
    await srv.stop();
    lazy.destroy();
  });

  test("implicit TLS scripted server", async (t) => {
    const f = certFixtures();
    const srv = await startScriptedServer((s) => s.end("220 implicit\r\n"), { tls: tlsOf(f.valid) });
    t.after(() => srv.stop());
    const { greeting, client } = await RawFtpClient.connect("127.0.0.1", srv.port, {
      implicitTls: { ca: f.ca.certPem, servername: "localhost" },
    });
    assert.equal(greeting.text, "220 implicit");
    client.close();
    // Plain FTP to an implicit-TLS port: silence.
    await assert.rejects(RawFtpClient.connect("127.0.0.1", srv.port, { timeoutMs: 300 }), FtpTimeoutError);
  });
});
