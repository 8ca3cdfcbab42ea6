/**
 * The directory in the URL (`ftp://host/upload/`): the check changes into it before LIST and
 * --write, and a missing or forbidden directory is named as such (issue 14).
 */
import assert from "node:assert/strict";
import { chmodSync, chownSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, describe, test } from "node:test";
import { urlDirectory } from "../../src/probe/steps/path.js";
import { certFixtures, tlsOf } from "../harness/certs.js";
import { getAccount, PROFTPD_USER, type RunningServer, startProftpd } from "../harness/daemons.js";
import { requirementsOptions } from "../harness/env.js";
import { check, expectVerdict, pemFile } from "./lib.js";

test("URL directory, as RFC 1738 and curl read it", () => {
  assert.equal(urlDirectory(undefined), undefined);
  assert.equal(urlDirectory("/"), undefined);
  assert.equal(urlDirectory("/upload/"), "upload");
  assert.equal(urlDirectory("/upload"), "upload");
  assert.equal(urlDirectory("/a/b//"), "a/b");
  assert.equal(urlDirectory("//srv/ftp/"), "/srv/ftp", "%2F: absolute");
  assert.equal(urlDirectory("//"), "/");
});

describe("URL path: ProFTPD", requirementsOptions(["proftpd", "openssl", "root"]), () => {
  const running: RunningServer[] = [];
  after(async () => {
    await Promise.all(running.map((s) => s.stop()));
  });
  const certs = certFixtures();
  const ca = pemFile("root-ca.pem", certs.ca.certPem);
  let s: RunningServer;
  const url = (dir: string) => `ftp://${PROFTPD_USER.user}@127.0.0.1:${s.port}${dir}`;
  const run = (dir: string, extra: Record<string, unknown> = {}) =>
    check(url(dir), { tls: "explicit", ca, ...extra }, PROFTPD_USER.password);

  test("setup: ProFTPD with upload/ (two files), locked/ (mode 000)", async () => {
    s = await startProftpd({ tls: tlsOf(certs.valid) });
    running.push(s);
    const home = path.join(s.dir, "home", PROFTPD_USER.user);
    // Sessions run as nobody (the harness's virtual users): upload/ is theirs to write.
    const nobody = await getAccount("nobody");
    mkdirSync(path.join(home, "upload"));
    for (const f of ["a.txt", "b.txt"]) writeFileSync(path.join(home, "upload", f), "x\n");
    chownSync(path.join(home, "upload"), nobody!.uid, nobody!.gid);
    mkdirSync(path.join(home, "locked"));
    chmodSync(path.join(home, "locked"), 0o000);
  });

  test("existing directory → HEALTHY, the listing is that directory's", async () => {
    const r = await run("/upload/", { write: true });
    expectVerdict("URL path exists (with --write)", "proftpd", r, "HEALTHY");
    assert.equal(r.observations.path?.status, "ok");
    assert.equal(r.observations.path?.requested, "upload");
    assert.equal(r.observations.data?.listEntries, 2);
    assert.equal(r.observations.write?.verified, true);
  });

  test("missing directory → PATH_NOT_FOUND", async () => {
    const r = await run("/nowhere/");
    assert.equal(r.observations.path?.status, "missing");
    assert.match(r.observations.path?.reply?.text ?? "", /No such file or directory/);
    assert.equal(r.observations.data?.listReply, undefined, "nothing listed elsewhere");
    expectVerdict("URL path missing", "proftpd", r, "PATH_NOT_FOUND");
  });

  test("forbidden directory → PATH_DENIED", async () => {
    const r = await run("/locked/");
    assert.equal(r.observations.path?.status, "denied");
    assert.match(r.observations.path?.reply?.text ?? "", /Permission denied/);
    expectVerdict("URL path forbidden", "proftpd", r, "PATH_DENIED");
  });
});
