/**
 * A tiny authoritative DNS server (RFC 1035) on 127.0.0.1, UDP and TCP on the same port, for
 * tests that point `dns.promises.Resolver#setServers(['127.0.0.1:PORT'])` at it.
 *
 * - A known name with the asked type: NOERROR with the records (TTL 5 s, AA set).
 * - A known name without that type: NOERROR with an empty answer (NODATA → Node's ENODATA).
 * - An unknown name: NXDOMAIN, rcode 3 (Node's ENOTFOUND).
 * Names are case-insensitive (RFC 4343), with or without the trailing dot.
 */
import dgram from "node:dgram";
import net from "node:net";
import { freePort } from "./env.js";

export interface DnsRecords {
  A?: string[];
  AAAA?: string[];
}
export type DnsZone = Record<string, DnsRecords>;

export interface DnsQueryLog {
  name: string;
  /** 'A', 'AAAA', or `TYPE<n>` for others. */
  type: string;
  transport: "udp" | "tcp";
}

export interface DnsServer {
  host: "127.0.0.1";
  port: number;
  /** Queries answered so far. */
  readonly queries: DnsQueryLog[];
  /** Replaces (or with undefined, removes) the records of one name while running. */
  set(name: string, records: DnsRecords | undefined): void;
  stop(): Promise<void>;
}

const TYPE_A = 1;
const TYPE_AAAA = 28;
const CLASS_IN = 1;
const RCODE_FORMERR = 1;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;

const normalise = (name: string): string => name.toLowerCase().replace(/\.$/, "");

function typeName(t: number): string {
  return t === TYPE_A ? "A" : t === TYPE_AAAA ? "AAAA" : `TYPE${t}`;
}

function ipv4Bytes(ip: string): Buffer {
  if (net.isIPv4(ip) === false) throw new Error(`dns: not an IPv4 address: ${ip}`);
  return Buffer.from(ip.split(".").map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  if (net.isIPv6(ip) === false) throw new Error(`dns: not an IPv6 address: ${ip}`);
  let text = ip.replace(/%.*$/, "");
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two hex groups.
  const v4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1] !== undefined && v4[2] !== undefined) {
    const b = ipv4Bytes(v4[2]);
    text = `${v4[1]}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const parse = (s: string): number[] => (s === "" ? [] : s.split(":").map((h) => parseInt(h, 16)));
  const halves = text.split("::");
  let groups: number[];
  if (halves.length === 1) {
    groups = parse(halves[0] ?? "");
  } else {
    const left = parse(halves[0] ?? "");
    const right = parse(halves[1] ?? "");
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff))
    throw new Error(`dns: cannot parse IPv6 address ${ip}`);
  const out = Buffer.alloc(16);
  for (const [i, g] of groups.entries()) out.writeUInt16BE(g, i * 2);
  return out;
}

interface ParsedQuery {
  id: number;
  flags: number;
  name: string;
  qtype: number;
  qclass: number;
  /** Raw question section bytes, echoed back in the answer. */
  question: Buffer;
}

function parseQuery(msg: Buffer): ParsedQuery | { id: number; error: number } | null {
  if (msg.length < 12) return null;
  const id = msg.readUInt16BE(0);
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000) return null; // a response, not a query
  const qdcount = msg.readUInt16BE(4);
  if (qdcount !== 1) return { id, error: RCODE_FORMERR };
  let off = 12;
  const labels: string[] = [];
  for (;;) {
    if (off >= msg.length) return { id, error: RCODE_FORMERR };
    const len = msg[off]!;
    if (len === 0) {
      off++;
      break;
    }
    if (len & 0xc0) return { id, error: RCODE_FORMERR }; // no compression in questions
    labels.push(msg.subarray(off + 1, off + 1 + len).toString("latin1"));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return { id, error: RCODE_FORMERR };
  const qtype = msg.readUInt16BE(off);
  const qclass = msg.readUInt16BE(off + 2);
  return { id, flags, name: labels.join("."), qtype, qclass, question: msg.subarray(12, off + 4) };
}

function response(q: ParsedQuery, rcode: number, answers: Buffer[]): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  const opcode = (q.flags >> 11) & 0xf;
  const rd = q.flags & 0x0100;
  // QR=1, opcode echoed, AA=1, RD echoed, RA=0
  header.writeUInt16BE(0x8000 | (opcode << 11) | 0x0400 | rd | (rcode & 0xf), 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  return Buffer.concat([header, q.question, ...answers]);
}

function errorResponse(id: number, rcode: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x8000 | (rcode & 0xf), 2);
  return header;
}

function answerRecord(type: number, rdata: Buffer): Buffer {
  const rr = Buffer.alloc(12);
  rr.writeUInt16BE(0xc00c, 0); // pointer to the question name at offset 12
  rr.writeUInt16BE(type, 2);
  rr.writeUInt16BE(CLASS_IN, 4);
  rr.writeUInt32BE(5, 6); // TTL 5 s
  rr.writeUInt16BE(rdata.length, 10);
  return Buffer.concat([rr, rdata]);
}

/** Starts the server on 127.0.0.1 at a port that is free for both UDP and TCP. */
export async function startDnsServer(zone: DnsZone): Promise<DnsServer> {
  const records = new Map<string, DnsRecords>();
  const set = (name: string, rec: DnsRecords | undefined): void => {
    const key = normalise(name);
    if (rec === undefined) {
      records.delete(key);
      return;
    }
    // Validate now, so a typo fails the test at set-up and not as a mysterious SERVFAIL.
    rec.A?.forEach(ipv4Bytes);
    rec.AAAA?.forEach(ipv6Bytes);
    records.set(key, { A: rec.A ? [...rec.A] : undefined, AAAA: rec.AAAA ? [...rec.AAAA] : undefined });
  };
  for (const [name, rec] of Object.entries(zone)) set(name, rec);

  const queries: DnsQueryLog[] = [];

  const answer = (msg: Buffer, transport: "udp" | "tcp"): Buffer | null => {
    const q = parseQuery(msg);
    if (q === null) return null;
    if ("error" in q) return errorResponse(q.id, q.error);
    queries.push({ name: q.name, type: typeName(q.qtype), transport });
    if (((q.flags >> 11) & 0xf) !== 0) return response(q, RCODE_NOTIMP, []);
    const rec = records.get(normalise(q.name));
    if (rec === undefined) return response(q, RCODE_NXDOMAIN, []);
    if (q.qclass !== CLASS_IN) return response(q, 0, []);
    if (q.qtype === TYPE_A)
      return response(
        q,
        0,
        (rec.A ?? []).map((ip) => answerRecord(TYPE_A, ipv4Bytes(ip))),
      );
    if (q.qtype === TYPE_AAAA)
      return response(
        q,
        0,
        (rec.AAAA ?? []).map((ip) => answerRecord(TYPE_AAAA, ipv6Bytes(ip))),
      );
    return response(q, 0, []);
  };

  for (let attempt = 0; ; attempt++) {
    const port = await freePort("127.0.0.1");
    try {
      return await listenBoth(port, answer, queries, set);
    } catch (err) {
      if (attempt >= 10) throw err;
    }
  }
}

function listenBoth(
  port: number,
  answer: (msg: Buffer, transport: "udp" | "tcp") => Buffer | null,
  queries: DnsQueryLog[],
  set: (name: string, rec: DnsRecords | undefined) => void,
): Promise<DnsServer> {
  return new Promise((resolve, reject) => {
    const udp = dgram.createSocket("udp4");
    const tcpSockets = new Set<net.Socket>();
    const tcp = net.createServer((sock) => {
      tcpSockets.add(sock);
      sock.on("close", () => tcpSockets.delete(sock));
      sock.on("error", () => undefined);
      sock.setTimeout(10_000, () => sock.destroy());
      let buf = Buffer.alloc(0);
      sock.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        // RFC 1035 4.2.2: each TCP message is prefixed with a two-byte length.
        while (buf.length >= 2) {
          const len = buf.readUInt16BE(0);
          if (buf.length < 2 + len) break;
          const reply = answer(buf.subarray(2, 2 + len), "tcp");
          buf = buf.subarray(2 + len);
          if (reply) {
            const prefix = Buffer.alloc(2);
            prefix.writeUInt16BE(reply.length);
            sock.write(Buffer.concat([prefix, reply]));
          }
        }
      });
    });
    udp.on("message", (msg, rinfo) => {
      const reply = answer(msg, "udp");
      if (reply) udp.send(reply, rinfo.port, rinfo.address);
    });
    const fail = (err: Error): void => {
      udp.close();
      tcp.close();
      reject(err);
    };
    udp.once("error", fail);
    udp.bind(port, "127.0.0.1", () => {
      tcp.once("error", fail);
      tcp.listen({ port, host: "127.0.0.1", exclusive: true }, () => {
        udp.off("error", fail);
        tcp.off("error", fail);
        udp.on("error", () => undefined);
        let stopped: Promise<void> | undefined;
        resolve({
          host: "127.0.0.1",
          port,
          queries,
          set,
          stop() {
            stopped ??= new Promise<void>((done) => {
              for (const s of tcpSockets) s.destroy();
              let pending = 2;
              const one = (): void => {
                if (--pending === 0) done();
              };
              udp.close(one);
              tcp.close(() => one());
            });
            return stopped;
          },
        });
      });
    });
  });
}

/** @internal exported for the self-test */
export const _internal = { ipv6Bytes, ipv4Bytes };
