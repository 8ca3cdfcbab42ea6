/** The userspace slow path used by the round-trip benchmark: delays, order, ends. */
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { startDelayProxy } from "./delayProxy.js";

test("delay proxy: 2 × delay per round trip, 2 round trips to a greeting, bytes in order", async () => {
  const echo = net.createServer((s) => {
    s.write("220 hello\r\n");
    s.pipe(s);
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", () => r()));
  const port = (echo.address() as net.AddressInfo).port;
  const proxy = await startDelayProxy({ listenHost: "127.0.0.2", targetHost: "127.0.0.1", ports: [port], delayMs: 25 });
  try {
    const t0 = performance.now();
    const c = net.connect(port, "127.0.0.2");
    const read = (n: number) =>
      new Promise<string>((resolve) => {
        let got = "";
        const on = (d: Buffer) => {
          got += d.toString();
          if (got.length >= n) {
            c.off("data", on);
            resolve(got);
          }
        };
        c.on("data", on);
      });
    assert.equal(await read(11), "220 hello\r\n");
    const greeting = performance.now() - t0;
    assert.ok(greeting >= 95 && greeting < 160, `greeting after ${greeting.toFixed(0)} ms (2 round trips of 50 ms)`);
    const t1 = performance.now();
    const payload = Array.from({ length: 200 }, (_, i) => `line ${i}\n`).join("");
    c.write(payload);
    assert.equal(await read(payload.length), payload, "bytes in order");
    const rt = performance.now() - t1;
    assert.ok(rt >= 48 && rt < 100, `echo round trip ${rt.toFixed(0)} ms`);
    c.end();
    await new Promise((r) => c.once("close", r));
    assert.equal(proxy.connections(port), 1);
  } finally {
    await proxy.stop();
    echo.close();
  }
});
