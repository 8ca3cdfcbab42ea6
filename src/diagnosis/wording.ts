import type { Reply } from "../probe/types.js";

/**
 * What servers say, by meaning: the one place that reads reply text. Rules ask `says(MEANING, reply)`
 * and never carry their own regular expressions. Each table lists the daemons' own words (the
 * examples are checked by test/unit/wording.test.ts against every table, so a pattern added for one
 * meaning cannot silently match another's example).
 */
export interface Wording {
  re: RegExp;
  /** Who says it, and real examples of it. */
  examples: { daemon: string; text: string }[];
}

/** The server is full: its connection limits (global, per IP, per user) refuse a new session. */
export const SERVER_FULL: Wording[] = [
  {
    re: /too many (?:connected )?(?:users|connections|clients)/i,
    examples: [
      { daemon: "vsftpd", text: "421 There are too many connected users, please try later." },
      { daemon: "vsftpd", text: "421 There are too many connections from your internet address." },
      { daemon: "pure-ftpd", text: "421 Too many connections (2) from this IP" },
      { daemon: "pyftpdlib", text: "421 Too many connections. Service temporarily unavailable." },
      { daemon: "pyftpdlib", text: "421 Too many connections from the same IP address." },
      { daemon: "twisted", text: "421 Too many users right now, try again in a few minutes." },
      { daemon: "filezilla", text: "421 Too many users are connected, please try again later." },
      { daemon: "iis", text: "421 Too many users are connected, please try again later." },
    ],
  },
  {
    // ProFTPD MaxClients/MaxClientsPerHost/MaxClientsPerUser; Pure-FTPd -c ("N users (the maximum)").
    re: /maximum number of (?:allowed )?(?:clients|users|connections)|\(the maximum\)|users? \(maximum\)|max(?:imum)?[ _-]?clients|connection limit/i,
    examples: [
      { daemon: "proftpd", text: "530 Sorry, the maximum number of clients (1) from your host are already connected." },
      { daemon: "proftpd", text: "530 Sorry, the maximum number of allowed clients (10) are already connected." },
      { daemon: "pure-ftpd", text: "421 1 users (the maximum) are already logged in, sorry" },
    ],
  },
  {
    // Generic refusals that only mean "full" (never access control): busy, come back later.
    re: /server is busy|try (?:again )?later|temporarily unavailable|no more connections|already (?:logged in|connected)/i,
    examples: [
      { daemon: "generic", text: "421 Server is busy, try again later." },
      { daemon: "generic", text: "421 No more connections allowed." },
    ],
  },
];

/** The login (control channel) must be encrypted: plain USER/PASS is refused. */
export const TLS_REQUIRED_FOR_LOGIN: Wording[] = [
  {
    re: new RegExp(
      "sessions must use encryption|required on the control channel|cleartext sessions|does not allow plain ftp|" +
        "policy requires ssl|unprotected|must use (?:ssl|tls|ftps|a secure connection)|" +
        "(?:ssl|tls|encryption) (?:is )?(?:required|mandatory)(?! on the data)|clear ?text",
      "i",
    ),
    examples: [
      { daemon: "vsftpd", text: "530 Non-anonymous sessions must use encryption." },
      { daemon: "proftpd", text: "550 SSL/TLS required on the control channel" },
      { daemon: "pyftpdlib", text: "550 SSL/TLS required on the control channel." },
      {
        daemon: "pure-ftpd",
        text: "421 Sorry, cleartext sessions and weak ciphers are not accepted on this server. Please reconnect using TLS security mechanisms.",
      },
      { daemon: "filezilla", text: "530 This server does not allow plain FTP. You have to use FTP over TLS." },
      { daemon: "iis", text: "534 Policy requires SSL." },
      { daemon: "netkit", text: "534 Will not talk unprotected!" },
      // netkit ftpd-ssl started with `-z secure` answers USER on a plain session this way.
      { daemon: "netkit", text: "504 SSL is mandatory." },
    ],
  },
];

/** Data connections must be encrypted (PBSZ 0 / PROT P first). */
export const TLS_REQUIRED_FOR_DATA: Wording[] = [
  {
    re: /required on the data channel|data connections? must be encrypted|PROT P|protection level|policy requires ssl|cannot be opened with this PROT/i,
    examples: [
      { daemon: "vsftpd", text: "522 Data connections must be encrypted." },
      { daemon: "proftpd", text: "550 SSL/TLS required on the data channel" },
      { daemon: "pyftpdlib", text: "550 SSL/TLS required on the data channel." },
      { daemon: "pure-ftpd", text: "521 Data connection cannot be opened with this PROT setting." },
      { daemon: "filezilla", text: "521 PROT P required" },
      { daemon: "iis", text: "534 Policy requires SSL." },
    ],
  },
];

/** The data connection's TLS session must resume the control session's. */
export const SESSION_REUSE_REQUIRED: Wording[] = [
  {
    re: /session reuse|not resumed|has not resumed|operation not permitted/i,
    examples: [
      { daemon: "vsftpd", text: "522 SSL connection failed: session reuse required" },
      // ProFTPD completes the data handshake, then checks resumption.
      { daemon: "proftpd", text: "425 Unable to build data connection: Operation not permitted" },
      { daemon: "filezilla", text: "425 TLS session of data connection not resumed." },
      {
        daemon: "filezilla",
        text: "450 TLS session of data connection has not resumed or the session does not match the control connection",
      },
    ],
  },
];

/** The data connection came from another address than the control connection. */
export const FOREIGN_DATA_ADDRESS: Wording[] = [
  {
    re: /bad ip connecting|foreign (?:ip|address)|remote addresses do not match/i,
    examples: [
      // ftp-srv answers this, then closes the control connection (421).
      { daemon: "ftp-srv", text: "550 Remote addresses do not match" },
      { daemon: "vsftpd", text: "425 Security: Bad IP connecting." },
      { daemon: "pyftpdlib", text: "425 Rejected data connection from foreign address 10.0.0.9:40000." },
    ],
  },
];

/** No space left, or over quota (STOR). */
export const NO_SPACE: Wording[] = [
  {
    re: /insufficient storage|storage allocation|space|disk full|quota|failure writing/i,
    examples: [
      { daemon: "vsftpd", text: "451 Failure writing to local file." },
      { daemon: "proftpd", text: "552 Transfer aborted. Disk quota exceeded" },
      { daemon: "pure-ftpd", text: "552 Quota exceeded: [test] won't be saved" },
      { daemon: "ftp-srv", text: "452 Requested action not taken. Insufficient storage" },
      { daemon: "iis", text: "552 There is not enough space on the disk." },
    ],
  },
];

/** The directory does not exist (CWD, LIST). */
export const NO_SUCH_DIRECTORY: Wording[] = [
  {
    re: /no such (?:file|directory)|not found|does not exist|cannot find|ENOENT/i,
    examples: [
      { daemon: "proftpd", text: "550 /upload: No such file or directory" },
      { daemon: "pure-ftpd", text: "550 Can't change directory to /upload: No such file or directory" },
      { daemon: "pyftpdlib", text: "550 No such file or directory." },
      { daemon: "twisted", text: "550 upload: No such file or directory." },
      { daemon: "ftp-srv", text: "550 ENOENT: no such file or directory, stat '/srv/upload'" },
      // ftp-srv never checks the user's root at login: a missing home shows on the first LIST.
      { daemon: "ftp-srv", text: "451 ENOENT: no such file or directory, stat '/srv/home/alice'" },
      { daemon: "filezilla", text: '550 CWD failed. "/upload": directory not found.' },
      { daemon: "iis", text: "550 The system cannot find the file specified." },
    ],
  },
];

/** The directory exists but may not be entered or listed. */
export const ACCESS_DENIED: Wording[] = [
  {
    re: /permission denied|access (?:is )?denied|EACCES|forbidden|not allowed to|not enough privileges/i,
    examples: [
      // pyftpdlib's own permission letters (perm="elr" is read-only).
      { daemon: "pyftpdlib", text: "550 Not enough privileges." },
      { daemon: "inetutils", text: "553 test.bin: Permission denied." },
      { daemon: "proftpd", text: "550 /upload: Permission denied" },
      { daemon: "pyftpdlib", text: "550 Permission denied." },
      { daemon: "iis", text: "550 Access is denied." },
      { daemon: "ftp-srv", text: "451 EACCES: permission denied, scandir '/srv/upload'" },
    ],
  },
];

/** Logged in, but not in the account's home: the server fell back to another directory. */
export const HOME_FALLBACK: Wording[] = [
  {
    re: /No directory! Logging in with home=/i,
    examples: [
      // GNU inetutils and netkit ftpd (BSD ftpd) log the user in at "/" and say so in the 230 text.
      { daemon: "inetutils", text: "230- No directory! Logging in with home=/\n230 User alice logged in." },
    ],
  },
];

/** Does the reply say this (any line)? */
export function says(meaning: Wording[], reply: Reply | string | undefined): boolean {
  const text = typeof reply === "string" ? reply : reply?.text;
  return !!text && meaning.some((w) => w.re.test(text));
}

/** vsftpd's fatal errors arrive as "500 OOPS: <what>" and end the session: its words, or undefined. */
export function oops(r: Reply | undefined): string | undefined {
  const m = r && /OOPS:\s*(.*)/.exec(r.text);
  return m ? m[1]!.trim() : undefined;
}

/** vsftpd "500 OOPS: cannot change directory:…": the home (or root) cannot be entered. */
export const HOME_UNENTERABLE = /cannot change directory|chdir|no such file/i;

/** vsftpd "500 OOPS: vsftpd: refusing to run with writable root inside chroot()". */
export const CHROOT_WRITABLE = /writable root inside chroot/i;

/** A refusal after PASS (not 530) that talks about the home: "550 Can't change to home directory". */
export const HOME_AT_PASS = /home|directory/i;
