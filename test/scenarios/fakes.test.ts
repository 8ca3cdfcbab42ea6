/**
 * Faults no Debian daemon produces on demand (or not on loopback): small Node servers that
 * speak just enough FTP. Each asserts the exact verdict code.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import {
  closeAtOnceHandler,
  httpHandler,
  silentHandler,
  sshBannerHandler,
  startFakeFtp,
  startScriptedServer,
  type ScriptedServer,
} from "../harness/scripted.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { LOGIN, passive } from "../hostile/servers.js";
import { check, expectVerdict } from "./lib.js";

const servers: ScriptedServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});
async function keep<T extends ScriptedServer>(s: Promise<T>): Promise<T> {
  const v = await s;
  servers.push(v);
  return v;
}

describe("scripted servers", () => {
  test("SSH banner on the FTP port → NOT_FTP_SSH", async () => {
    const s = await keep(startScriptedServer(sshBannerHandler()));
    expectVerdict("ssh banner", "node", await check(`127.0.0.1:${s.port}`), "NOT_FTP_SSH");
  });

  test("HTTP server on the FTP port → NOT_FTP_HTTP", async () => {
    const s = await keep(startScriptedServer(httpHandler()));
    const r = await check(`127.0.0.1:${s.port}`, { timeout: 5000 });
    expectVerdict("http server", "node", r, "NOT_FTP_HTTP");
    assert.match(r.report.verdict.evidence.join(" "), /HTTP\/1\.1 400/);
  });

  test("silent port → BANNER_TIMEOUT, decided in about two seconds", async () => {
    const s = await keep(startScriptedServer(silentHandler()));
    const r = await check(`127.0.0.1:${s.port}`);
    expectVerdict("silent port", "node", r, "BANNER_TIMEOUT");
    assert.ok(r.wallMs < 4000, `took ${r.wallMs} ms`);
  });

  test("silent port with a 3 s budget stays within budget + 1 s", async () => {
    const s = await keep(startScriptedServer(silentHandler()));
    expectVerdict("silent port, 1.2 s budget", "node", await check(`127.0.0.1:${s.port}`, { timeout: 1200 }), "BANNER_TIMEOUT");
  });

  test("closed at once → CONNECTION_CLOSED", async () => {
    const s = await keep(startScriptedServer(closeAtOnceHandler("fin")));
    expectVerdict("closed at once", "node", await check(`127.0.0.1:${s.port}`), "CONNECTION_CLOSED");
  });

  test("tcp_wrappers denial at greeting → CONNECTION_CLOSED", async () => {
    const s = await keep(startFakeFtp({ greeting: "421 Connection refused: tcp_wrappers denial." }));
    expectVerdict("tcp_wrappers 421", "node", await check(`127.0.0.1:${s.port}`), "CONNECTION_CLOSED");
  });

  test("234 then a handshake that never completes → TLS_HANDSHAKE_STALL, plain FTP shown to work", async () => {
    const s = await keep(
      startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, AUTH: { reply: "234 AUTH TLS OK.", stall: true } } }),
    );
    const r = await check(`127.0.0.1:${s.port}`);
    expectVerdict("tls stall after 234", "node", r, "TLS_HANDSHAKE_STALL");
    assert.equal(r.observations.tls?.plainCheck?.status, "ok");
  });

  test("EPSV port closed while PASV works → EPSV_BROKEN", async () => {
    const p = passive();
    const s = await keep(
      startFakeFtp({
        greeting: "220 FTP ready",
        replies: {
          ...LOGIN,
          ...p,
          // A balancer that maps PASV but not EPSV: the EPSV port has nothing behind it.
          EPSV: async () => {
            const tmp = net.createServer();
            await new Promise<void>((r) => tmp.listen(0, "127.0.0.1", () => r()));
            const port = (tmp.address() as net.AddressInfo).port;
            await new Promise<void>((r) => tmp.close(() => r()));
            return `229 Entering Extended Passive Mode (|||${port}|)`;
          },
        },
      }),
    );
    expectVerdict("EPSV port dead, PASV fine", "node", await check(`127.0.0.1:${s.port}`, { tls: "off" }), "EPSV_BROKEN");
  });

  test("malformed 227 → PROTOCOL_VIOLATION", async () => {
    const s = await keep(
      startFakeFtp({
        greeting: "220 FTP ready",
        replies: { ...LOGIN, EPSV: "500 EPSV not understood", PASV: "227 Entering Passive Mode (127,0,0,one,2,3)" },
      }),
    );
    expectVerdict("malformed 227", "node", await check(`127.0.0.1:${s.port}`, { tls: "off" }), "PROTOCOL_VIOLATION");
  });

  test("reset in the middle of LIST → CONNECTION_RESET", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, ...passive("all-reset") } }));
    expectVerdict("reset mid LIST", "node", await check(`127.0.0.1:${s.port}`, { tls: "off" }), "CONNECTION_RESET");
  });

  test("reset right after USER → CONNECTION_RESET", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, USER: { reset: true } } }));
    expectVerdict("reset after USER", "node", await check(`127.0.0.1:${s.port}`, { tls: "off" }), "CONNECTION_RESET");
  });

  test("server that stops answering PWD → REPLY_TIMEOUT within budget", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, PWD: "" } }));
    expectVerdict("no reply to PWD", "node", await check(`127.0.0.1:${s.port}`, { tls: "off", timeout: 4000 }), "REPLY_TIMEOUT");
  });

  test("FileZilla-style 'TLS session of data connection not resumed' → TLS_SESSION_REUSE_REQUIRED", async () => {
    const p = passive();
    const s = await keep(
      startFakeFtp({
        greeting: "220-FileZilla Server 1.8.0\n220 Please visit https://filezilla-project.org/",
        replies: { ...LOGIN, ...p, LIST: "425 Unable to build data connection: TLS session of data connection not resumed." },
      }),
    );
    const r = await check(`127.0.0.1:${s.port}`, { tls: "off" });
    expectVerdict("data TLS not resumed (FileZilla)", "node", r, "TLS_SESSION_REUSE_REQUIRED");
    assert.equal(r.report.server.software, "filezilla");
    assert.match(r.report.verdict.remediation.join(" "), /FileZilla Server requires resumption/);
  });

  test("EPSV refused while PASV works → HEALTHY with EPSV_UNSUPPORTED", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, ...passive(), EPSV: "500 EPSV not understood" } }));
    expectVerdict("EPSV refused, PASV works", "node", await check(`127.0.0.1:${s.port}`, { tls: "off" }), "HEALTHY", {
      findings: ["EPSV_UNSUPPORTED"],
    });
  });

  test("vsFTPd 2.3.4 greeting → VULNERABLE_VERSION finding on a working server", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 (vsFTPd 2.3.4)", replies: { ...LOGIN, ...passive() } }));
    expectVerdict("vsFTPd 2.3.4 banner", "node", await check(`127.0.0.1:${s.port}`, { tls: "off" }), "HEALTHY", {
      findings: ["VULNERABLE_VERSION", "ANON_ENABLED"],
    });
  });

  test("slow greeting (1.5 s) that does arrive → HEALTHY with SLOW_GREETING", async () => {
    const s = await keep(
      startScriptedServer((sock) => {
        sock.setEncoding("latin1");
        // Answers every command with 530 once it has greeted (like a server after slow reverse DNS).
        sock.on("data", (d: string) =>
          setTimeout(
            () =>
              !sock.destroyed &&
              sock.write(
                d
                  .split("\n")
                  .filter(Boolean)
                  .map(() => "530 Not logged in.\r\n")
                  .join(""),
              ),
            1600,
          ),
        );
        setTimeout(() => !sock.destroyed && sock.write("220 slow hello\r\n"), 1500);
      }),
    );
    const r = await check(`127.0.0.1:${s.port}`, { tls: "off" });
    expectVerdict("slow greeting", "node", r, "HEALTHY", { findings: ["SLOW_GREETING"] });
    assert.ok(r.report.scope.length > 0, "login was not tested and the report says so");
  });

  test("implicit-TLS port probed as plain FTP → IMPLICIT_TLS_PORT", async () => {
    const { valid } = certFixtures();
    const material = tlsOf(valid);
    const tls = await import("node:tls");
    const srv = tls.createServer({ key: material.keyPem, cert: material.certPem + (material.chainPem ?? "") }, (s) => {
      s.write("220 implicit FTPS ready\r\n");
      s.on("error", () => undefined);
      s.resume();
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const r = await check(`127.0.0.1:${port}`, { tls: "explicit" });
      expectVerdict("implicit TLS port (node)", "node", r, "IMPLICIT_TLS_PORT");
    } finally {
      srv.close();
    }
  });
});
