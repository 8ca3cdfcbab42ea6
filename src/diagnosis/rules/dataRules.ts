import {
  ACCESS_DENIED,
  FOREIGN_DATA_ADDRESS,
  NO_SUCH_DIRECTORY,
  SESSION_REUSE_REQUIRED,
  says,
  TLS_REQUIRED_FOR_DATA,
  TLS_REQUIRED_FOR_LOGIN,
} from "../wording.js";
import { err, Outcome, q, type RuleContext } from "./ruleKit.js";

/** The data channel: passive mode, the advertised address, the data connection and the listing. */
export function dataRule(ctx: RuleContext): Outcome {
  const out = new Outcome();
  const { obs, prior } = ctx;
  const d = obs.data;
  if (d && d.passive.length > 0) {
    passiveMode(ctx, out);
    listing(ctx, out);
  }
  reuseDemand(ctx, out);
  if (obs.login?.status === "ok" && d?.status === "not-run" && !prior.length && !out.faults.length && !obs.controlLost)
    out.scope.push("data channel not tested");
  return out;
}

function passiveEvidence({ obs, rtt }: RuleContext): string[] {
  const ev = obs.data!.passive.map(
    (p) =>
      `${p.command} → ${q(p.reply)}${p.connect ? `; connect ${p.connectedHost}:${p.port} ${p.connect.status} in ${p.connect.durationMs} ms` : ""}`,
  );
  if (rtt) ev.push(rtt);
  return ev;
}

/** EPSV/PASV refused, a wrong or private advertised address, or ports nothing answers on. */
function passiveMode(ctx: RuleContext, out: Outcome): void {
  const { obs, where } = ctx;
  const d = obs.data!;
  const epsv = d.passive.find((p) => p.command === "EPSV");
  const pasv = d.passive.find((p) => p.command === "PASV");
  const pa = d.pasvAddress;
  const ev = passiveEvidence(ctx);
  const refusedEpsv = epsv?.reply && epsv.reply.code >= 400;
  // pyftpdlib (tls_data_required), ProFTPD (TLSRequired data): "550 SSL/TLS required on the data
  // channel" to PASV/EPSV before PROT P. Passive mode is fine; the data channel wants TLS.
  const tlsDemand = d.passive.find(
    (p) => p.reply && p.reply.code >= 400 && (says(TLS_REQUIRED_FOR_DATA, p.reply) || says(TLS_REQUIRED_FOR_LOGIN, p.reply)),
  );
  if (tlsDemand && !d.passive.some((p) => p.connect?.status === "ok")) {
    const encrypted = obs.login?.encrypted ?? obs.tls?.status === "ok";
    const why = [...ev, `session ${encrypted ? `encrypted (TLS), data ${d.protected ? "PROT P" : "unprotected"}` : "not encrypted"}`];
    if (encrypted) out.fault("DATA_TLS_REQUIRED", {}, why);
    else out.fault("FTPS_REQUIRED", { where, when: "data" }, why);
    return;
  }
  if (refusedEpsv && pasv?.reply && pasv.reply.code >= 400) {
    const act = obs.active;
    out.fault("PASV_DISABLED", { where, ...(act ? { active: act.status === "ok" ? "works" : "fails" } : {}) }, ev);
    return;
  }
  if (refusedEpsv && pasv?.connect?.status === "ok") out.finding("EPSV_UNSUPPORTED", "low", { code: epsv!.reply!.code });
  if (pa && !pa.same) {
    const used =
      `advertised ${pa.advertised}, control peer ${pa.controlPeer}` +
      `${!pa.permitted && pa.rule ? `; not connected to (target policy: ${pa.rule})` : ""}`;
    if (pa.advertisedPrivate && !pa.peerPrivate)
      out.fault("PASV_ADDRESS_PRIVATE", { where, advertised: pa.advertised, controlPeer: pa.controlPeer }, [used, ...ev]);
    else if (
      !pa.permitted ||
      d.passive.some((p) => p.command === "PASV" && p.connectedHost === pa.advertised && p.connect && p.connect.status !== "ok")
    )
      out.fault("PASV_ADDRESS_WRONG", { where, advertised: pa.advertised, controlPeer: pa.controlPeer, permitted: pa.permitted }, [
        used,
        ...ev,
      ]);
  }
  const failed = d.passive.filter((p) => p.connect && p.connect.status !== "ok" && p.connect.status !== "not-run");
  const epsvFailed = epsv?.connect && epsv.connect.status !== "ok";
  if (epsvFailed && pasv?.connect?.status === "ok") out.fault("EPSV_BROKEN", { port: epsv!.port, status: epsv!.connect!.status }, ev);
  else if (failed.length > 0 && !d.passive.some((p) => p.connect?.status === "ok") && !(pa && !pa.same && !pa.permitted)) {
    const how = failed.map((p) => p.connect!.status);
    out.fault(
      "PASV_PORTS_BLOCKED",
      {
        kind: "connect",
        ports: failed.map((p) => p.port!),
        how: how.includes("timeout") ? "timeout" : how.includes("refused") ? "refused" : "other",
      },
      ev,
    );
  }
}

/** LIST: refused with a reason in the server's words, or a transfer that broke. */
function listing(ctx: RuleContext, out: Outcome): void {
  const { obs } = ctx;
  const d = obs.data!;
  const lr = d.listReply;
  const lf = d.listFinalReply;
  const lt = `${lr?.text ?? ""}\n${lf?.text ?? ""}`;
  const dataTls = d.dataTls ? [`data TLS: ${d.dataTls.status}${d.dataTls.reused !== undefined ? `, reused=${d.dataTls.reused}` : ""}`] : [];
  const notResumed = d.dataTls?.reused === false;
  if (lr && lr.code >= 400) {
    if (says(FOREIGN_DATA_ADDRESS, lr)) out.fault("DATA_FOREIGN_IP", {}, [`LIST → ${q(lr)}`, ...passiveEvidence(ctx)]);
    else if (says(SESSION_REUSE_REQUIRED, lr)) out.fault("TLS_SESSION_REUSE_REQUIRED", { notResumed }, [`LIST → ${q(lr)}`, ...dataTls]);
    else if (says(TLS_REQUIRED_FOR_DATA, lr) || says(TLS_REQUIRED_FOR_LOGIN, lr))
      out.fault("DATA_TLS_REQUIRED", {}, [`LIST → ${q(lr)}`, `session ${d.protected ? "PROT P" : "unprotected"}`]);
    // ftp-srv checks the user's root only on the first LIST: "451 ENOENT: no such file or directory, stat '<root>'".
    else if (says(NO_SUCH_DIRECTORY, lr) && !obs.path)
      out.fault("HOME_DIR_MISSING", { user: obs.login?.user ?? "the user" }, [
        `LIST → ${q(lr)}`,
        ...(obs.pwd ? [`PWD → ${q(obs.pwd)}`] : []),
      ]);
    else if (lr.code === 550 || lr.code === 553 || lr.code === 530 || says(ACCESS_DENIED, lr))
      out.fault("PERMISSION_DENIED", { what: "list" }, [`LIST → ${q(lr)}`, ...(obs.pwd ? [`PWD → ${q(obs.pwd)}`] : [])]);
    else if (lr.code === 425) out.fault("PASV_PORTS_BLOCKED", { kind: "425" }, [`LIST → ${q(lr)}`, ...passiveEvidence(ctx)]);
    else out.fault("PROTOCOL_VIOLATION", { kind: "list-unrecognised" }, [`LIST → ${q(lr)}`]);
    return;
  }
  if (!lr || d.status !== "failed") return;
  const both = `LIST → ${q(lr)}${lf ? ` then ${q(lf)}` : ""}`;
  if (d.dataTls?.status === "failed" && says(SESSION_REUSE_REQUIRED, lt))
    // The reuse demand text came with a failed handshake: the server cut it.
    out.fault("TLS_SESSION_REUSE_REQUIRED", { notResumed: false }, [`LIST → ${q(lr)} then ${q(lf)}`, `data TLS: ${err(d.dataTls.error)}`]);
  // ProFTPD completes the data handshake, then checks resumption: "150 …" then "425 Unable to build data connection: Operation not permitted".
  else if (d.protected && lf && lf.code >= 400 && says(SESSION_REUSE_REQUIRED, lf))
    out.fault("TLS_SESSION_REUSE_REQUIRED", { notResumed }, [`LIST → ${q(lr)} then ${q(lf)}`, ...dataTls]);
  else if (d.dataTls?.status === "failed") out.fault("CONNECTION_RESET", { kind: "data-tls" }, [`data TLS: ${err(d.dataTls.error)}`, both]);
  else if (d.error && d.error.kind === "oversize") out.fault("PROTOCOL_VIOLATION", { kind: "list-too-large" }, [err(d.error)]);
  else if ((lf && (lf.code === 426 || lf.code === 451)) || d.error?.kind === "reset" || d.error?.kind === "closed")
    out.fault("CONNECTION_RESET", { kind: "transfer" }, [both, ...(d.error ? [`data: ${err(d.error)}`] : [])]);
  else if (lf && lf.code >= 400) out.fault("PROTOCOL_VIOLATION", { kind: "list-failed" }, [`LIST → ${q(lr)} then ${q(lf)}`]);
}

/**
 * The engine resumes the control session on data connections, so a server that demands resumption
 * works for us; a second data connection with a fresh session tells whether clients that do not
 * resume (Python ftplib, many Java/.NET libraries) fail. A finding, not a fault: the server works.
 */
function reuseDemand({ obs, server }: RuleContext, out: Outcome): void {
  if (obs.tlsReuse?.status !== "required") return;
  const setting =
    server.software === "vsftpd"
      ? "vsftpd `require_ssl_reuse=YES`; `require_ssl_reuse=NO` relieves it"
      : server.software === "proftpd"
        ? "ProFTPD without `TLSOptions NoSessionReuseRequired`; adding it relieves it"
        : server.software === "filezilla"
          ? "FileZilla Server always requires it; fix the clients"
          : "vsftpd `require_ssl_reuse`, ProFTPD without `TLSOptions NoSessionReuseRequired`, FileZilla Server always";
  out.finding("TLS_REUSE_REQUIRED", "medium", { setting });
}
