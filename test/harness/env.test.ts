import assert from "node:assert/strict";
import { existsSync, statSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { describe, test } from "node:test";
import {
  depsDir,
  findTool,
  freePort,
  freePortRange,
  makeTempDir,
  missingRequirements,
  MissingToolError,
  repoRoot,
  requireTool,
  requirementsOptions,
  tempDir,
  waitFor,
} from "./env.js";

describe("env", () => {
  test("repoRoot is the ftp-doctor package and depsDir defaults under it", () => {
    assert.ok(existsSync(path.join(repoRoot, "package.json")));
    assert.equal(depsDir({}), path.join(repoRoot, ".deps", "root"));
    assert.equal(depsDir({ FTP_DOCTOR_DEPS_DIR: "/x/y" }), "/x/y");
  });

  test("requireTool finds daemons only under the deps dir", () => {
    const saved = process.env.FTP_DOCTOR_DEPS_DIR;
    process.env.FTP_DOCTOR_DEPS_DIR = "/nonexistent-ftp-doctor-deps";
    try {
      assert.equal(findTool("proftpd"), null);
      assert.throws(
        () => requireTool("pure-ftpd"),
        (err: unknown) => err instanceof MissingToolError && /install-deps\.sh/.test(err.message),
      );
      assert.deepEqual(missingRequirements(["proftpd"]).length, 1);
      const opts = requirementsOptions(["proftpd"]);
      if (process.env.CI) assert.deepEqual(opts, {});
      else assert.match(opts.skip ?? "", /install-deps\.sh/);
    } finally {
      if (saved === undefined) delete process.env.FTP_DOCTOR_DEPS_DIR;
      else process.env.FTP_DOCTOR_DEPS_DIR = saved;
    }
  });

  test("tempDir is unique, traversable, and removed after the test", async (t) => {
    let dir = "";
    await t.test("inner", (t2) => {
      dir = tempDir(t2);
      assert.ok(statSync(dir).isDirectory());
      assert.equal(statSync(dir).mode & 0o777, 0o755);
      assert.notEqual(dir, tempDir(t2));
    });
    assert.notEqual(dir, "");
    assert.equal(existsSync(dir), false);
    const d = makeTempDir();
    d.remove();
    assert.equal(existsSync(d.path), false);
  });

  test("freePort and freePortRange return bindable ports", async () => {
    const port = await freePort();
    const [lo, hi] = await freePortRange(5);
    assert.equal(hi - lo, 4);
    assert.ok(port < lo || port > hi, "a handed-out port is not handed out again");
    for (const p of [port, lo, hi]) {
      await new Promise<void>((resolve, reject) => {
        const s = net
          .createServer()
          .once("error", reject)
          .listen(p, "127.0.0.1", () => s.close(() => resolve()));
      });
    }
  });

  test("waitFor has a deadline", async () => {
    await assert.rejects(
      waitFor("never", () => false, 100, 10),
      /timed out after 100 ms waiting for never/,
    );
    assert.equal(await waitFor("soon", () => 42, 100), 42);
  });
});
