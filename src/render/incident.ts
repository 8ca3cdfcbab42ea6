/** Slack rendering of monitor incidents: the parent message, thread replies, the buttons. */
import { mentionGroup, mentionUser } from "./slackText.js";
import type { IncidentEvent, IncidentSnapshot } from "../monitor/incident.js";
import { button, clip, esc, type Block } from "./slack.js";

const SEVERITY_EMOJI = { P1: ":rotating_light:", P2: ":large_orange_circle:", P3: ":large_yellow_circle:" } as const;

export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m} min`;
  const h = Math.floor(m / 60);
  return h < 48 ? `${h} h ${m % 60} min` : `${Math.floor(h / 24)} d ${h % 24} h`;
}

const hhmm = (ms: number) => `${new Date(ms).toISOString().slice(11, 16)} UTC`;
const section = (text: string): Block => ({ type: "section", text: { type: "mrkdwn", text: clip(text, 3000) } });

/** The incident's parent message (posted once, then updated on ack, mute, cause change and recovery). */
export function incidentParent(inc: IncidentSnapshot): { text: string; blocks: Block[] } {
  const resolved = inc.resolvedAt !== undefined;
  const head = resolved
    ? `:white_check_mark: RESOLVED ${inc.severity} ${esc(inc.target)} — was ${esc(inc.cause)} for ${duration(inc.resolvedAt! - inc.openedAt)}`
    : `${SEVERITY_EMOJI[inc.severity]} ${inc.severity} ${esc(inc.target)}: ` +
      `*${esc(inc.flapping ? `flapping (${inc.cause})` : inc.cause)}* — ${esc(clip(inc.picture.title, 200))}`;
  const mention = !resolved && inc.severity === "P1" && inc.oncall ? `${mentionGroup(inc.oncall)} ` : "";
  const text = `${mention}${head}`;
  const blocks: Block[] = [section(text)];
  if (!resolved) {
    blocks.push(
      section(
        `*${esc(inc.verdict.code)}* from ${esc(inc.verdict.zone)}: ${esc(inc.verdict.title)}\n${esc(clip(inc.verdict.explanation, 600))}`,
      ),
    );
    blocks.push(
      section(
        `*Cross-zone: ${inc.picture.code}* — ${esc(clip(inc.picture.explanation, 800))}\n${inc.picture.zones
          .map((z) => `• \`${esc(z.zone)}\`: ${esc(z.code)}${z.error ? ` (${esc(clip(z.error, 120))})` : ""}`)
          .join("\n")}`,
      ),
    );
    if (inc.verdict.remediation.length)
      blocks.push(
        section(
          `*Fix*\n${inc.verdict.remediation
            .slice(0, 3)
            .map((r, i) => `${i + 1}. ${esc(clip(r, 400))}`)
            .join("\n")}`,
        ),
      );
  }
  const ctx = [
    `opened ${hhmm(inc.openedAt)}`,
    `severity ${inc.severity} (${inc.condition})`,
    inc.ack ? `acknowledged by ${mentionUser(inc.ack.user)} at ${hhmm(inc.ack.at)}` : undefined,
    inc.mute
      ? `muted by ${mentionUser(inc.mute.by)} ${inc.mute.until === null ? "until resolved" : `until ${hhmm(inc.mute.until)}`}`
      : undefined,
  ].filter(Boolean);
  blocks.push({ type: "context", elements: [{ type: "mrkdwn", text: clip(ctx.join(" · "), 3000) }] });
  if (!resolved)
    blocks.push({
      type: "actions",
      block_id: "incident_actions",
      elements: [
        button("inc_ack", "Acknowledge", inc.id),
        button("inc_rerun_all", "Re-run from all zones", inc.id),
        button("inc_mute_1h", "Mute 1 h", inc.id),
        button("inc_mute_resolved", "Mute until resolved", inc.id),
      ],
    });
  return { text: clip(text, 3000), blocks };
}

/** The thread reply an event makes (none for "open", which is the parent, and "update"). */
export function incidentReply(e: IncidentEvent): string | undefined {
  switch (e.kind) {
    case "cause":
      return `:arrows_counterclockwise: ${esc(e.incident.target)}: now *${esc(e.to)}*, was ${esc(e.from)}.`;
    case "flapping":
      return (
        `:warning: ${esc(e.incident.target)} is flapping (${e.changes} state changes within the window): ` +
        "this is now one flapping incident; I stay quiet until it is stable."
      );
    case "recovered":
      return `:large_green_circle: ${esc(e.incident.target)} recovered after ${duration(e.durationMs)} (was ${esc(e.incident.cause)}).`;
    default:
      return undefined;
  }
}
