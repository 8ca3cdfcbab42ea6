/**
 * A tiny inetd for the harness: listens on one address/port and, per connection, runs an
 * inetd-style FTP daemon (GNU inetutils ftpd, netkit in.ftpd) with the accepted socket as its
 * stdin and stdout, like inetd's `nowait` services. The daemon's stderr is copied to ours.
 *
 *   node inetd.js <host> <port> <maxSessions|0> -- <daemon> [args...]
 *
 * maxSessions > 0 closes extra connections at once without a word, as xinetd's `instances` and
 * `per_source` limits do. Children are in our process group, so stopping us by PID (the harness
 * signals the whole family) ends every session too.
 */
import { spawn } from "node:child_process";
import net from "node:net";

const [host, portText, maxText, dashes, daemon, ...daemonArgs] = process.argv.slice(2);
if (host === undefined || portText === undefined || maxText === undefined || dashes !== "--" || daemon === undefined) {
  process.stderr.write("usage: inetd.js <host> <port> <maxSessions|0> -- <daemon> [args...]\n");
  process.exit(2);
}
const maxSessions = Number(maxText);
let sessions = 0;

// pauseOnConnect: we never read from the socket, so no byte meant for the daemon is consumed here.
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  if (maxSessions > 0 && sessions >= maxSessions) {
    process.stderr.write(`inetd: ${peer}: ${sessions} sessions running, limit ${maxSessions}: closed\n`);
    socket.destroy();
    return;
  }
  const child = spawn(daemon, daemonArgs, { stdio: [socket, socket, "pipe"] });
  sessions++;
  process.stderr.write(`inetd: ${peer}: started ${daemon} pid ${String(child.pid)}\n`);
  child.stderr?.on("data", (d: Buffer) => process.stderr.write(d));
  child.once("error", (err) => process.stderr.write(`inetd: ${peer}: ${err.message}\n`));
  child.once("exit", (code, signal) => {
    sessions--;
    process.stderr.write(`inetd: ${peer}: ${daemon} exited (code ${String(code)}, signal ${String(signal)})\n`);
  });
  // The child holds its own copy of the descriptor: closing ours sends nothing to the client
  // (destroy() closes without shutdown(); the connection ends when the daemon exits).
  socket.destroy();
});
server.on("error", (err) => {
  process.stderr.write(`inetd: ${err.message}\n`);
  process.exit(1);
});
server.listen({ host, port: Number(portText), exclusive: true }, () => {
  process.stderr.write(`inetd: listening on ${host}:${portText} for ${daemon}\n`);
});
for (const sig of ["SIGTERM", "SIGINT"] as const) process.on(sig, () => process.exit(0));
