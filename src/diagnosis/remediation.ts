import type { RootCauseCode, ServerSoftware } from "./codes.js";

type PerServer = Partial<Record<Exclude<ServerSoftware, "unknown">, string[]>>;
interface Fix {
  /** Steps that apply whatever the server software is. */
  any: string[];
  /** The server's own settings, shown first when the software is known. */
  server?: PerServer;
}

const PASV_ADDRESS_FIX: PerServer = {
  vsftpd: ["Set `pasv_address=<public IP>` (and `pasv_addr_resolve=YES` if you give a name) in vsftpd.conf, then restart vsftpd."],
  proftpd: ["Set `MasqueradeAddress <public IP or name>` in proftpd.conf (inside the right <VirtualHost>), then restart."],
  "pure-ftpd": ["Start pure-ftpd with `-P <public IP>` (`ForcePassiveIP` in pure-ftpd.conf)."],
  filezilla: ["Server settings → Passive mode → use a custom public IP/host for passive mode."],
  iis: ["IIS Manager → FTP Firewall Support → set *External IP Address of Firewall* (`externalIp4Address`)."],
};

const PASV_RANGE_FIX: PerServer = {
  vsftpd: ["Pin the range with `pasv_min_port=` / `pasv_max_port=` in vsftpd.conf and open exactly that range."],
  proftpd: ["Pin the range with `PassivePorts <min> <max>` in proftpd.conf and open exactly that range."],
  "pure-ftpd": ["Pin the range with `-p <min>:<max>` (`PassivePortRange`) and open exactly that range."],
  filezilla: ["Server settings → Passive mode → custom port range; open it on the Windows firewall and any NAT."],
  iis: [
    "IIS Manager → FTP Firewall Support → *Data Channel Port Range* (`lowDataChannelPort`/`highDataChannelPort`); open it on the firewall.",
  ],
};

export const REMEDIATION: Record<RootCauseCode, Fix> = {
  HEALTHY: { any: ["Nothing to fix. Keep the check scheduled so a regression is caught before users notice."] },
  DNS_NXDOMAIN: {
    any: [
      "Check the spelling of the host name; paste only the name (no ftp:// scheme, path or port).",
      "If the name is right, create or restore its A/AAAA record at the DNS provider; check the zone is delegated.",
    ],
  },
  DNS_NO_ADDRESS: { any: ["The name exists but has no A or AAAA record: add one (a CNAME to a name that has them also works)."] },
  DNS_TIMEOUT: {
    any: ["The resolver did not answer: check the worker's /etc/resolv.conf or the --resolver given, and that UDP/TCP 53 is allowed."],
  },
  DNS_PARTIAL: {
    any: [
      "Remove the DNS record(s) for the addresses that do not answer, or bring the server up on them.",
      "Clients pick an address at random: until this is fixed, some of them fail and some work.",
    ],
    server: { vsftpd: ["If the dead address is IPv6: set `listen_ipv6=YES` (and `listen=NO`) so vsftpd listens on both families."] },
  },
  TCP_REFUSED: {
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
  TCP_TIMEOUT: {
    any: [
      "SYN packets go unanswered: a firewall or security group drops the control port. Allow TCP to it from this network.",
      "Check every hop: host firewall (iptables/nftables, Windows Firewall), cloud security group / NACL, and any perimeter firewall.",
      "If the server moved, check that DNS points at its current address.",
    ],
  },
  TCP_UNREACHABLE: {
    any: [
      "The network said there is no route to this address (ICMP unreachable): check routing, VPN tunnels and VLANs between this zone and the server.",
      "A firewall configured to REJECT with host-unreachable produces the same error: check its rules.",
    ],
  },
  BANNER_TIMEOUT: {
    any: [
      "The server accepts TCP but never says 220. Usual causes: the daemon does reverse DNS or ident lookups that time out, it is hung, or a proxy/load balancer has no healthy backend.",
      "Check the daemon's log for the connection and restart it if it is stuck.",
    ],
    server: {
      proftpd: ["Set `UseReverseDNS off` and `IdentLookups off` in proftpd.conf."],
      vsftpd: ["Set `reverse_lookup_enable=NO` in vsftpd.conf."],
      "pure-ftpd": ["Start pure-ftpd with `-H` (`DontResolve yes`)."],
    },
  },
  IMPLICIT_TLS_PORT: {
    any: [
      "This port speaks implicit FTPS (TLS first, then FTP): connect with `ftps://host:port` (curl: `ftps://`, lftp: `set ftp:ssl-force true; open ftps://…`).",
      "Or use the server's explicit-FTPS/plain port (usually 21) with AUTH TLS.",
    ],
  },
  CONNECTION_CLOSED: {
    any: [
      "The server closed the connection without a usable reply. Check access control (tcp_wrappers `/etc/hosts.allow`/`hosts.deny`, fail2ban, per-IP bans) and the daemon's log.",
      "Behind a load balancer: check that it has healthy backends.",
    ],
    server: {
      vsftpd: ["Check `tcp_wrappers=` and /etc/hosts.allow; check `deny_file`/`max_per_ip`."],
      proftpd: ["Check `<Limit LOGIN>` blocks, mod_wrap2 and mod_ban rules (`ftpdctl ban info`)."],
      "pure-ftpd": ["Check the `-C`/`-c` connection limits and any fail2ban jail."],
    },
  },
  SERVER_BUSY: {
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
    },
  },
  NOT_FTP_SSH: {
    any: [
      "This port speaks SSH: the server offers SFTP, not FTP. Use an SFTP client (`sftp -P <port> user@host`), or point the FTP client at the FTP port.",
    ],
  },
  NOT_FTP_HTTP: {
    any: [
      "Something other than FTP answers here (an HTTP server, a CDN or a proxy). If the name is behind a CDN/HTTP proxy, give FTP a DNS-only record pointing at the FTP host.",
      "Check the port number you used.",
    ],
  },
  FTPS_UNSUPPORTED: {
    any: [
      "The server does not offer TLS (AUTH TLS refused). Enable FTPS on the server, or accept plain FTP knowingly (passwords travel in clear text).",
    ],
    server: {
      vsftpd: ["Set `ssl_enable=YES`, `rsa_cert_file=` and `rsa_private_key_file=` in vsftpd.conf."],
      proftpd: ["Load mod_tls and set `TLSEngine on`, `TLSRSACertificateFile`, `TLSRSACertificateKeyFile`, `TLSProtocol TLSv1.2 TLSv1.3`."],
      "pure-ftpd": ["Start pure-ftpd with `--tls=1` (or 2 to require it) and a certificate in /etc/ssl/private/pure-ftpd.pem."],
      filezilla: ["Server settings → FTP over TLS settings → enable, with a certificate."],
      iis: ["FTP SSL Settings → select a certificate; choose Allow or Require SSL connections."],
    },
  },
  FTPS_REQUIRED: {
    any: [
      "The server only accepts logins over TLS. Use explicit FTPS in the client: curl `--ssl-reqd`, lftp `set ftp:ssl-force true`, FileZilla *Require explicit FTP over TLS*.",
    ],
    server: {
      vsftpd: ["This is `force_local_logins_ssl=YES` on the server: right, keep it; fix the client."],
      "pure-ftpd": ["This is `--tls=2`/`--tls=3` on the server: keep it; fix the client."],
      iis: ["This is the *Require SSL connections* policy: keep it; fix the client."],
    },
  },
  TLS_PROTOCOL_OUTDATED: {
    any: [
      "The server only offers outdated TLS (1.0/1.1) or weak ciphers/DH parameters, which current clients refuse. Enable TLS 1.2 and 1.3 with modern ciphers; renew weak DH parameters (2048 bits or more).",
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
  TLS_HANDSHAKE_STALL: {
    any: [
      "AUTH TLS is accepted but the handshake never completes while plain FTP works: the server's certificate flight (large packets) is lost on the path — an MTU/MSS black hole.",
      "Fix MSS clamping on the VPN/tunnel/firewall (`iptables -t mangle -A FORWARD -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu`) or let ICMP 'fragmentation needed' through.",
      "A middlebox that inspects FTP (an FTP ALG) can also stall TLS: disable FTP inspection for this server.",
    ],
  },
  TLS_HANDSHAKE_FAILED: {
    any: [
      "The TLS handshake failed for a reason other than an old protocol: check the server's TLS configuration (certificate/key pair, cipher list) and its log.",
      "If the port speaks plain FTP, use explicit FTPS (ftpes:// or --tls explicit) on it instead of implicit TLS.",
    ],
  },
  TLS_CERT_EXPIRED: {
    any: [
      "Renew the certificate and install it with its intermediates, then reload the daemon. Automate renewal (ACME/certbot deploy hook that reloads the FTP daemon).",
    ],
    server: {
      vsftpd: [
        "Update `rsa_cert_file`/`rsa_private_key_file` and restart vsftpd (it reads them at connection time, but a restart is safest).",
      ],
      proftpd: ["Update `TLSRSACertificateFile`/`TLSCertificateChainFile` and restart proftpd."],
      "pure-ftpd": ["Replace /etc/ssl/private/pure-ftpd.pem (key + certificate + chain) and restart."],
      iis: ["Bind the renewed certificate in FTP SSL Settings."],
    },
  },
  TLS_CERT_SELF_SIGNED: {
    any: [
      "The server presents a self-signed certificate: clients that verify certificates refuse it. Install a CA-issued certificate (e.g. ACME/Let's Encrypt for the server's name).",
      "If a private CA is intended, distribute it to clients and pass it to the check with --ca FILE (or the profile's CA file).",
    ],
  },
  TLS_CERT_UNTRUSTED: {
    any: [
      "The certificate chain does not lead to a trusted root: most often the intermediate certificate is missing from what the server sends.",
      "Install the full chain (leaf + intermediates) on the server; if a private CA is used, give it to the check with --ca.",
    ],
    server: {
      vsftpd: ["Point `rsa_cert_file` at a file containing the leaf followed by its intermediate(s)."],
      proftpd: ["Set `TLSCertificateChainFile` to the intermediate bundle."],
      "pure-ftpd": ["Append the intermediate(s) after the certificate in pure-ftpd.pem."],
    },
  },
  TLS_HOSTNAME_MISMATCH: {
    any: [
      "The certificate does not name the host you connected to. Connect by a name the certificate lists, or reissue the certificate with this name in its SAN.",
      "Shared hosting often serves a `*.provider` certificate: use the provider's host name for FTPS.",
    ],
  },
  AUTH_FAILED: {
    any: [
      "The server rejected the user name or password. Check the credentials in the profile or secret store, and whether the account is locked or expired.",
      "Repeated failures can trigger bans: check lockout/autoban before retrying many times.",
    ],
    server: {
      vsftpd: ["Check the PAM stack (`pam_service_name`), /etc/ftpusers, `userlist_enable`/`userlist_file`, and `max_login_fails`."],
      proftpd: [
        "Check `AuthOrder`, the AuthUserFile or SQL backend, `RequireValidShell`, and mod_ban (`ftpdctl ban info`).",
        "ProFTPD also answers `530 Login incorrect.` to a right password when the user's home or `DefaultRoot` cannot be entered, or a `<Limit LOGIN>` denies the user: its SystemLog says which (`chdir(...) failed`, `unable to set DefaultRoot directory`, `Limit access denies login`).",
      ],
      "pure-ftpd": ["Check the user with `pure-pw show <user>`, run `pure-pw mkdb` after changes, check the -l auth order."],
      filezilla: ["Check the user and password in the server's Users settings, and autoban."],
      iis: ["Check the Windows/IIS Manager user, FTP Authorization Rules and account lockout."],
    },
  },
  LOGIN_POLICY_DENIED: {
    any: [
      "The server refused the user before asking for a password: a policy (deny list, disabled account, anonymous-only server) rather than a wrong password.",
    ],
    server: {
      vsftpd: ["Check /etc/ftpusers, `userlist_enable`/`userlist_deny`/`userlist_file`, and `local_enable=YES`."],
      proftpd: ["Check `<Limit LOGIN>` blocks, `DenyUser`, and `<Anonymous>` sections."],
      "pure-ftpd": ["Check `-e` (anonymous only) and `-u` (minimum UID)."],
    },
  },
  CHROOT_WRITABLE_ROOT: {
    any: ["vsftpd refuses to chroot into a directory the user can write to."],
    server: {
      vsftpd: [
        "Make the user's root read-only: `chmod a-w <home>` and give them a writable subdirectory (e.g. <home>/upload).",
        "Or, knowingly, set `allow_writeable_chroot=YES` in vsftpd.conf.",
      ],
    },
  },
  HOME_DIR_MISSING: {
    any: [
      "The account logs in but its home (or the configured root) does not exist or cannot be entered: create it, fix owner and mode, or point the server at the right directory.",
    ],
    server: {
      vsftpd: [
        "Create the home from /etc/passwd (or `local_root=` / `anon_root=`), owned so the user can enter it (mode 755 or 555 for chroot).",
      ],
      proftpd: ["Check `DefaultRoot` and the home in the AuthUserFile/passwd; `CreateHome on` creates homes at login."],
      "pure-ftpd": ["Create the home from `pure-pw show`, or start pure-ftpd with `-j` (CreateHomeDir)."],
    },
  },
  SERVER_CONFIG_ERROR: {
    any: ["The server reported an internal configuration error (quoted in the evidence): fix that setting and restart the daemon."],
  },
  STORAGE_FULL: {
    any: ["The upload failed for lack of space: free disk space on the server's filesystem (`df -h`), or raise the user's quota."],
    server: {
      proftpd: ["Check `QuotaLimits`/mod_quotatab tallies (`ftpquota --show-records`)."],
      "pure-ftpd": ["Check `-n` quotas and `-k` (max disk usage percent)."],
    },
  },
  PERMISSION_DENIED: {
    any: [
      "Login works but the operation is not allowed: check filesystem permissions and ownership of the directory, and the server's write settings.",
    ],
    server: {
      vsftpd: [
        "For uploads: `write_enable=YES` (and `anon_upload_enable=YES` for anonymous); the directory must be writable by the session's user.",
      ],
      proftpd: ["Check `<Directory>`/`<Limit WRITE STOR>` blocks and `AllowOverwrite`."],
      "pure-ftpd": ["Check `-i` (anonymous can't upload) and directory ownership of the virtual user's uid."],
    },
  },
  IDLE_TIMEOUT: {
    any: [
      "An idle control connection was dropped. Raise the server's idle timeout, make clients send NOOP keepalives during long transfers, or raise NAT/firewall idle timers.",
    ],
    server: {
      vsftpd: ["Raise `idle_session_timeout=` (and `data_connection_timeout=`)."],
      proftpd: ["Raise `TimeoutIdle` (and `TimeoutNoTransfer`)."],
      "pure-ftpd": ["Raise `-I` (MaxIdleTime, minutes)."],
    },
  },
  PASV_ADDRESS_PRIVATE: {
    any: [
      "The server advertises a private address in its PASV reply: clients outside its network cannot reach it. Clients that silently substitute the control address (FileZilla, curl, lftp) hide this — which is why it 'works in FileZilla but fails in my app'.",
      "Configure the public address the server should advertise:",
    ],
    server: PASV_ADDRESS_FIX,
  },
  PASV_ADDRESS_WRONG: {
    any: [
      "The PASV reply names an address other than the one you connected to. Configure the correct public address (a stale one is common after an IP change):",
    ],
    server: PASV_ADDRESS_FIX,
  },
  PASV_PORTS_BLOCKED: {
    any: [
      "The passive data ports are not reachable: open the server's passive port range on every firewall and NAT between clients and server, and make the range match the server setting.",
    ],
    server: PASV_RANGE_FIX,
  },
  PASV_DISABLED: {
    any: [
      "The server refuses both EPSV and PASV: enable passive mode with a fixed port range and open it on the firewall. Active mode rarely survives NAT.",
    ],
    server: { vsftpd: ["Set `pasv_enable=YES` with `pasv_min_port`/`pasv_max_port`."], ...PASV_RANGE_FIX },
  },
  EPSV_BROKEN: {
    any: [
      "EPSV is accepted but its port is unreachable while PASV works: a load balancer or NAT maps PASV correctly but not EPSV.",
      "Disable EPSV on that path (or fix the mapping); clients can be told to use PASV (curl `--disable-epsv`, lftp `set ftp:prefer-epsv false`).",
    ],
  },
  DATA_FOREIGN_IP: {
    any: [
      "The server saw the data connection come from a different IP than the control connection and refused it. Usual cause: egress NAT with several public IPs (per-connection source), or a proxy.",
      "Make egress NAT sticky per client (one source IP per client), or route the FTP server's traffic around the multi-IP NAT.",
    ],
    server: {
      vsftpd: ["As a last resort `pasv_promiscuous=YES` disables the check (weakens security against data-connection hijacking)."],
      proftpd: ["As a last resort `AllowForeignAddress on`."],
    },
  },
  TLS_SESSION_REUSE_REQUIRED: {
    any: [
      "The server requires the data connection's TLS session to resume the control session, and this data connection did not. Clients must reuse the session (curl ≥ 7.x, lftp and FileZilla do).",
    ],
    server: {
      vsftpd: ["Server-side relief: `require_ssl_reuse=NO` in vsftpd.conf."],
      proftpd: ["Server-side relief: `TLSOptions NoSessionReuseRequired`."],
      filezilla: ["FileZilla Server requires resumption; fix the client."],
    },
  },
  DATA_TLS_REQUIRED: {
    any: [
      "The server requires encrypted data connections: the client must send `PBSZ 0` and `PROT P` before transfers (curl `--ssl-reqd`, lftp `set ftp:ssl-protect-data true`).",
    ],
  },
  ACTIVE_MODE_BLOCKED: {
    any: [
      "Active mode (PORT/EPRT) does not work from here: use passive mode, or open the client-side firewall/NAT for the server's incoming data connection.",
    ],
    server: { vsftpd: ["`port_enable=YES` allows PORT; `connect_from_port_20` matters for strict client firewalls."] },
  },
  CONNECTION_RESET: {
    any: [
      "The connection was cut mid-session without an FTP reply: a middlebox (firewall, IPS, load balancer idle timer) or a crashing daemon. Check the daemon's log and system journal for crashes at that time, and any firewall logs.",
    ],
  },
  PROTOCOL_VIOLATION: {
    any: [
      "The server sent replies that do not follow the FTP protocol (quoted in the evidence). Check for a proxy or a broken server build in front of this address.",
    ],
  },
  REPLY_TIMEOUT: {
    any: [
      "The server stopped answering a command without closing the connection: check its load, its log, and any filesystem (NFS) or authentication backend it waits on.",
    ],
  },
};

/** Remediation steps for a code: the detected server's own settings first, then the general ones. */
export function remediationFor(code: RootCauseCode, software: ServerSoftware): string[] {
  const fix = REMEDIATION[code];
  if (!fix.server) return [...fix.any];
  if (software !== "unknown" && fix.server[software]) return [...fix.server[software]!, ...fix.any];
  const per = Object.entries(fix.server).map(([name, steps]) => `${name}: ${steps.join(" ")}`);
  return [...fix.any, ...per];
}
