#!/usr/bin/env node
// The project's one test command (`npm test`, also run by .ci/run):
//  1. makes sure the FTP daemons and tools the scenarios need are installed (scripts/install-deps.sh),
//  2. checks Redis answers (one clear line and a failure when it does not, never a hang),
//  3. runs every test file under dist/test with node's test runner, on Node 24 LTS: when the
//     Node running this script is older, scripts/node24.sh brings Node 24 into .deps/node24
//     (from the npm registry) and the tests, and every process they start, run on it.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const deps = process.env.FTP_DOCTOR_DEPS_DIR ?? path.join(root, ".deps", "root");
const needed = [
  path.join(deps, "usr/sbin/proftpd"),
  path.join(deps, "usr/sbin/pure-ftpd"),
  path.join(deps, "usr/sbin/ftpd"), // GNU inetutils ftpd
  path.join(deps, "usr/sbin/in.ftpd"), // netkit ftpd-ssl
  "/usr/lib/python3/dist-packages/pyftpdlib",
  "/usr/lib/python3/dist-packages/twisted",
  "/usr/lib/python3/dist-packages/OpenSSL",
  "/usr/sbin/vsftpd",
  "/usr/bin/lftp",
  "/usr/sbin/iptables",
  "/usr/bin/promtool",
  "/usr/bin/prometheus-alertmanager",
];
const missing = needed.filter((f) => !existsSync(f));
if (missing.length > 0) {
  if (process.getuid?.() !== 0) {
    console.error(`ftp-doctor tests: missing ${missing.join(", ")}; run: sudo bash scripts/install-deps.sh`);
    process.exit(1);
  }
  console.error(`ftp-doctor tests: installing test dependencies (missing ${missing.map((m) => path.basename(m)).join(", ")})`);
  const r = spawnSync("bash", [path.join(root, "scripts/install-deps.sh")], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error("ftp-doctor tests: scripts/install-deps.sh failed");
    process.exit(1);
  }
}

const redisUrl = new URL(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const redisOk = await new Promise((resolve) => {
  const s = net.connect({ host: redisUrl.hostname, port: Number(redisUrl.port || 6379) });
  const t = setTimeout(() => (s.destroy(), resolve(false)), 2000);
  s.once("connect", () => (clearTimeout(t), s.destroy(), resolve(true)));
  s.once("error", () => (clearTimeout(t), resolve(false)));
});
if (!redisOk) {
  console.error(`ftp-doctor tests: Redis is not reachable at ${redisUrl.host} (REDIS_URL); start it, e.g. redis-server --daemonize yes`);
  process.exit(1);
}

// The product targets Node 24 LTS (package.json engines, the image): test what ships.
let nodeBin = process.execPath;
let childPath = process.env.PATH ?? "";
if (Number(process.versions.node.split(".")[0]) < 24) {
  const r = spawnSync("bash", [path.join(root, "scripts/node24.sh")], { stdio: "inherit" });
  if (r.status !== 0) {
    console.error("ftp-doctor tests: Node 24 is needed and scripts/node24.sh could not install it");
    process.exit(1);
  }
  nodeBin = path.join(root, ".deps/node24/bin/node");
  childPath = `${path.dirname(nodeBin)}:${childPath}`;
}

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith(".test.js")) files.push(p);
  }
};
walk(path.join(root, "dist", "test"));
const only = process.argv.slice(2);
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
const r = spawnSync(nodeBin, ["--test", "--test-concurrency=2", ...selected], {
  stdio: "inherit",
  env: { ...process.env, PATH: childPath },
});
process.exit(r.status ?? 1);
