/**
 * Hostile peers around TLS and the data channel: malformed 227 replies, PASV replies that point
 * at a third host (which must never be connected to), TLS handshakes that stall after 234, and
 * connections reset in the middle of a listing. Real loopback listeners, the real CLI as a child.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startFakeFtp, startScriptedServer, type FakeAction, type ScriptedServer } from "../harness/scripted.js";
import { expectContained, printRows, runCheckCli, trapListener } from "./lib.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { pemFile } from "../scenarios/lib.js";
import { dribble, ftpsOopsHandler, LOGIN, passive, tlsAfterAuthHandler } from "./servers.js";

const caFile = () => pemFile("hostile-ca.pem", certFixtures().ca.certPem);

const servers: ScriptedServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  printRows("hostile peers: TLS and data channel");
});
async function keep<T extends ScriptedServer>(s: Promise<T>): Promise<T> {
  const v = await s;
  servers.push(v);
  return v;
}
const at = (s: ScriptedServer) => `127.0.0.1:${s.port}`;
const PLAIN = ["--tls", "off", "--timeout", "8000"];

describe("hostile data channel", () => {
  const malformed: [string, string][] = [
    ["letters", "227 Entering Passive Mode (127,0,0,one,2,3)"],
    ["octet over 255", "227 Entering Passive Mode (127,0,0,300,4,1)"],
    ["port byte over 255", "227 Entering Passive Mode (127,0,0,1,4,1000)"],
    ["five numbers", "227 Entering Passive Mode (127,0,0,1,4)"],
    ["port 0", "227 Entering Passive Mode (127,0,0,1,0,0)"],
    ["no numbers at all", "227 Entering Passive Mode"],
  ];
  for (const [what, reply] of malformed) {
    test(`malformed 227 (${what}), EPSV refused → PROTOCOL_VIOLATION`, async () => {
      const s = await keep(
        startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, EPSV: "500 EPSV not understood", PASV: reply } }),
      );
      const r = await expectContained(`malformed 227: ${what}`, await runCheckCli(at(s), PLAIN), "PROTOCOL_VIOLATION", 8000);
      assert.match(r.verdict.evidence.join(" "), /PASV/);
    });
  }

  test("malformed 227 while EPSV works → PROTOCOL_VIOLATION (PASV clients fail), listing still tested", async () => {
    const p = passive("ok");
    const s = await keep(
      startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, ...p, PASV: "227 Entering Passive Mode (127,0,0,1,4,1000)" } }),
    );
    const run = await runCheckCli(at(s), [...PLAIN, "--verbose"]);
    const r = await expectContained("malformed 227, EPSV fine", run, "PROTOCOL_VIOLATION", 8000);
    assert.ok(
      r.steps.some((st) => st.id === "data" && st.status === "ok"),
      "EPSV listing worked",
    );
  });

  for (const epsv of ["works", "refused"] as const) {
    test(`PASV names a third host (EPSV ${epsv}) → PASV_ADDRESS_WRONG, and the third host is never connected to`, async () => {
      // The "third host": 127.1.2.3 is loopback but outside the control peer's /24, so not a
      // permitted data target. Its listener counts connections; there must be none.
      let trap: Awaited<ReturnType<typeof trapListener>> | undefined;
      let port = 0;
      for (let i = 0; i < 20 && !port; i++) {
        const t = await trapListener("127.1.2.3");
        // The server's own data listener takes the same port number on 127.0.0.1.
        const free = await new Promise<boolean>((resolve) => {
          const probe = net.createServer().once("error", () => resolve(false));
          probe.listen({ port: t.port, host: "127.0.0.1", exclusive: true }, () => probe.close(() => resolve(true)));
        });
        if (free) {
          trap = t;
          port = t.port;
        } else await t.close();
      }
      assert.ok(trap, "no port free on both 127.1.2.3 and 127.0.0.1");
      try {
        const p = passive("ok", {
          pasvHost: "127.1.2.3",
          pasvPort: port,
          ...(epsv === "refused" ? { epsv: "500 EPSV not understood" as FakeAction } : {}),
        });
        const s = await keep(startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, ...p } }));
        const r = await expectContained(`PASV → third host (EPSV ${epsv})`, await runCheckCli(at(s), PLAIN), "PASV_ADDRESS_WRONG", 8000);
        assert.match(r.verdict.explanation, /does not connect to third addresses/);
        assert.equal(trap.connections(), 0, "the third host got a connection");
        assert.ok(
          !r.transcript.some((l) => /data connection to 127\.1\.2\.3/.test(l.text)),
          "transcript shows a connection to the third host",
        );
      } finally {
        await trap.close();
      }
    });
  }

  const stalls: [string, (socket: net.Socket) => void][] = [
    ["234, then nothing read or written", (socket) => socket.pause()],
    [
      "234, reads the ClientHello, answers half a TLS record",
      // A handshake record header promising 512 bytes, and 3 of them. Then silence.
      (socket) => socket.once("data", () => socket.write(Buffer.from([0x16, 0x03, 0x03, 0x02, 0x00, 0x02, 0x00, 0x01]))).resume(),
    ],
    [
      "234, then a ServerHello at one byte per second",
      (socket) =>
        socket
          .once("data", () =>
            dribble(
              socket,
              Buffer.from([0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03, ...Array<number>(32).fill(7)]),
              1000,
            ),
          )
          .resume(),
    ],
  ];
  for (const [what, afterAuth] of stalls) {
    test(`TLS stalls after 234 (${what}) → TLS_HANDSHAKE_STALL, plain FTP shown to work`, async () => {
      const s = await keep(startScriptedServer(tlsAfterAuthHandler(afterAuth)));
      const r = await expectContained(
        `TLS stall: ${what}`,
        await runCheckCli(at(s), ["--tls", "explicit", "--timeout", "8000"]),
        "TLS_HANDSHAKE_STALL",
        8000,
      );
      assert.match(r.verdict.explanation, /plain FTP on another connection works/);
    });
  }

  test("endless directory listing → PROTOCOL_VIOLATION, cut at the listing limit", async () => {
    const s = await keep(startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, ...passive("endless") } }));
    const r = await expectContained("endless LIST data", await runCheckCli(at(s), PLAIN), "PROTOCOL_VIOLATION", 8000);
    assert.match(r.verdict.title, /listing is larger/);
  });

  test("500 OOPS in plain text inside the TLS session at PASV (vsftpd under load) → SERVER_CONFIG_ERROR quoting it", async () => {
    const s = await keep(startScriptedServer(ftpsOopsHandler(tlsOf(certFixtures().valid), "PASV")));
    const r = await expectContained(
      "500 OOPS inside TLS at PASV",
      await runCheckCli(at(s), ["--tls", "explicit", "--timeout", "8000", "--ca", caFile()]),
      "SERVER_CONFIG_ERROR",
      8000,
    );
    assert.match(r.verdict.explanation, /priv_sock_get_int/);
    assert.match(r.verdict.title, /aborted the session during session setup/);
  });

  // The last pipelined command: a server that closes with commands still unread sends a reset,
  // and a reset may destroy the OOPS before the client reads it (then CONNECTION_RESET is all there is).
  test("500 OOPS answering EPSV on a plain session, then close → SERVER_CONFIG_ERROR", async () => {
    const s = await keep(
      startFakeFtp({
        greeting: "220 FTP ready",
        replies: {
          ...LOGIN,
          PASV: "227 Entering Passive Mode (127,0,0,1,4,1).",
          EPSV: { reply: "500 OOPS: vsf_sysutil_bind", close: true },
        },
      }),
    );
    const r = await expectContained("500 OOPS at EPSV, plain", await runCheckCli(at(s), PLAIN), "SERVER_CONFIG_ERROR", 8000);
    assert.match(r.verdict.explanation, /vsf_sysutil_bind/);
  });

  const resets: [string, "data-reset" | "all-reset" | "data-close-early", string][] = [
    ["data connection reset mid-listing, 426 on control", "data-reset", "CONNECTION_RESET"],
    ["data and control connections reset mid-listing", "all-reset", "CONNECTION_RESET"],
    ["data connection ended early, 451 on control", "data-close-early", "CONNECTION_RESET"],
  ];
  for (const [what, mode, code] of resets) {
    test(`${what} → ${code}`, async () => {
      const s = await keep(startFakeFtp({ greeting: "220 FTP ready", replies: { ...LOGIN, ...passive(mode) } }));
      const r = await expectContained(`LIST: ${what}`, await runCheckCli(at(s), PLAIN), code, 8000);
      assert.match(r.verdict.evidence.join(" "), /LIST|listing|data/);
    });
  }
});
