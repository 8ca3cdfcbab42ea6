import net from "node:net";
import { LIMITS } from "../../config/defaults.js";
import { normalizeIp } from "../address.js";
import { describe, failureOf, type ProbeContext } from "../context.js";
import { sleep, tlsHandshake } from "../net.js";
import type { Observations } from "../types.js";
import { readAll } from "./transfer.js";

export async function activeTest(ctx: ProbeContext): Promise<void> {
  if (!ctx.ctl) return;
  const ctl = ctx.ctl;
  const step = ctx.rec.begin("active");
  const local = normalizeIp(ctl.localAddress);
  const v6 = net.isIPv6(local);
  const server = net.createServer();
  const act: NonNullable<Observations["active"]> = (ctx.obs.active = { command: v6 ? "EPRT" : "PORT", status: "not-run" });
  try {
    await new Promise<void>((res, rej) => {
      server.once("error", rej);
      server.listen(0, local, () => res());
    });
    const port = (server.address() as net.AddressInfo).port;
    const incoming = new Promise<net.Socket>((res) => server.once("connection", (s) => res(ctx.track(s))));
    const cmd = v6 ? `EPRT |2|${local}|${port}|` : `PORT ${local.split(".").join(",")},${port >> 8},${port & 255}`;
    const r = await ctl.command(cmd, ctx.replyTimeout());
    act.reply = r;
    if (r.code !== 200) {
      act.status = "refused";
      step.end("fail", `${act.command}: ${describe(r)}`, { reply: r });
      return;
    }
    ctl.send("LIST");
    const first = await ctl.reply(ctx.replyTimeout());
    act.listReply = first;
    if (first.code !== 150 && first.code !== 125) {
      act.status = "failed";
      step.end("fail", `LIST in active mode: ${describe(first)}`, { reply: first });
      return;
    }
    const sock = await Promise.race([incoming, sleep(ctx.dataTimeout()).then(() => undefined)]);
    if (sock) {
      let stream: net.Socket = sock;
      if (ctx.obs.data?.protected) {
        const { socket: t } = await tlsHandshake(
          { socket: sock, ...ctx.tlsNames(), ...(ctx.tlsSession ? { session: ctx.tlsSession } : {}) },
          ctx.tlsTimeout(),
        );
        stream = ctx.track(t);
      }
      await readAll(stream, LIMITS.maxListingBytes, ctx.dataTimeout());
    }
    const fin = await ctl.reply(ctx.replyTimeout());
    act.listReply = fin;
    act.status = sock && fin.code >= 200 && fin.code < 300 ? "ok" : "failed";
    step.end(act.status === "ok" ? "ok" : "fail", `active mode LIST: ${describe(fin)}`, { reply: fin });
  } catch (err) {
    act.status = "failed";
    act.error = failureOf(err);
    ctx.lost("active mode", err);
    step.end("fail", `active mode: ${act.error.message}`, { error: act.error });
  } finally {
    server.close();
  }
}
