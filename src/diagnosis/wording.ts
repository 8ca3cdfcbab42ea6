import type { Reply } from "../probe/types.js";

/**
 * What servers say, by meaning: the one place that reads reply text. Rules branch on these
 * meanings, never on their own regular expressions.
 */

/** The server is full (connection limits). */
export const SERVER_FULL =
  /too many|maximum number of|max(imum)?[ _-]?clients|connection limit|try again later|server is busy|no more connections/i;

/** TLS is required (login or data). */
export const TLS_REQUIRED = /encrypt|\bssl\b|\btls\b|cleartext|clear text|secure connection|policy requires/i;

/** The data connection's TLS session must resume the control session's. */
export const SESSION_REUSE = /reuse|resum|operation not permitted/i;

/** The data connection came from another address than the control connection. */
export const FOREIGN_DATA_ADDRESS = /bad ip|foreign ip|foreign address/i;

/** No space left (STOR). */
export const NO_SPACE = /space|storage|quota|disk full|failure writing/i;

/** vsftpd's fatal errors arrive as "500 OOPS: <what>" and end the session: its words, or undefined. */
export function oops(r: Reply | undefined): string | undefined {
  const m = r && /OOPS:\s*(.*)/.exec(r.text);
  return m ? m[1]!.trim() : undefined;
}

/** vsftpd "500 OOPS: cannot change directory:…": the home (or root) cannot be entered. */
export const HOME_UNENTERABLE = /cannot change directory|chdir|no such file/i;
