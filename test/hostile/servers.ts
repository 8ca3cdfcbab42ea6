/**
 * Servers that misbehave on purpose, built on the harness's scripted servers. Each one is a real
 * listener on loopback; nothing here is a mock of the client.
 */
import net from "node:net";
import tls from "node:tls";
import type { FakeAction, FakeSession } from "../harness/scripted.js";

/** Enough FTP for a login and a session (anonymous or any user). */
export const LOGIN: Record<string, FakeAction> = {
  USER: "331 Please specify the password.",
  PASS: "230 Login successful.",
  FEAT: "211-Features:\n EPSV\n PASV\n211 End",
  SYST: "215 UNIX Type: L8",
  PWD: '257 "/" is the current directory',
  TYPE: "200 Switching to Binary mode.",
  PBSZ: "200 PBSZ=0",
  PROT: "200 PROT now Private.",
  AUTH: "500 AUTH not understood",
  NOOP: "200 NOOP ok.",
  QUIT: { reply: "221 Goodbye.", close: true },
};

/** Writes `chunk` again and again, honouring backpressure, until the peer goes away. Returns a byte counter. */
export function pump(socket: net.Socket, chunk: Buffer, stats: { bytes: number }): void {
  const go = (): void => {
    while (!socket.destroyed && socket.writable) {
      stats.bytes += chunk.length;
      if (!socket.write(chunk)) {
        socket.once("drain", go);
        return;
      }
    }
  };
  go();
}

/** Writes `text` one byte every `intervalMs` (slowloris), then calls `done`. Stops when the socket does. */
export function dribble(socket: net.Socket, text: string | Buffer, intervalMs: number, done?: () => void): void {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1");
  let i = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || !socket.writable) return clearInterval(timer);
    socket.write(bytes.subarray(i, i + 1));
    if (++i >= bytes.length) {
      clearInterval(timer);
      done?.();
    }
  }, intervalMs);
  socket.once("close", () => clearInterval(timer));
}

export type ListMode = "ok" | "data-reset" | "all-reset" | "data-close-early" | "endless";

/**
 * Passive mode on 127.0.0.1 (EPSV and PASV), serving a listing on LIST, or breaking it:
 * `data-reset` resets the data connection mid-listing and reports 426 on the control connection,
 * `all-reset` resets both, `data-close-early` ends the data connection early and says 451,
 * `endless` streams listing lines until the client hangs up.
 * `pasvHost`/`pasvPort`: what PASV advertises (the data listener itself is always on 127.0.0.1,
 * on `pasvPort` when given).
 */
export function passive(
  mode: ListMode = "ok",
  opts: { pasvHost?: string; pasvPort?: number; epsv?: FakeAction } = {},
): Record<string, FakeAction> {
  const body = "-rw-r--r-- 1 ftp ftp 6 Jan 01 00:00 readme.txt\r\n";
  const open = async (session: FakeSession, port = 0): Promise<number> => {
    const srv = net.createServer();
    await new Promise<void>((resolve, reject) => {
      srv.once("error", reject);
      srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => resolve());
    });
    srv.unref();
    session.socket.once("close", () => srv.close());
    session.state.data = new Promise<net.Socket>((r) => srv.once("connection", (s: net.Socket) => r(s.on("error", () => undefined))));
    session.state.srv = srv;
    return (srv.address() as net.AddressInfo).port;
  };
  return {
    EPSV: opts.epsv ?? (async (_a, s) => `229 Entering Extended Passive Mode (|||${await open(s)}|)`),
    PASV: async (_a, s) => {
      const p = await open(s, opts.pasvPort ?? 0);
      const h = (opts.pasvHost ?? "127.0.0.1").split(".").join(",");
      return `227 Entering Passive Mode (${h},${p >> 8},${p & 255}).`;
    },
    LIST: async (_a, s) => {
      const sock = await (s.state.data as Promise<net.Socket>);
      s.send("150 Here comes the directory listing.");
      (s.state.srv as net.Server).close();
      if (mode === "ok") {
        await new Promise<void>((r) => sock.end(body, () => r()));
        return "226 Directory send OK.";
      }
      if (mode === "endless") {
        const stats = { bytes: 0 };
        pump(sock, Buffer.from(body.repeat(1000)), stats);
        await new Promise((r) => sock.once("close", r));
        s.state.listBytes = stats.bytes;
        return "226 Directory send OK.";
      }
      sock.write(body.repeat(200));
      await new Promise((r) => setTimeout(r, 30));
      if (mode === "data-close-early") {
        sock.end();
        return "451 Requested action aborted: local error in processing.";
      }
      sock.resetAndDestroy();
      if (mode === "all-reset") {
        s.socket.resetAndDestroy();
        return undefined;
      }
      return "426 Connection closed; transfer aborted.";
    },
  };
}

/**
 * A plain FTP server whose `AUTH TLS` answers 234 and then hands the raw socket to `afterAuth`
 * (which plays the broken TLS server); no line parsing after that point, so ClientHello bytes
 * are never mistaken for commands. Other sessions (the probe's plain side check) work normally.
 */
export function tlsAfterAuthHandler(afterAuth: (socket: net.Socket) => void): (socket: net.Socket) => void {
  return (socket) => {
    socket.write("220 FTP ready\r\n");
    let buf = "";
    const onData = (d: Buffer): void => {
      buf += d.toString("latin1");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
        const verb = line.split(" ")[0]!.toUpperCase();
        if (verb === "AUTH") {
          socket.off("data", onData);
          socket.write("234 AUTH TLS OK.\r\n");
          afterAuth(socket);
          return;
        }
        if (verb === "FEAT") socket.write("211-Features:\r\n AUTH TLS\r\n EPSV\r\n211 End\r\n");
        else if (verb === "QUIT") socket.end("221 Goodbye.\r\n");
        else socket.write("530 Please login with USER and PASS.\r\n");
      }
    };
    socket.on("data", onData);
  };
}

/**
 * An explicit-FTPS server that, at `failAt` (a command verb), does what vsftpd does when its
 * privileged helper fails under load: writes "500 OOPS: …" in plain text into the TLS session
 * and closes.
 */
export function ftpsOopsHandler(
  material: { certPem: string; keyPem: string; chainPem?: string },
  failAt: string,
  words = "priv_sock_get_int",
): (socket: net.Socket) => void {
  const ctx = tls.createSecureContext({ cert: material.certPem + (material.chainPem ?? ""), key: material.keyPem });
  return tlsAfterAuthHandler((raw) => {
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: ctx });
    secure.on("error", () => undefined);
    let buf = "";
    secure.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const verb = buf.slice(0, nl).replace(/\r$/, "").split(" ")[0]!.toUpperCase();
        buf = buf.slice(nl + 1);
        if (verb === failAt) {
          raw.end(`500 OOPS: ${words}\r\n`);
          return;
        }
        const answer: Record<string, string> = {
          USER: "331 Please specify the password.",
          PASS: "230 Login successful.",
          PBSZ: "200 PBSZ set to 0.",
          PROT: "200 PROT now Private.",
          SYST: "215 UNIX Type: L8",
          PWD: '257 "/" is the current directory',
          TYPE: "200 Switching to Binary mode.",
          QUIT: "221 Goodbye.",
        };
        secure.write(`${answer[verb] ?? "502 Command not implemented."}\r\n`);
      }
    });
  });
}
