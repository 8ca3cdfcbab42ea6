import net from "node:net";

/** `::ffff:10.0.0.1` → `10.0.0.1`: sockets report IPv4 peers in mapped form on dual-stack listeners. */
export function normalizeIp(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m ? m[1]! : ip.toLowerCase();
}

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

function inV4(ip: string, base: string, bits: number): boolean {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (v4ToInt(ip) & mask) === (v4ToInt(base) & mask);
}

/** Private or otherwise unroutable from the internet (RFC 1918, 6598, 3927, 5735, 4193, 4291). */
export function isPrivateOrUnroutable(ipRaw: string): boolean {
  const ip = normalizeIp(ipRaw);
  if (net.isIPv4(ip)) {
    return (
      inV4(ip, "10.0.0.0", 8) ||
      inV4(ip, "172.16.0.0", 12) ||
      inV4(ip, "192.168.0.0", 16) ||
      inV4(ip, "100.64.0.0", 10) ||
      inV4(ip, "169.254.0.0", 16) ||
      inV4(ip, "0.0.0.0", 8) ||
      inV4(ip, "127.0.0.0", 8)
    );
  }
  if (net.isIPv6(ip)) {
    return ip === "::1" || ip === "::" || /^f[cd]/i.test(ip) || /^fe[89ab]/i.test(ip);
  }
  return false;
}

/** The FAULTS.md rule for the CLI: a differing PASV address in the control peer's /24 (or /64) is a permitted target. */
export function sameSubnet(aRaw: string, bRaw: string): boolean {
  const a = normalizeIp(aRaw);
  const b = normalizeIp(bRaw);
  if (net.isIPv4(a) && net.isIPv4(b)) return inV4(a, b, 24);
  if (net.isIPv6(a) && net.isIPv6(b)) return expandV6(a).slice(0, 4).join(":") === expandV6(b).slice(0, 4).join(":");
  return false;
}

function expandV6(ip: string): string[] {
  const [head, tail] = ip.split("::") as [string, string | undefined];
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const fill = tail !== undefined ? Array(8 - h.length - t.length).fill("0") : [];
  return [...h, ...fill, ...t].map((x) => x.padStart(4, "0"));
}

/** Match an address against host patterns and CIDRs (`203.0.113.0/24`, `2001:db8::/32`, exact IPs). */
export function addressMatches(ipRaw: string, patterns: readonly string[]): boolean {
  const ip = normalizeIp(ipRaw);
  for (const p of patterns) {
    const [base, bitsText] = p.split("/");
    if (!base) continue;
    if (bitsText === undefined) {
      if (normalizeIp(base) === ip) return true;
      continue;
    }
    const bits = Number(bitsText);
    if (net.isIPv4(ip) && net.isIPv4(base) && bits >= 0 && bits <= 32 && inV4(ip, base, bits)) return true;
    if (net.isIPv6(ip) && net.isIPv6(base) && bits >= 0 && bits <= 128) {
      const a = expandV6(ip).map((x) => parseInt(x, 16));
      const b = expandV6(base).map((x) => parseInt(x, 16));
      let ok = true;
      for (let i = 0; i < 8 && ok; i++) {
        const take = Math.max(0, Math.min(16, bits - i * 16));
        const mask = take === 0 ? 0 : (0xffff << (16 - take)) & 0xffff;
        ok = (a[i]! & mask) === (b[i]! & mask);
      }
      if (ok) return true;
    }
  }
  return false;
}

/** RFC 959 §4.1.2 `227 Entering Passive Mode (h1,h2,h3,h4,p1,p2)`; servers vary the wrapping text. */
export function parsePasv(text: string): { host: string; port: number } | undefined {
  // Whole numbers only: "(127,0,0,1,4,1000)" must not be read as port 4*256+100.
  const m = /(?<!\d)(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3}),\s*(\d{1,3})(?!\d)/.exec(text);
  if (!m) return undefined;
  const n = m.slice(1).map(Number);
  if (n.some((x) => x > 255)) return undefined;
  const port = n[4]! * 256 + n[5]!;
  if (port === 0) return undefined;
  return { host: n.slice(0, 4).join("."), port };
}

/** RFC 2428 `229 Entering Extended Passive Mode (|||port|)`; IBM i uses `!` as the delimiter. */
export function parseEpsv(text: string): number | undefined {
  const m = /\(([|!])\1\1(\d{1,5})\1\)/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  return port >= 1 && port <= 65535 ? port : undefined;
}
