/**
 * A userspace "slow path" for kernels without netem: a TCP proxy that holds every chunk
 * `delayMs` in each direction before passing it on (so a round trip costs 2 × delayMs), in order,
 * for several ports at once (an FTP control port and its passive range). Bytes are never changed.
 *
 *   const p = await startDelayProxy({ listenHost: '127.0.0.2', targetHost: '127.0.0.1', ports: [21, ...pasv], delayMs: 25 });
 *
 * Connection set-up costs a round trip as on a real path (see the comment in startDelayProxy).
 * End-of-stream and resets are forwarded after the same delay, behind the data before them.
 */
import net from "node:net";

export interface DelayProxyOptions {
  /** Where the proxy listens (e.g. 127.0.0.2). */
  listenHost: string;
  /** Where it forwards (e.g. 127.0.0.1). */
  targetHost: string;
  /** Ports forwarded 1:1 (listen port = target port); or pairs. */
  ports: Array<number | { listen: number; target: number }>;
  /** One-way delay per chunk, ms. */
  delayMs: number;
}

export interface DelayProxy {
  listenHost: string;
  /** Connections accepted so far, per listen port. */
  connections(port: number): number;
  /** Bytes forwarded in both directions. */
  bytes(): number;
  stop(): Promise<void>;
}

/**
 * Passes chunks from `from` to `to()`, each `delayMs` after it arrived, in order; ends and resets
 * too. Nothing is written before `to()` returns a connected socket (`gate` resolves).
 */
function delayedPipe(
  from: net.Socket,
  to: () => net.Socket | undefined,
  gate: Promise<void>,
  delayMs: number,
  count: (n: number) => void,
): void {
  const queue: { at: number; chunk?: Buffer; end?: "fin" | "reset" }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let open = false;
  const flush = (): void => {
    timer = undefined;
    const dest = to();
    if (!open || !dest) return;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.at <= now + 0.5) {
      const item = queue.shift()!;
      if (dest.destroyed) continue;
      if (item.chunk) {
        count(item.chunk.length);
        // Backpressure is the receiver's: pause the sender until this drains.
        if (!dest.write(item.chunk)) {
          from.pause();
          dest.once("drain", () => from.resume());
        }
      } else if (item.end === "fin") dest.end();
      else dest.resetAndDestroy();
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.at - performance.now()));
  };
  void gate.then(() => {
    open = true;
    if (!timer) flush();
  });
  const push = (item: { chunk?: Buffer; end?: "fin" | "reset" }): void => {
    queue.push({ at: performance.now() + delayMs, ...item });
    timer ??= setTimeout(flush, delayMs);
  };
  from.on("data", (chunk: Buffer) => push({ chunk }));
  from.on("end", () => push({ end: "fin" }));
  from.on("error", () => push({ end: "reset" }));
}

export async function startDelayProxy(opts: DelayProxyOptions): Promise<DelayProxy> {
  const servers: net.Server[] = [];
  const sockets = new Set<net.Socket>();
  const accepted = new Map<number, number>();
  let bytes = 0;
  const track = (s: net.Socket): net.Socket => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
    s.on("error", () => undefined);
    return s;
  };
  for (const p of opts.ports) {
    const { listen, target } = typeof p === "number" ? { listen: p, target: p } : p;
    const server = net.createServer({ noDelay: true }, (client) => {
      track(client);
      accepted.set(listen, (accepted.get(listen) ?? 0) + 1);
      // The local kernel completes the client's handshake at once; on a real path the server
      // would see it 1.5 round trips later (SYN, SYN-ACK, ACK). So the upstream connection opens
      // then, and what the client sends meanwhile waits for it: a server-first greeting and a
      // client-first ClientHello both get their first answer 2 round trips after connect().
      let up: net.Socket | undefined;
      let opened!: () => void;
      const gate = new Promise<void>((r) => (opened = r));
      delayedPipe(
        client,
        () => up,
        gate,
        opts.delayMs,
        (n) => (bytes += n),
      );
      const timer = setTimeout(() => {
        if (client.destroyed) return;
        up = track(net.connect({ host: opts.targetHost, port: target, noDelay: true }));
        up.once("connect", () => {
          delayedPipe(
            up!,
            () => client,
            Promise.resolve(),
            opts.delayMs,
            (n) => (bytes += n),
          );
          opened();
        });
        up.once("error", () => setTimeout(() => client.resetAndDestroy(), opts.delayMs));
        client.once("close", () => setTimeout(() => up?.destroy(), opts.delayMs * 2));
      }, opts.delayMs * 3);
      client.once("close", () => {
        if (!up) clearTimeout(timer);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ host: opts.listenHost, port: listen, exclusive: true }, () => resolve());
    });
    servers.push(server);
  }
  return {
    listenHost: opts.listenHost,
    connections: (port) => accepted.get(port) ?? 0,
    bytes: () => bytes,
    stop: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    },
  };
}
