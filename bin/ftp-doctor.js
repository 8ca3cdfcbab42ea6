#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` via the prepare script).
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
const entry = new URL("../dist/src/cli/main.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("ftp-doctor: not built yet; run `npm ci` (or `npm run build`) in the project folder first\n");
  process.exit(2);
}
const { main } = await import(entry.href);
const code = await main(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
// Safety net: a command is done when main() returns; a stray handle must not keep the
// process (and the operator's terminal) waiting. Unref'd: it only fires if something lingers.
setTimeout(() => process.exit(code), 1500).unref();
