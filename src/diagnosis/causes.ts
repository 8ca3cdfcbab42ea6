import { LIMITS } from "../config/defaults.js";
import type { Layer, RootCauseCode, ServerSoftware } from "./codes.js";

/**
 * Every root cause in one table: its layer, its title and explanation (worded from the facts a
 * rule found), and its fix. The compiler checks the table is complete (`{ [C in RootCauseCode] }`)
 * and that every rule hands each code the facts its wording needs. Rules (src/diagnosis/rules/)
 * decide WHICH code; this table says what it MEANS. shared/FAULTS.md is the reference.
 */

/** `host:port` as the user would type it. */
interface At {
  where: string;
}

/** The facts each code's wording needs. */
export interface CauseFacts {
  HEALTHY: At;
  DNS_NXDOMAIN: { host: string; resolver: string };
  DNS_PARTIAL: { host: string; total: number; failing: number };
  DNS_NO_ADDRESS: { host: string };
  DNS_TIMEOUT: { host: string; resolver: string };
  TCP_REFUSED: At & { port: number; sshHint: boolean };
  TCP_TIMEOUT: At & { port: number; deadlineMs: number; sshHint: boolean };
  TCP_UNREACHABLE: At;
  BANNER_TIMEOUT: At;
  IMPLICIT_TLS_PORT: At;
  CONNECTION_CLOSED: At & { kind: "silent" | "refusal" };
  SERVER_BUSY: At & { when: "greeting" | "login" };
  NOT_FTP_SSH: At;
  NOT_FTP_HTTP: At & { kind: "http" | "garbage" };
  FTPS_UNSUPPORTED: At;
  FTPS_REQUIRED: At & { when: "login" | "data" };
  TLS_PROTOCOL_OUTDATED: At & { protocol: string; cipher: string };
  TLS_HANDSHAKE_STALL: At & { plainWorks: boolean };
  TLS_HANDSHAKE_FAILED: At & { kind: "plain-port" | "other" };
  TLS_CERT_EXPIRED: At & { validTo: string };
  TLS_CERT_SELF_SIGNED: At;
  TLS_CERT_UNTRUSTED: At & { reason: string };
  TLS_HOSTNAME_MISMATCH: { host: string; names: string; checkedName: string };
  AUTH_FAILED: { user: string; kind: "rejected" | "no-password" };
  LOGIN_POLICY_DENIED: At & { user: string };
  CHROOT_WRITABLE_ROOT: Record<string, never>;
  HOME_DIR_MISSING: { user: string; words?: string };
  SERVER_CONFIG_ERROR: At & { words: string } & ({ stage: "greeting" | "login" } | { stage: "session"; during: string });
  STORAGE_FULL: { kind: "no-space" | "short-write" };
  PERMISSION_DENIED: { what: "list" | "upload" };
  IDLE_TIMEOUT: { seconds: number };
  PASV_ADDRESS_PRIVATE: { where: string; advertised: string; controlPeer: string };
  PASV_ADDRESS_WRONG: { where: string; advertised: string; controlPeer: string; permitted: boolean };
  PASV_PORTS_BLOCKED: { kind: "connect"; ports: number[]; how: "timeout" | "refused" | "other" } | { kind: "425" };
  PASV_DISABLED: At & { active?: "works" | "fails" };
  EPSV_BROKEN: { port?: number; status: string };
  DATA_FOREIGN_IP: Record<string, never>;
  TLS_SESSION_REUSE_REQUIRED: { notResumed: boolean };
  DATA_TLS_REQUIRED: Record<string, never>;
  ACTIVE_MODE_BLOCKED: { refused: boolean };
  CONNECTION_RESET: { kind: "data-tls" | "transfer" | "upload" } | { kind: "control"; closed: boolean; during: string };
  PROTOCOL_VIOLATION:
    | (At & { kind: "oversized-greeting" })
    | { kind: "list-unrecognised" | "list-too-large" | "list-failed" }
    | { kind: "oversized-reply" | "malformed-reply"; during: string };
  REPLY_TIMEOUT: { during: string };
  PATH_NOT_FOUND: { path: string };
  PATH_DENIED: { path: string };
  CLEARTEXT_PASSWORD_BLOCKED: At & { user: string; why: "tls-refused" | "tls-failed" | "plain-mode" };
  TARGET_NOT_PERMITTED: { name: string; address: string; rule: string };
}

type PerServer = Partial<Record<Exclude<ServerSoftware, "unknown">, string[]>>;

export interface Fix {
  /** Steps that apply whatever the server software is. */
  any: string[];
  /** The server's own settings: shown first when the software is known, as alternatives when not. */
  server?: PerServer;
}

interface Cause<F> {
  layer: Layer;
  title: (f: F) => string;
  explanation: (f: F) => string;
  fix: Fix;
}

const SSH_HINT = " Port 22 answers SSH: if you meant SFTP, use an SFTP client.";

const PASV_ADDRESS_FIX: PerServer = {
  vsftpd: ["Set `pasv_address=<public IP>` (and `pasv_addr_resolve=YES` if you give a name) in vsftpd.conf, then restart vsftpd."],
  proftpd: ["Set `MasqueradeAddress <public IP or name>` in proftpd.conf (inside the right <VirtualHost>), then restart."],
  "pure-ftpd": ["Start pure-ftpd with `-P <public IP>` (`ForcePassiveIP` in pure-ftpd.conf)."],
  filezilla: ["Server settings → Passive mode → use a custom public IP/host for passive mode."],
  iis: ["IIS Manager → FTP Firewall Support → set *External IP Address of Firewall* (`externalIp4Address`)."],
  "ftp-srv": ["Set the `pasv_url` option to the public address: ftp-srv advertises it in PASV replies."],
  pyftpdlib: [
    'Set `handler.masquerade_address = "<public IP>"` (or `masquerade_address_map` for several NATs); CLI: `python3 -m pyftpdlib -n <public IP>`.',
  ],
  twisted: [
    "Twisted advertises the address the client connected to and has no override: let an FTP-aware NAT helper rewrite PASV, or run it on the public address.",
  ],
  inetutils: [
    "GNU inetutils ftpd advertises its local address and has no masquerade setting: use an " +
      "FTP-aware NAT helper (`nf_nat_ftp`, plain FTP only) or a daemon with a passive-address setting.",
  ],
  netkit: [
    "netkit ftpd advertises its local address and has no masquerade setting: use an FTP-aware " +
      "NAT helper (`nf_nat_ftp`, plain FTP only) or a daemon with a passive-address setting.",
  ],
};

const PASV_RANGE_FIX: PerServer = {
  vsftpd: ["Pin the range with `pasv_min_port=` / `pasv_max_port=` in vsftpd.conf and open exactly that range."],
  proftpd: ["Pin the range with `PassivePorts <min> <max>` in proftpd.conf and open exactly that range."],
  "pure-ftpd": ["Pin the range with `-p <min>:<max>` (`PassivePortRange`) and open exactly that range."],
  filezilla: ["Server settings → Passive mode → custom port range; open it on the Windows firewall and any NAT."],
  iis: [
    "IIS Manager → FTP Firewall Support → *Data Channel Port Range* (`lowDataChannelPort`/`highDataChannelPort`); open it on the firewall.",
  ],
  "ftp-srv": ["Pin the range with the `pasv_min`/`pasv_max` options and open exactly that range."],
  pyftpdlib: ["Pin the range with `handler.passive_ports = range(<min>, <max> + 1)` (CLI `-r <min>-<max>`) and open exactly that range."],
  twisted: [
    "Pin the range with `FTPFactory.passivePortRange = range(<min>, <max> + 1)` (default: any free port) and open exactly that range.",
  ],
  inetutils: [
    "Passive ports come from the kernel's ephemeral range (`sysctl net.ipv4.ip_local_port_range`): " +
      "open that range, or load the `nf_conntrack_ftp` helper on the firewall (plain FTP only).",
  ],
  netkit: [
    "Passive ports come from the kernel's ephemeral range (`-h` picks the high range; `sysctl " +
      "net.ipv4.ip_local_port_range`): open that range, or load `nf_conntrack_ftp` (plain FTP only).",
  ],
};

export const CAUSES: { [C in RootCauseCode]: Cause<CauseFacts[C]> } = {
  HEALTHY: {
    layer: "none",
    title: (f) => `${f.where} is healthy`,
    explanation: () => "Every step that ran succeeded.",
    fix: { any: ["Nothing to fix. Keep the check scheduled so a regression is caught before users notice."] },
  },

  // ------------------------------------------------------------------ name and address
  DNS_NXDOMAIN: {
    layer: "dns",
    title: (f) => `${f.host} does not exist in DNS`,
    explanation: (f) => `The resolver (${f.resolver}) answered NXDOMAIN: no such name. Nothing past DNS was tried.`,
    fix: {
      any: [
        "Check the spelling of the host name; paste only the name (no ftp:// scheme, path or port).",
        "If the name is right, create or restore its A/AAAA record at the DNS provider; check the zone is delegated.",
      ],
    },
  },
  DNS_NO_ADDRESS: {
    layer: "dns",
    title: (f) => `${f.host} has no address records`,
    explanation: () => "The name exists but has neither an A nor an AAAA record.",
    fix: { any: ["The name exists but has no A or AAAA record: add one (a CNAME to a name that has them also works)."] },
  },
  DNS_TIMEOUT: {
    layer: "dns",
    title: (f) => `DNS lookup of ${f.host} failed`,
    explanation: (f) => `The resolver (${f.resolver}) did not give an answer.`,
    fix: {
      any: ["The resolver did not answer: check the worker's /etc/resolv.conf or the --resolver given, and that UDP/TCP 53 is allowed."],
    },
  },
  DNS_PARTIAL: {
    layer: "dns",
    title: (f) => `Some addresses of ${f.host} do not answer`,
    explanation: (f) =>
      `${f.host} resolves to ${f.total} addresses; ${f.failing} of them fail, so clients fail or work depending on which one they pick.`,
    fix: {
      any: [
        "Remove the DNS record(s) for the addresses that do not answer, or bring the server up on them.",
        "Clients pick an address at random: until this is fixed, some of them fail and some work.",
      ],
      server: { vsftpd: ["If the dead address is IPv6: set `listen_ipv6=YES` (and `listen=NO`) so vsftpd listens on both families."] },
    },
  },

  // ------------------------------------------------------------------ tcp
  TCP_REFUSED: {
    layer: "tcp",
    title: (f) => `Connection refused on ${f.where}`,
    explanation: (f) =>
      `The host answered at once with a reset: it is up, but nothing accepts connections on port ${f.port}.${f.sshHint ? SSH_HINT : ""}`,
    fix: {
      any: [
        "Nothing listens on this address and port: check that the FTP service is running (`systemctl status <daemon>`, `ss -ltnp | grep :21`).",
        "Check the port: FTP is 21, implicit FTPS 990, SFTP (SSH) 22.",
        "If the daemon runs, check its listen address (it may listen on 127.0.0.1 or on IPv6 only) and any REJECT firewall rule.",
      ],
      server: {
        vsftpd: ["Check `listen_address=` and `listen=`/`listen_ipv6=` in vsftpd.conf."],
        proftpd: ["Check `Port` and `DefaultAddress`/`<VirtualHost>` addresses in proftpd.conf."],
        "pure-ftpd": ["Check the `-S host,port` (`Bind`) option."],
      },
    },
  },
  TCP_TIMEOUT: {
    layer: "tcp",
    title: (f) => `No answer from ${f.where}: connection attempts time out`,
    explanation: (f) =>
      `TCP SYNs to port ${f.port} got no reply within our ${f.deadlineMs} ms deadline: something ` +
      `drops the packets (firewall, security group) or the host is down.${f.sshHint ? SSH_HINT : ""}`,
    fix: {
      any: [
        "SYN packets go unanswered: a firewall or security group drops the control port. Allow TCP to it from this network.",
        "Check every hop: host firewall (iptables/nftables, Windows Firewall), cloud security group / NACL, and any perimeter firewall.",
        "If the server moved, check that DNS points at its current address.",
      ],
    },
  },
  TCP_UNREACHABLE: {
    layer: "tcp",
    title: (f) => `${f.where} is unreachable from here`,
    explanation: () => "The network answered that there is no route to the host (ICMP unreachable).",
    fix: {
      any: [
        "The network said there is no route to this address (ICMP unreachable): check routing, VPN tunnels and VLANs between this zone and the server.",
        "A firewall configured to REJECT with host-unreachable produces the same error: check its rules.",
      ],
    },
  },

  // ------------------------------------------------------------------ greeting
  BANNER_TIMEOUT: {
    layer: "greeting",
    title: (f) => `${f.where} accepts connections but never greets`,
    explanation: () =>
      "TCP connects, but no 220 greeting arrived. Typical causes: " +
      "the daemon does reverse DNS or ident lookups that time out, it is hung, or a proxy has no backend.",
    fix: {
      any: [
        "The server accepts TCP but never says 220. Usual causes: the daemon does reverse DNS or " +
          "ident lookups that time out, it is hung, or a proxy/load balancer has no healthy backend.",
        "Check the daemon's log for the connection and restart it if it is stuck.",
      ],
      server: {
        proftpd: ["Set `UseReverseDNS off` and `IdentLookups off` in proftpd.conf."],
        vsftpd: ["Set `reverse_lookup_enable=NO` in vsftpd.conf."],
        "pure-ftpd": ["Start pure-ftpd with `-H` (`DontResolve yes`)."],
        netkit: ["Start it with `-n` (numeric addresses in logs: no reverse DNS lookup per connection)."],
      },
    },
  },
  IMPLICIT_TLS_PORT: {
    layer: "greeting",
    title: (f) => `${f.where} expects implicit FTPS (TLS first)`,
    explanation: () => "The port stays silent to plain FTP, but a TLS handshake on it succeeds: it is an implicit-FTPS port.",
    fix: {
      any: [
        "This port speaks implicit FTPS (TLS first, then FTP): connect with `ftps://host:port` (curl: " +
          "`ftps://`, lftp: `set ftp:ssl-force true; open ftps://…`).",
        "Or use the server's explicit-FTPS/plain port (usually 21) with AUTH TLS.",
      ],
    },
  },
  CONNECTION_CLOSED: {
    layer: "greeting",
    title: (f) =>
      f.kind === "silent" ? `${f.where} closes the connection without a greeting` : `${f.where} refuses the session at the greeting`,
    explanation: (f) =>
      f.kind === "silent"
        ? "The server accepted TCP and then closed it without a reply: access control (tcp_wrappers, bans) or a load balancer without healthy backends."
        : "The server answered the connection with a refusal instead of 220 (access control or a closing service).",
    fix: {
      any: [
        "The server closed the connection without a usable reply. Check access control " +
          "(tcp_wrappers `/etc/hosts.allow`/`hosts.deny`, fail2ban, per-IP bans) and the daemon's log.",
        "Behind a load balancer: check that it has healthy backends.",
      ],
      server: {
        vsftpd: ["Check `tcp_wrappers=` and /etc/hosts.allow; check `deny_file`/`max_per_ip`."],
        proftpd: ["Check `<Limit LOGIN>` blocks, mod_wrap2 and mod_ban rules (`ftpdctl ban info`)."],
        "pure-ftpd": ["Check the `-C`/`-c` connection limits and any fail2ban jail."],
      },
    },
  },
  SERVER_BUSY: {
    layer: "greeting",
    title: (f) =>
      f.when === "greeting"
        ? `${f.where} is refusing sessions: too many connections`
        : `${f.where} refuses the login: too many connections`,
    explanation: (f) =>
      f.when === "greeting"
        ? "The server answered the connection with a refusal citing its connection limits."
        : "The server accepted the connection but refused the session because of its connection limits.",
    fix: {
      any: [
        "The server refuses new sessions because of its connection limits. Find who holds the sessions (`ss -tnp | grep :21`), and make clients send QUIT.",
        "Raise the limit if the load is legitimate.",
      ],
      server: {
        vsftpd: ["Raise `max_clients=` and/or `max_per_ip=` in vsftpd.conf."],
        proftpd: ["Raise `MaxClients`, `MaxClientsPerHost` or `MaxClientsPerUser` in proftpd.conf."],
        "pure-ftpd": ["Raise `-c` (MaxClientsNumber) and `-C` (MaxClientsPerIP)."],
        filezilla: ["Server settings → connection limits."],
        iis: ["FTP site → Advanced Settings → Connections → maxConnections."],
        pyftpdlib: ["Raise `FTPServer.max_cons` (default 512) and `FTPServer.max_cons_per_ip` (default 0, unlimited)."],
        twisted: ["Raise `FTPFactory.connectionLimit` (Twisted's LimitTotalConnectionsFactory)."],
        inetutils: [
          "GNU inetutils ftpd has no connection limit of its own: raise the inetd/xinetd (`instances`, " +
            "`per_source`) or systemd socket (`MaxConnections=`, `MaxConnectionsPerSource=`) limit that runs it.",
        ],
        netkit: [
          "netkit ftpd has no connection limit of its own: raise the inetd/xinetd (`instances`, " +
            "`per_source`) or systemd socket (`MaxConnections=`, `MaxConnectionsPerSource=`) limit that runs it.",
        ],
      },
    },
  },
  NOT_FTP_SSH: {
    layer: "greeting",
    title: (f) => `${f.where} speaks SSH, not FTP`,
    explanation: () => "The port answered with an SSH banner: this is an SFTP/SSH service.",
    fix: {
      any: [
        "This port speaks SSH: the server offers SFTP, not FTP. Use an SFTP client (`sftp -P <port> user@host`), or point the FTP client at the FTP port.",
      ],
    },
  },
  NOT_FTP_HTTP: {
    layer: "greeting",
    title: (f) => (f.kind === "http" ? `${f.where} speaks HTTP, not FTP` : `${f.where} does not speak FTP`),
    explanation: (f) =>
      f.kind === "http"
        ? "The port answered like a web server: the name may point at a web host, CDN or proxy instead of the FTP server."
        : "The port answered with text that is not an FTP greeting.",
    fix: {
      any: [
        "Something other than FTP answers here (an HTTP server, a CDN or a proxy). " +
          "If the name is behind a CDN/HTTP proxy, give FTP a DNS-only record pointing at the FTP host.",
        "Check the port number you used.",
      ],
    },
  },

  // ------------------------------------------------------------------ tls
  FTPS_UNSUPPORTED: {
    layer: "tls",
    title: (f) => `${f.where} does not offer FTPS`,
    explanation: () => "The check asked for explicit TLS and the server refused AUTH TLS: it has no TLS configured.",
    fix: {
      any: [
        "The server does not offer TLS (AUTH TLS refused). Enable FTPS on the server, or accept plain FTP knowingly (passwords travel in clear text).",
      ],
      server: {
        vsftpd: ["Set `ssl_enable=YES`, `rsa_cert_file=` and `rsa_private_key_file=` in vsftpd.conf."],
        proftpd: [
          "Load mod_tls and set `TLSEngine on`, `TLSRSACertificateFile`, `TLSRSACertificateKeyFile`, `TLSProtocol TLSv1.2 TLSv1.3`.",
        ],
        "pure-ftpd": ["Start pure-ftpd with `--tls=1` (or 2 to require it) and a certificate in /etc/ssl/private/pure-ftpd.pem."],
        filezilla: ["Server settings → FTP over TLS settings → enable, with a certificate."],
        iis: ["FTP SSL Settings → select a certificate; choose Allow or Require SSL connections."],
        "ftp-srv": ["Pass `tls: { key, cert }` in the FtpSrv options (explicit FTPS with AUTH TLS)."],
        pyftpdlib: ["Use `TLS_FTPHandler` (needs PyOpenSSL) with `certfile`/`keyfile` instead of `FTPHandler`."],
        twisted: ["Twisted's FTP server has no FTPS: put a TLS-capable daemon in its place, or accept plain FTP knowingly."],
        inetutils: ["GNU inetutils ftpd has no TLS: use the TLS build of netkit ftpd (Debian `ftpd-ssl`), vsftpd or ProFTPD for FTPS."],
        netkit: ["Install the TLS build (Debian `ftpd-ssl`) and give it a certificate (`-z cert=FILE -z key=FILE`)."],
      },
    },
  },
  FTPS_REQUIRED: {
    layer: "tls",
    title: (f) => (f.when === "login" ? `${f.where} requires FTPS for logins` : `${f.where} requires FTPS for data transfers`),
    explanation: (f) =>
      f.when === "login"
        ? "The server refuses logins over plain FTP; the client must use explicit TLS."
        : "The server refuses passive data connections on a plain FTP session: " +
          "it wants TLS on the data channel, which needs a TLS session first. The client must use explicit TLS.",
    fix: {
      any: [
        "The server only accepts logins over TLS. Use explicit FTPS in the client: " +
          "curl `--ssl-reqd`, lftp `set ftp:ssl-force true`, FileZilla *Require explicit FTP over TLS*.",
      ],
      server: {
        vsftpd: ["This is `force_local_logins_ssl=YES` on the server: right, keep it; fix the client."],
        "pure-ftpd": ["This is `--tls=2`/`--tls=3` on the server: keep it; fix the client."],
        iis: ["This is the *Require SSL connections* policy: keep it; fix the client."],
        proftpd: ["This is `TLSRequired on` in proftpd.conf: keep it; fix the client."],
        pyftpdlib: ["This is `TLS_FTPHandler.tls_control_required = True` (and `tls_data_required` for data): keep it; fix the client."],
        netkit: ["This is `-z secure` (ftpd-ssl): keep it; fix the client."],
      },
    },
  },
  TLS_PROTOCOL_OUTDATED: {
    layer: "tls",
    title: (f) => `${f.where} only speaks outdated TLS`,
    explanation: (f) =>
      `A modern TLS handshake fails, but one allowing legacy protocols and ciphers works (${f.protocol}, ${f.cipher}): current clients refuse this server.`,
    fix: {
      any: [
        "The server only offers outdated TLS (1.0/1.1) or weak ciphers/DH parameters, which current clients " +
          "refuse. Enable TLS 1.2 and 1.3 with modern ciphers; renew weak DH parameters (2048 bits or more).",
      ],
      server: {
        vsftpd: [
          "Set `ssl_tlsv1_2=YES` (and `ssl_tlsv1=NO`, `ssl_tlsv1_1=NO`), `ssl_ciphers=HIGH` in vsftpd.conf; vsftpd 3.0.3+ is needed for TLS 1.2.",
        ],
        proftpd: [
          "Set `TLSProtocol TLSv1.2 TLSv1.3` and `TLSCipherSuite HIGH:!aNULL:!MD5`; replace `TLSDHParamFile` with 2048-bit parameters.",
        ],
        "pure-ftpd": ["Upgrade pure-ftpd/OpenSSL and set `-J HIGH` (`TLSCipherSuite`)."],
        filezilla: ["Upgrade FileZilla Server (0.9.x only speaks old TLS) and set the minimum TLS version to 1.2."],
        iis: ["Enable TLS 1.2 in SChannel (registry or IIS Crypto) and disable TLS 1.0/1.1."],
      },
    },
  },
  TLS_HANDSHAKE_STALL: {
    layer: "tls",
    title: (f) => `TLS handshake to ${f.where} stalls`,
    explanation: (f) =>
      "AUTH TLS was accepted but the handshake never completed" +
      `${f.plainWorks ? ", while plain FTP on another connection works" : ""}: ` +
      "the server's certificate flight is probably lost on the path (MTU/MSS black hole).",
    fix: {
      any: [
        "AUTH TLS is accepted but the handshake never completes while plain FTP works: " +
          "the server's certificate flight (large packets) is lost on the path — an MTU/MSS black hole.",
        "Fix MSS clamping on the VPN/tunnel/firewall (`iptables -t mangle -A FORWARD -p tcp --tcp-flags " +
          "SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`) or let ICMP 'fragmentation needed' through.",
        "A middlebox that inspects FTP (an FTP ALG) can also stall TLS: disable FTP inspection for this server.",
      ],
    },
  },
  TLS_HANDSHAKE_FAILED: {
    layer: "tls",
    title: (f) => (f.kind === "plain-port" ? `${f.where} is not an implicit-FTPS port` : `TLS handshake with ${f.where} fails`),
    explanation: (f) =>
      f.kind === "plain-port"
        ? "The check started TLS at once (implicit FTPS), but the port answered in plain text: it is a plain/explicit FTP port."
        : "The TLS handshake failed, and not because of an outdated protocol (a legacy-allowing retry failed too).",
    fix: {
      any: [
        "The TLS handshake failed for a reason other than an old protocol: " +
          "check the server's TLS configuration (certificate/key pair, cipher list) and its log.",
        "If the port speaks plain FTP, use explicit FTPS (ftpes:// or --tls explicit) on it instead of implicit TLS.",
      ],
    },
  },
  TLS_CERT_EXPIRED: {
    layer: "tls",
    title: (f) => `The TLS certificate of ${f.where} has expired`,
    explanation: (f) => `The certificate expired on ${f.validTo}: clients that verify certificates refuse the connection.`,
    fix: {
      any: [
        "Renew the certificate and install it with its intermediates, then reload the daemon. " +
          "Automate renewal (ACME/certbot deploy hook that reloads the FTP daemon).",
      ],
      server: {
        vsftpd: [
          "Update `rsa_cert_file`/`rsa_private_key_file` and restart vsftpd (it reads them at connection time, but a restart is safest).",
        ],
        proftpd: ["Update `TLSRSACertificateFile`/`TLSCertificateChainFile` and restart proftpd."],
        "pure-ftpd": ["Replace /etc/ssl/private/pure-ftpd.pem (key + certificate + chain) and restart."],
        iis: ["Bind the renewed certificate in FTP SSL Settings."],
        "ftp-srv": ["Replace the `tls.cert`/`tls.key` given to FtpSrv and restart the process."],
        pyftpdlib: ["Replace `TLS_FTPHandler.certfile`/`keyfile` and restart."],
        netkit: ["Replace the `-z cert=`/`-z key=` files and restart."],
      },
    },
  },
  TLS_CERT_SELF_SIGNED: {
    layer: "tls",
    title: (f) => `${f.where} presents a self-signed certificate`,
    explanation: () => "The certificate is not issued by a trusted CA: clients that verify certificates refuse it.",
    fix: {
      any: [
        "The server presents a self-signed certificate: clients that verify certificates refuse it. " +
          "Install a CA-issued certificate (e.g. ACME/Let's Encrypt for the server's name).",
        "If a private CA is intended, distribute it to clients and pass it to the check with --ca FILE (or the profile's CA file).",
      ],
    },
  },
  TLS_CERT_UNTRUSTED: {
    layer: "tls",
    title: (f) => `The certificate chain of ${f.where} is not trusted`,
    explanation: (f) =>
      `The chain the server sends does not lead to a trusted root (${f.reason}); most often an intermediate certificate is missing.`,
    fix: {
      any: [
        "The certificate chain does not lead to a trusted root: most often the intermediate certificate is missing from what the server sends.",
        "Install the full chain (leaf + intermediates) on the server; if a private CA is used, give it to the check with --ca.",
      ],
      server: {
        vsftpd: ["Point `rsa_cert_file` at a file containing the leaf followed by its intermediate(s)."],
        proftpd: ["Set `TLSCertificateChainFile` to the intermediate bundle."],
        "pure-ftpd": ["Append the intermediate(s) after the certificate in pure-ftpd.pem."],
        "ftp-srv": ["Put the intermediate(s) after the leaf in `tls.cert`."],
        pyftpdlib: ["Put the intermediate(s) after the leaf in `certfile`."],
      },
    },
  },
  TLS_HOSTNAME_MISMATCH: {
    layer: "tls",
    title: (f) => `The certificate does not match ${f.host}`,
    explanation: (f) => `The certificate is for ${f.names}, not for the name used (${f.checkedName}).`,
    fix: {
      any: [
        "The certificate does not name the host you connected to. " +
          "Connect by a name the certificate lists, or reissue the certificate with this name in its SAN.",
        "Shared hosting often serves a `*.provider` certificate: use the provider's host name for FTPS.",
      ],
    },
  },

  // ------------------------------------------------------------------ login and session
  AUTH_FAILED: {
    layer: "auth",
    title: (f) => (f.kind === "no-password" ? `No password available for ${f.user}` : `Login failed for ${f.user}`),
    explanation: (f) =>
      f.kind === "no-password"
        ? "The server asks for a password and the check has none: set the profile's password variable."
        : "The server rejected the credentials after the password was sent.",
    fix: {
      any: [
        "The server rejected the user name or password. Check the credentials in the profile or secret store, and whether the account is locked or expired.",
        "Repeated failures can trigger bans: check lockout/autoban before retrying many times.",
      ],
      server: {
        vsftpd: ["Check the PAM stack (`pam_service_name`), /etc/ftpusers, `userlist_enable`/`userlist_file`, and `max_login_fails`."],
        proftpd: [
          "Check `AuthOrder`, the AuthUserFile or SQL backend, `RequireValidShell`, and mod_ban (`ftpdctl ban info`).",
          "ProFTPD also answers `530 Login incorrect.` to a right password when the user's home or " +
            "`DefaultRoot` cannot be entered, or a `<Limit LOGIN>` denies the user: its SystemLog says " +
            "which (`chdir(...) failed`, `unable to set DefaultRoot directory`, `Limit access denies login`).",
        ],
        "pure-ftpd": ["Check the user with `pure-pw show <user>`, run `pure-pw mkdb` after changes, check the -l auth order."],
        filezilla: ["Check the user and password in the server's Users settings, and autoban."],
        iis: ["Check the Windows/IIS Manager user, FTP Authorization Rules and account lockout."],
        "ftp-srv": [
          "ftp-srv checks logins in the application's `login` event handler: the 530 text is that handler's error; check what it rejects.",
        ],
        pyftpdlib: [
          "Check the authorizer (`DummyAuthorizer.add_user`, `UnixAuthorizer`); pyftpdlib waits `auth_failed_timeout` (3 s) before answering a failed login.",
        ],
        twisted: ["Check the portal's credentials checker (e.g. the `--password-file` of `twistd ftp`)."],
        inetutils: ["Check PAM (service `ftp`), /etc/ftpusers (a deny list) and that the user's shell is listed in /etc/shells."],
        netkit: ["Check PAM (service `ftp`), /etc/ftpusers (a deny list) and that the user's shell is listed in /etc/shells."],
      },
    },
  },
  LOGIN_POLICY_DENIED: {
    layer: "auth",
    title: (f) => `${f.where} refuses the user ${f.user}`,
    explanation: () =>
      "The server refused the user name before asking for a password: a policy (deny list, disabled account), not a wrong password.",
    fix: {
      any: [
        "The server refused the user before asking for a password: a policy (deny list, disabled account, anonymous-only server) rather than a wrong password.",
      ],
      server: {
        vsftpd: ["Check /etc/ftpusers, `userlist_enable`/`userlist_deny`/`userlist_file`, and `local_enable=YES`."],
        proftpd: ["Check `<Limit LOGIN>` blocks, `DenyUser`, and `<Anonymous>` sections."],
        "pure-ftpd": ["Check `-e` (anonymous only) and `-u` (minimum UID)."],
        pyftpdlib: ["Check the authorizer: the user must be added (`add_user`); anonymous needs `add_anonymous`."],
        inetutils: ["Check /etc/ftpusers (users listed there are refused) and `-A` (anonymous only)."],
        netkit: ["Check /etc/ftpusers (users listed there are refused) and `-A` (anonymous only)."],
      },
    },
  },
  CHROOT_WRITABLE_ROOT: {
    layer: "server",
    title: () => "vsftpd refuses the login: the chroot directory is writable",
    explanation: () => "vsftpd will not chroot a user into a directory that user can write to, and ends the session.",
    fix: {
      any: ["vsftpd refuses to chroot into a directory the user can write to."],
      server: {
        vsftpd: [
          "Make the user's root read-only: `chmod a-w <home>` and give them a writable subdirectory (e.g. <home>/upload).",
          "Or, knowingly, set `allow_writeable_chroot=YES` in vsftpd.conf.",
        ],
      },
    },
  },
  HOME_DIR_MISSING: {
    layer: "server",
    title: (f) => `The home directory of ${f.user} cannot be entered`,
    explanation: (f) =>
      f.words
        ? `The password was accepted, then the server could not enter the account's home: ${f.words}`
        : "The server accepted the user but could not enter its home directory.",
    fix: {
      any: [
        "The account logs in but its home (or the configured root) does not exist or cannot be entered: " +
          "create it, fix owner and mode, or point the server at the right directory.",
      ],
      server: {
        vsftpd: [
          "Create the home from /etc/passwd (or `local_root=` / `anon_root=`), owned so the user can enter it (mode 755 or 555 for chroot).",
        ],
        proftpd: ["Check `DefaultRoot` and the home in the AuthUserFile/passwd; `CreateHome on` creates homes at login."],
        "pure-ftpd": ["Create the home from `pure-pw show`, or start pure-ftpd with `-j` (CreateHomeDir)."],
      },
    },
  },
  SERVER_CONFIG_ERROR: {
    layer: "server",
    title: (f) =>
      f.stage === "session"
        ? `${f.where} aborted the session during ${f.during}`
        : f.stage === "greeting"
          ? `${f.where} reports a configuration error`
          : "The server reports a configuration error at login",
    explanation: (f) => `The server's own words: ${f.words}`,
    fix: {
      any: ["The server reported an internal configuration error (quoted in the evidence): fix that setting and restart the daemon."],
    },
  },
  STORAGE_FULL: {
    layer: "server",
    title: (f) => (f.kind === "no-space" ? "Uploads fail: no space left" : "Uploaded data did not read back intact"),
    explanation: (f) =>
      f.kind === "no-space"
        ? "The server could not store the test file: its disk or the user's quota is full."
        : "The upload was acknowledged but the file read back differs (a short write).",
    fix: {
      any: ["The upload failed for lack of space: free disk space on the server's filesystem (`df -h`), or raise the user's quota."],
      server: {
        proftpd: ["Check `QuotaLimits`/mod_quotatab tallies (`ftpquota --show-records`)."],
        "pure-ftpd": ["Check `-n` quotas and `-k` (max disk usage percent)."],
      },
    },
  },
  PERMISSION_DENIED: {
    layer: "server",
    title: (f) => (f.what === "list" ? "Listing the directory is not permitted" : "Uploads are not permitted"),
    explanation: (f) =>
      f.what === "list"
        ? "Login works, but the server refuses the directory listing."
        : "Login and listing work, but the server refuses to store a file here.",
    fix: {
      any: [
        "Login works but the operation is not allowed: check filesystem permissions and ownership of the directory, and the server's write settings.",
      ],
      server: {
        vsftpd: [
          "For uploads: `write_enable=YES` (and `anon_upload_enable=YES` for anonymous); the directory must be writable by the session's user.",
        ],
        proftpd: ["Check `<Directory>`/`<Limit WRITE STOR>` blocks and `AllowOverwrite`."],
        "pure-ftpd": ["Check `-i` (anonymous can't upload) and directory ownership of the virtual user's uid."],
        "ftp-srv": ["Check the `root` the login handler resolves and the filesystem permissions of the Node.js process."],
        pyftpdlib: ['Give the user write permissions in the authorizer (`perm="elradfmw"`: a, d, f, m, w are the write permissions).'],
        twisted: ["Twisted serves anonymous users read-only; check the avatar's filesystem permissions."],
        inetutils: ["Check the directory's owner and mode, and the `-u` umask."],
        netkit: ["Check the directory's owner and mode, and the `-u` umask."],
      },
    },
  },
  IDLE_TIMEOUT: {
    layer: "server",
    title: (f) => `The session is dropped after ${f.seconds} s idle`,
    explanation: () => "An idle control connection was closed by the server or a middlebox.",
    fix: {
      any: [
        "An idle control connection was dropped. Raise the server's idle timeout, " +
          "make clients send NOOP keepalives during long transfers, or raise NAT/firewall idle timers.",
      ],
      server: {
        vsftpd: ["Raise `idle_session_timeout=` (and `data_connection_timeout=`)."],
        proftpd: ["Raise `TimeoutIdle` (and `TimeoutNoTransfer`)."],
        "pure-ftpd": ["Raise `-I` (MaxIdleTime, minutes)."],
        "ftp-srv": ["Raise the `timeout` option (idle, milliseconds; 0 means none)."],
        pyftpdlib: ["Raise `FTPHandler.timeout` (idle, default 300 s) and `DTPHandler.timeout`."],
        twisted: ["Raise `FTPFactory.timeOut` (idle, default 600 s)."],
        inetutils: ["Raise `-t`/`--timeout` (idle, default 900 s) and `-T`/`--max-timeout`."],
        netkit: ["Raise `-t` (idle, default 900 s) and `-T` (the most a client may ask for)."],
      },
    },
  },

  // ------------------------------------------------------------------ data channel
  PASV_ADDRESS_PRIVATE: {
    layer: "data",
    title: (f) => `${f.where} advertises a private address for passive mode`,
    explanation: (f) =>
      `The PASV reply tells clients to connect to ${f.advertised}, a private address, ` +
      `while the server was reached at ${f.controlPeer}. Clients that follow the reply fail; ` +
      "clients that swap in the control address (FileZilla, curl, lftp) hide the problem.",
    fix: {
      any: [
        "The server advertises a private address in its PASV reply: " +
          "clients outside its network cannot reach it. Clients that silently substitute the control address " +
          "(FileZilla, curl, lftp) hide this — which is why it 'works in FileZilla but fails in my app'.",
        "Configure the public address the server should advertise:",
      ],
      server: PASV_ADDRESS_FIX,
    },
  },
  PASV_ADDRESS_WRONG: {
    layer: "data",
    title: (f) => `${f.where} advertises the wrong address for passive mode`,
    explanation: (f) =>
      `The PASV reply names ${f.advertised}, not the address the server was reached at ` +
      `(${f.controlPeer})${
        f.permitted
          ? ", and nothing answers there"
          : "; ftp-doctor does not connect to third addresses that are not permitted targets (FTP bounce)"
      }.`,
    fix: {
      any: [
        "The PASV reply names an address other than the one you connected to. Configure the correct public address (a stale one is common after an IP change):",
      ],
      server: PASV_ADDRESS_FIX,
    },
  },
  PASV_PORTS_BLOCKED: {
    layer: "data",
    title: (f) => (f.kind === "425" ? "The server could not use the data connection" : "Passive data ports are blocked"),
    explanation: (f) =>
      f.kind === "425"
        ? "The data connection was opened, but the server reports it never got it: a firewall or NAT forwarded it elsewhere."
        : `Login works, but connections to the passive data port${f.ports.length > 1 ? "s" : ""} ${f.ports.join(", ")} ${
            f.how === "timeout"
              ? "time out (dropped by a firewall)"
              : f.how === "refused"
                ? "are refused (a REJECT rule or a missing port forward)"
                : "fail"
          }.`,
    fix: {
      any: [
        "The passive data ports are not reachable: open the server's passive port range on every " +
          "firewall and NAT between clients and server, and make the range match the server setting.",
      ],
      server: PASV_RANGE_FIX,
    },
  },
  PASV_DISABLED: {
    layer: "data",
    title: (f) => `${f.where} refuses passive mode`,
    explanation: (f) =>
      `Both EPSV and PASV are refused.${
        f.active ? ` Active mode ${f.active === "works" ? "works" : "fails too"}.` : " Active mode was not tested (--active)."
      }`,
    fix: {
      any: [
        "The server refuses both EPSV and PASV: enable passive mode with a fixed port range and open it on the firewall. Active mode rarely survives NAT.",
      ],
      server: {
        ...PASV_RANGE_FIX,
        vsftpd: ["Set `pasv_enable=YES` with `pasv_min_port`/`pasv_max_port`."],
        "ftp-srv": ["ftp-srv answers PASV with 502 unless `pasv_url` is set: set it (with `pasv_min`/`pasv_max`)."],
      },
    },
  },
  EPSV_BROKEN: {
    layer: "data",
    title: () => "EPSV data connections fail while PASV works",
    explanation: (f) => `The server accepted EPSV but its port (${f.port}) is ${f.status}, while the PASV port connects.`,
    fix: {
      any: [
        "EPSV is accepted but its port is unreachable while PASV works: a load balancer or NAT maps PASV correctly but not EPSV.",
        "Disable EPSV on that path (or fix the mapping); clients can be told to use PASV (curl `--disable-epsv`, lftp `set ftp:prefer-epsv false`).",
      ],
    },
  },
  DATA_FOREIGN_IP: {
    layer: "data",
    title: () => "The server rejects the data connection's source address",
    explanation: () =>
      "The data connection arrived from a different IP than the control connection and the server refused it (multi-IP NAT egress or a proxy).",
    fix: {
      any: [
        "The server saw the data connection come from a different IP than the control connection and " +
          "refused it. Usual cause: egress NAT with several public IPs (per-connection source), or a proxy.",
        "Make egress NAT sticky per client (one source IP per client), or route the FTP server's traffic around the multi-IP NAT.",
      ],
      server: {
        vsftpd: ["As a last resort `pasv_promiscuous=YES` disables the check (weakens security against data-connection hijacking)."],
        proftpd: ["As a last resort `AllowForeignAddress on`."],
        pyftpdlib: ["As a last resort `FTPHandler.permit_foreign_addresses = True`."],
      },
    },
  },
  TLS_SESSION_REUSE_REQUIRED: {
    layer: "data",
    title: () => "The server requires TLS session reuse on data connections",
    explanation: (f) =>
      "The data connection's TLS session did not resume the control session" +
      `${f.notResumed ? " (this data handshake was not resumed)" : ""}, and the server refuses that.`,
    fix: {
      any: [
        "The server requires the data connection's TLS session to resume the control session, and this " +
          "data connection did not. Clients must reuse the session (curl ≥ 7.x, lftp and FileZilla do).",
      ],
      server: {
        vsftpd: ["Server-side relief: `require_ssl_reuse=NO` in vsftpd.conf."],
        proftpd: ["Server-side relief: `TLSOptions NoSessionReuseRequired`."],
        filezilla: ["FileZilla Server requires resumption; fix the client."],
      },
    },
  },
  DATA_TLS_REQUIRED: {
    layer: "data",
    title: () => "The server requires encrypted data connections",
    explanation: () => "The server refuses unencrypted data connections: the client must send PBSZ 0 and PROT P.",
    fix: {
      any: [
        "The server requires encrypted data connections: the client must send `PBSZ 0` and " +
          "`PROT P` before transfers (curl `--ssl-reqd`, lftp `set ftp:ssl-protect-data true`).",
      ],
      server: {
        vsftpd: ["This is `force_local_data_ssl=YES` (or `force_anon_data_ssl`): keep it; fix the client (PROT P)."],
        proftpd: ["This is `TLSRequired on` (or `data`): keep it; fix the client (PROT P)."],
        pyftpdlib: [
          "This is `TLS_FTPHandler.tls_data_required = True`: keep it and fix the client (PROT P), or set it to False knowingly.",
        ],
        filezilla: ["This is the server's *Require TLS for data connections* setting: keep it; fix the client."],
      },
    },
  },
  ACTIVE_MODE_BLOCKED: {
    layer: "data",
    title: () => "Active mode (PORT/EPRT) does not work",
    explanation: (f) =>
      f.refused
        ? "The server refuses the PORT/EPRT command."
        : "The server accepted PORT/EPRT but the data connection back to this network failed.",
    fix: {
      any: [
        "Active mode (PORT/EPRT) does not work from here: use passive mode, or open the client-side firewall/NAT for the server's incoming data connection.",
      ],
      server: { vsftpd: ["`port_enable=YES` allows PORT; `connect_from_port_20` matters for strict client firewalls."] },
    },
  },
  CONNECTION_RESET: {
    layer: "server",
    title: (f) =>
      f.kind === "control"
        ? `The control connection was ${f.closed ? "closed" : "reset"} during ${f.during}`
        : { "data-tls": "TLS on the data connection failed", transfer: "The data transfer was cut", upload: "The upload was cut" }[f.kind],
    explanation: (f) =>
      f.kind === "control"
        ? "The connection ended mid-session without an FTP reply that explains it."
        : {
            "data-tls": "The data connection's TLS handshake failed.",
            transfer: "The listing started but the transfer was aborted mid-way.",
            upload: "The upload's data connection failed.",
          }[f.kind],
    fix: {
      any: [
        "The connection was cut mid-session without an FTP reply: a middlebox (firewall, " +
          "IPS, load balancer idle timer) or a crashing daemon. " +
          "Check the daemon's log and system journal for crashes at that time, and any firewall logs.",
      ],
    },
  },
  PROTOCOL_VIOLATION: {
    layer: "server",
    title: (f) => {
      switch (f.kind) {
        case "oversized-greeting":
          return `${f.where} sent an oversized greeting`;
        case "list-unrecognised":
          return "The server refused the directory listing";
        case "list-too-large":
          return "The directory listing is larger than the check reads";
        case "list-failed":
          return "The directory listing failed";
        case "oversized-reply":
          return "The server sent an oversized reply";
        case "malformed-reply":
          return `Malformed reply during ${f.during}`;
      }
    },
    explanation: (f) => {
      switch (f.kind) {
        case "oversized-greeting":
          return "The server sent more greeting text than any FTP server should; the connection was cut to protect the check.";
        case "list-unrecognised":
          return "LIST failed with a reply ftp-doctor does not recognise.";
        case "list-too-large":
          return `The listing exceeded ${LIMITS.maxListingBytes} bytes and was cut.`;
        case "list-failed":
          return "The server aborted the listing.";
        case "oversized-reply":
          return `During ${f.during}, a reply broke the size limits and the connection was cut.`;
        case "malformed-reply":
          return "The server sent a reply that does not follow the FTP protocol.";
      }
    },
    fix: {
      any: [
        "The server sent replies that do not follow the FTP protocol (quoted in the evidence). " +
          "Check for a proxy or a broken server build in front of this address.",
      ],
    },
  },
  REPLY_TIMEOUT: {
    layer: "server",
    title: (f) => `The server stopped answering during ${f.during}`,
    explanation: () => "A command got no reply within the deadline, while the connection stayed open.",
    fix: {
      any: [
        "The server stopped answering a command without closing the connection: " +
          "check its load, its log, and any filesystem (NFS) or authentication backend it waits on.",
      ],
    },
  },

  // ------------------------------------------------------------------ the directory in the URL
  PATH_NOT_FOUND: {
    layer: "server",
    title: (f) => `The directory ${f.path} does not exist`,
    explanation: (f) =>
      `Login works, but changing to ${f.path} (the directory in the URL) fails: ` +
      "the server says there is no such directory. Listing and the write test were not run there.",
    fix: {
      any: [
        "Create the directory on the server (and give the account access to it), or correct the path in the URL.",
        "Paths in the URL are relative to the account's login directory, " +
          "or to the chroot/virtual root when the server confines users: `/upload` is `<root>/upload`.",
      ],
      server: {
        vsftpd: ["With `chroot_local_user=YES` the path is inside the user's home (or `local_root=`)."],
        proftpd: ["With `DefaultRoot ~` the path is inside the user's home."],
        "pure-ftpd": ["Virtual users are confined to the home from `pure-pw show`: the path is inside it."],
        pyftpdlib: ["The path is inside the user's `homedir` given to the authorizer."],
        "ftp-srv": ["The path is inside the `root` the login handler resolves."],
      },
    },
  },
  PATH_DENIED: {
    layer: "server",
    title: (f) => `The directory ${f.path} may not be entered`,
    explanation: (f) =>
      `Login works, but the server refuses to change to ${f.path} (the directory in the URL): the account has no permission there.`,
    fix: {
      any: [
        "Give the account access to the directory (execute permission on it and every parent for the server's user), or correct the path in the URL.",
      ],
      server: {
        vsftpd: ["The directory must be enterable by the session's user (`chmod o+x` or the right owner/group)."],
        proftpd: ["Check `<Directory>` blocks with `<Limit CWD>` / `DenyAll` for this path."],
        pyftpdlib: ["Give the user the `e` (change directory) permission in the authorizer's `perm`."],
      },
    },
  },

  // ------------------------------------------------------------------ our own policy
  CLEARTEXT_PASSWORD_BLOCKED: {
    layer: "policy",
    title: (f) => `The password for ${f.user} was not sent: the session to ${f.where} is not encrypted`,
    explanation: (f) =>
      `${
        f.why === "tls-refused"
          ? "The server refused TLS (AUTH TLS), so the session stayed plain FTP."
          : f.why === "tls-failed"
            ? "TLS could not be set up, so the session fell back to plain FTP."
            : "The check ran without TLS."
      }` +
      " ftp-doctor does not send a password in clear text unless the profile says `tls: off`: " +
      "this is our policy, not a server fault. Login and everything after it were not tested.",
    fix: {
      any: [
        "Best: enable FTPS on the server so passwords travel encrypted, then check again.",
        "Or, knowingly (the password crosses the network readable by anyone on the path), set `tls: off` in the check profile (or pass `--tls off`).",
      ],
      server: {
        vsftpd: ["Set `ssl_enable=YES` with `rsa_cert_file=`/`rsa_private_key_file=` in vsftpd.conf."],
        proftpd: ["Load mod_tls: `TLSEngine on`, `TLSRSACertificateFile`, `TLSRSACertificateKeyFile`."],
        "pure-ftpd": ["Start pure-ftpd with `--tls=1` and a certificate in /etc/ssl/private/pure-ftpd.pem."],
        pyftpdlib: ["Use `TLS_FTPHandler` with `certfile`/`keyfile`."],
        "ftp-srv": ["Pass `tls: { key, cert }` in the FtpSrv options."],
        netkit: ["Use the TLS build (Debian `ftpd-ssl`) with `-z cert=FILE -z key=FILE`."],
      },
    },
  },
  TARGET_NOT_PERMITTED: {
    layer: "policy",
    title: (f) => `${f.name} resolves to ${f.address}, which the target policy does not permit`,
    explanation: (f) =>
      `The name ${f.name} resolved to ${f.address}, and the target policy refused that address (rule: ` +
      `${f.rule}). Nothing was connected to: this is our policy, not a fault of the server.`,
    fix: {
      any: [
        "If the address is right and should be checked, add it (or its network) to " +
          "the allow-list (`targets.allow`, or the profile's `targets`) and check again.",
        "If the name should not resolve there (a DNS record pointing at an internal or metadata address), " +
          "fix the DNS record: the policy just kept the check from connecting to it.",
      ],
    },
  },
};
