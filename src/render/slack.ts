import type { CheckReport } from "../check/run.js";
import type { CrossZoneVerdict } from "../diagnosis/crossZone.js";
import { historyText, type HistoryModel } from "../queue/historyModel.js";

/** Slack Block Kit limits (api.slack.com/reference/block-kit/blocks). */
export const SLACK_LIMITS = { blocks: 50, sectionText: 3000, headerText: 150, buttonValue: 2000, messageText: 40_000 } as const;

export type Block = Record<string, unknown>;

/** Slack mrkdwn escaping: `&`, `<`, `>` (so server text cannot mention @channel or forge links). */
export function esc(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A Slack button whose value names what it acts on (a job or incident id, looked up when clicked). */
export function button(actionId: string, label: string, value: string): Block {
  return { type: "button", action_id: actionId, text: { type: "plain_text", text: label }, value };
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function statusEmoji(code: string): string {
  return code === "HEALTHY" ? ":large_green_circle:" : ":red_circle:";
}

const section = (text: string): Block => ({ type: "section", text: { type: "mrkdwn", text: clip(text, SLACK_LIMITS.sectionText) } });

/** Bullet lists split over several sections so none passes 3,000 characters. */
function listSections(title: string, lines: string[], numbered = false): Block[] {
  const blocks: Block[] = [];
  let cur = `*${title}*`;
  lines.forEach((l, i) => {
    const item = `\n${numbered ? `${i + 1}.` : "•"} ${esc(clip(l, 900))}`;
    if (cur.length + item.length > SLACK_LIMITS.sectionText) {
      blocks.push(section(cur));
      cur = "";
    }
    cur += item;
  });
  if (cur) blocks.push(section(cur));
  return blocks;
}

export interface VerdictRefs {
  /** Stored result id: the buttons carry this, never a target's credentials. */
  resultId: string;
  /** Offer "Check from all zones" (single-zone verdicts). */
  allZones?: boolean;
}

/** The threaded verdict message. */
export function verdictBlocks(report: CheckReport, refs: VerdictRefs): { text: string; blocks: Block[] } {
  const v = report.verdict;
  const head = clip(`${v.code === "HEALTHY" ? "✅" : "🔴"} ${v.code} — ${v.title}`, SLACK_LIMITS.headerText);
  const blocks: Block[] = [{ type: "header", text: { type: "plain_text", text: head, emoji: true } }];
  blocks.push(section(esc(v.explanation)));
  if (report.summary)
    blocks.push(
      section(`*Summary* (${esc(report.summary.severity)})\n${esc(report.summary.text)}\n*Next:* ${esc(report.summary.nextAction)}`),
    );
  if (v.evidence.length) blocks.push(...listSections("Evidence", v.evidence.slice(0, 20)));
  if (v.code !== "HEALTHY" && v.remediation.length)
    blocks.push(
      ...listSections(`Fix${report.server.software !== "unknown" ? ` (${report.server.software})` : ""}`, v.remediation.slice(0, 12), true),
    );
  if (v.code !== "HEALTHY" && v.perServer?.length)
    blocks.push(
      ...listSections(
        "Depending on the server software",
        v.perServer.map((p) => `${p.software}: ${p.steps.join(" ")}`),
      ),
    );
  if (report.secondary.length)
    blocks.push(
      ...listSections(
        "Also found",
        report.secondary.map((s) => `${s.code}: ${s.title}`),
      ),
    );
  if (report.findings.length)
    blocks.push(
      ...listSections(
        "Findings",
        report.findings.map((f) => `${f.code} (${f.severity}): ${f.message}`),
      ),
    );
  if (report.scope.length) blocks.push(...listSections("Not covered", report.scope));
  const ctx = [
    `*${esc(report.target.host)}:${report.target.port}*`,
    report.zone ? `zone \`${esc(report.zone)}\`` : undefined,
    report.server.software !== "unknown"
      ? `${esc(report.server.software)}${report.server.version ? ` ${esc(report.server.version)}` : ""}`
      : undefined,
    `layer ${v.layer}`,
    `${(report.durationMs / 1000).toFixed(2)} s`,
  ].filter(Boolean);
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: clip(ctx.join(" · "), 3000) }] });
  blocks.push({
    type: "actions",
    block_id: "verdict_actions",
    elements: [
      button("ftp_rerun", "Re-run", refs.resultId),
      button("ftp_transcript", "Show transcript", refs.resultId),
      button("ftp_watch", "Watch", refs.resultId),
      ...(refs.allZones ? [button("ftp_allzones", "Check from all zones", refs.resultId)] : []),
      // A failure gets its waterfall posted in the thread anyway; a healthy check on request.
      ...(v.code === "HEALTHY" ? [button("ftp_waterfall", "Show waterfall", refs.resultId)] : []),
    ],
  });
  return { text: clip(`${v.code}: ${v.title}`, 3000), blocks: fitBlocks(blocks) };
}

/**
 * Slack refuses a message of more than 50 blocks. Cut the middle, keep the start (header,
 * explanation) and the end (context line and buttons), and say what was left out.
 */
export function fitBlocks(blocks: Block[], max: number = SLACK_LIMITS.blocks): Block[] {
  if (blocks.length <= max) return blocks;
  const tail = 2;
  const head = max - tail - 1;
  const dropped = blocks.length - head - tail;
  return [
    ...blocks.slice(0, head),
    { type: "context", elements: [{ type: "mrkdwn", text: `_…${dropped} more sections not shown (Slack's 50-block limit)_` }] },
    ...blocks.slice(-tail),
  ];
}

/** The transcript, as code blocks of at most 3,000 characters each (and 40 of them). */
export function transcriptBlocks(report: CheckReport): { text: string; blocks: Block[] } {
  // Measured after escaping (`<` becomes 4 characters), so no chunk is cut silently.
  const room = SLACK_LIMITS.sectionText - 10;
  const lines = report.transcript.map((l) =>
    clip(esc(`${String(l.t).padStart(5)} ${l.conn.padEnd(4)} ${l.dir} ${l.text.replace(/```/g, "'''")}`), room - 1),
  );
  const blocks: Block[] = [];
  let cur = "";
  for (const l of lines) {
    if (cur.length + l.length + 1 > room) {
      blocks.push(section(`\`\`\`${cur}\`\`\``));
      cur = "";
    }
    cur += `${l}\n`;
  }
  if (cur) blocks.push(section(`\`\`\`${cur}\`\`\``));
  const max = SLACK_LIMITS.blocks - 1;
  const out = blocks.slice(0, max);
  if (blocks.length > max)
    out.push(section(`_…transcript cut: ${blocks.length - max} more parts not shown (the stored report keeps all of it)_`));
  return { text: `Transcript of the check of ${report.target.host}:${report.target.port}`, blocks: out };
}

/** How users typed it: `host` on port 21, `host:port` otherwise, `[v6]:port` for IPv6. */
export function hostPort(host: string, port: number): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return port === 21 ? h : `${h}:${port}`;
}

export function parentText(host: string, port: number, zone: string, state: "running" | "worker-lost" | CheckReport): string {
  const where = hostPort(host, port);
  if (state === "running") return `:hourglass_flowing_sand: Checking ${esc(where)} from ${esc(zone)}…`;
  if (state === "worker-lost")
    return `:hourglass_flowing_sand: Checking ${esc(where)} from ${esc(zone)}… (the worker was lost; retrying on another)`;
  return `${statusEmoji(state.verdict.code)} ${esc(where)} from ${esc(zone)}: *${state.verdict.code}* — ${esc(clip(state.verdict.title, 200))}`;
}

export const HELP_TEXT = [
  "*ftp-doctor* names the root cause of an FTP/FTPS failure.",
  "• `/ftp-check ftp.example.com` — check from the target's default zone",
  "• `/ftp-check ftp.example.com:2121 from dmz as ops write` — zone, credentials profile, upload test",
  "• `/ftp-check history ftp.example.com` — the last 7 days per zone: uptime, incidents, recurring failure windows",
  "• In a thread: `@ftp-doctor check ftp.example.com`, or just `@ftp-doctor` under a message that names the host",
  "Buttons under a verdict: *Re-run*, *Show transcript*, *Watch* (re-check for an hour, post when " +
    "the state changes), *Show waterfall* (a failure's waterfall is posted in its thread anyway).",
].join("\n");

/** `/ftp-check history`: a headline per zone, then the plain-text model in code blocks. */
export function historyBlocks(m: HistoryModel): { text: string; blocks: Block[] } {
  const head = m.zones.length
    ? m.zones
        .map(
          (z) =>
            `${statusEmoji(z.current?.code ?? "HEALTHY")} ${z.zone}: ${z.uptimePct === null ? "–" : `${z.uptimePct}%`} up, ${z.incidents.length} incident(s)`,
        )
        .join(" · ")
    : `no history for ${m.target}`;
  const blocks: Block[] = [
    { type: "header", text: { type: "plain_text", text: clip(`History of ${m.target}, last 7 days`, SLACK_LIMITS.headerText) } },
  ];
  blocks.push(section(esc(head)));
  const text = historyText(m).replaceAll("```", "'''");
  const size = SLACK_LIMITS.sectionText - 20;
  for (let i = 0; i < text.length && blocks.length < SLACK_LIMITS.blocks; i += size)
    blocks.push(section(`\`\`\`${esc(text.slice(i, i + size))}\`\`\``));
  return { text: clip(`History of ${m.target}: ${head}`, 3000), blocks };
}

const CROSS_EMOJI: Record<CrossZoneVerdict["code"], string> = {
  CONSISTENT: ":large_blue_circle:",
  PATH_BLOCKED: ":large_orange_circle:",
  ZONE_SPECIFIC: ":large_orange_circle:",
  MIXED: ":red_circle:",
  INCOMPLETE: ":white_circle:",
};

function crossEmoji(v: CrossZoneVerdict): string {
  if (v.code === "CONSISTENT")
    return v.zones.every((z) => z.code === "HEALTHY" || z.code === "NO_RESULT") ? ":large_green_circle:" : ":red_circle:";
  return CROSS_EMOJI[v.code];
}

/** The cross-zone verdict in the thread of a `from all` check. */
export function crossZoneBlocks(v: CrossZoneVerdict): { text: string; blocks: Block[] } {
  const blocks: Block[] = [
    { type: "header", text: { type: "plain_text", text: clip(`Cross-zone: ${v.code} — ${v.title}`, SLACK_LIMITS.headerText) } },
    section(esc(v.explanation)),
    section(
      v.zones
        .map(
          (z) =>
            `• \`${esc(z.zone)}\`: ` +
            `*${esc(z.code)}*${z.durationMs !== undefined ? ` (${(z.durationMs / 1000).toFixed(2)} s)` : ""}` +
            `${z.error ? ` — ${esc(clip(z.error, 200))}` : ""}`,
        )
        .join("\n"),
    ),
  ];
  return { text: clip(`${v.code}: ${v.title}`, 3000), blocks };
}

export function acrossParentText(host: string, port: number, zones: string[], state: "running" | CrossZoneVerdict): string {
  const where = esc(`${host}${port === 21 ? "" : `:${port}`}`);
  if (state === "running") return `:hourglass_flowing_sand: Checking ${where} from ${zones.length} zones (${esc(zones.join(", "))})…`;
  return `${crossEmoji(state)} ${where} from ${zones.length} zones: *${state.code}* — ${esc(clip(state.title, 200))}`;
}
