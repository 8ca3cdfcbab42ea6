import type { ConfigFile } from "../config/file.js";
import type { Requester } from "../policy/targetPolicy.js";
import { hostsInText } from "../slack/commandText.js";
import { parseTarget, type Target } from "../target/parse.js";
import { permit } from "./access.js";

/** A Slack message event as alerting apps post them: text, legacy attachments, Block Kit. */
export interface MessageLike {
  text?: string;
  attachments?: { pretext?: string; title?: string; text?: string; fallback?: string; fields?: { title?: string; value?: string }[] }[];
  blocks?: { type?: string; text?: { text?: string }; fields?: { text?: string }[]; elements?: { text?: string }[] }[];
}

/** Characters of a message looked at: an alert names its host near the top. */
const MAX_CHARS = 8_000;

/**
 * Everything a person or an alerting app (Alertmanager, Grafana, Zabbix, PagerDuty) may have put
 * the host in: Alertmanager's and Grafana's Slack integrations post legacy attachments with an
 * empty `text`; PagerDuty and newer apps post blocks.
 */
export function messageText(m: MessageLike): string {
  const parts: string[] = [m.text ?? ""];
  for (const a of (m.attachments ?? []).slice(0, 20))
    parts.push(
      a.pretext ?? "",
      a.title ?? "",
      a.text ?? "",
      a.fallback ?? "",
      ...(a.fields ?? []).slice(0, 40).map((f) => `${f.title ?? ""} ${f.value ?? ""}`),
    );
  for (const b of (m.blocks ?? []).slice(0, 50))
    parts.push(
      b.text?.text ?? "",
      ...(b.fields ?? []).slice(0, 20).map((f) => f.text ?? ""),
      ...(b.elements ?? []).slice(0, 20).map((e) => e.text ?? ""),
    );
  return parts.filter(Boolean).join("\n").slice(0, MAX_CHARS);
}

/**
 * The first host the message names that the target policy permits, with its zone; undefined when
 * it names none (a message about something else, or a target outside the allow-list: ignored
 * without a word, so auto-triage cannot be used to learn what the allow-list holds).
 */
export function triageTarget(config: ConfigFile, text: string, who: Requester): { target: Target; zone: string } | undefined {
  for (const candidate of hostsInText(text).slice(0, 20)) {
    let target: Target;
    try {
      target = parseTarget(candidate);
    } catch {
      continue;
    }
    if (target.urlHadPassword) continue;
    const access = permit(config, who, target);
    if (access.permitted) return { target, zone: access.zone };
  }
  return undefined;
}
