import { describe, failureOf, type ProbeContext } from "../context.js";
import type { Observations, Reply } from "../types.js";

/**
 * The directory from the URL (`ftp://host/upload/`), as RFC 1738 §3.2.2 and curl read it: relative
 * to the login directory; `%2F` at the start makes it absolute. Empty: stay where login put us.
 */
export function urlDirectory(path: string | undefined): string | undefined {
  if (!path) return undefined;
  const dir = path.replace(/^\//, "").replace(/(.)\/+$/, "$1");
  return dir === "" ? undefined : dir;
}

/** Step "path": CWD into the URL's directory so that LIST and --write run where the user means. */
export async function changeDirectory(ctx: ProbeContext): Promise<boolean> {
  const dir = urlDirectory(ctx.target.path);
  if (dir === undefined || !ctx.ctl) return true;
  const step = ctx.rec.begin("path");
  try {
    const reply = await ctx.ctl.command(`CWD ${dir}`, ctx.replyTimeout());
    const status = statusOf(reply);
    ctx.obs.path = { requested: dir, status, reply };
    step.end(status === "ok" ? "ok" : "fail", `CWD ${dir}: ${describe(reply)}`, { reply });
    return status === "ok";
  } catch (err) {
    ctx.obs.path = { requested: dir, status: "error" };
    ctx.lost("CWD", err);
    step.end("fail", `CWD ${dir}: ${failureOf(err).message}`, { error: failureOf(err) });
    return false;
  }
}

/**
 * 2xx: in. 550 means both "no such directory" and "permission denied": the words decide (ProFTPD
 * "…: No such file or directory" / "…: Permission denied", Pure-FTPd "Can't change directory to
 * …: No such file or directory", pyftpdlib, ftp-srv "ENOENT"/"EACCES"). vsftpd says "Failed to
 * change directory." for both: "error", with its words, rather than a guess.
 */
function statusOf(reply: Reply): NonNullable<Observations["path"]>["status"] {
  if (reply.code >= 200 && reply.code < 300) return "ok";
  if (/permission denied|access denied|access is denied|not allowed|forbidden|EACCES|EPERM/i.test(reply.text)) return "denied";
  if (/no such|not found|does not exist|doesn't exist|not a directory|ENOENT|ENOTDIR/i.test(reply.text)) return "missing";
  return "error";
}
