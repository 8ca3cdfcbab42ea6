import { Queue, Worker } from "bullmq";
import { botCheckJob } from "../queue/payload.js";
import type { BotContext } from "./service.js";
import type { CheckReport } from "../check/run.js";
import type { ConfigFile } from "../config/file.js";
import { defaultZone } from "../config/runtime.js";
import { keys } from "../queue/keys.js";
import { redisFor } from "../queue/redis.js";
import { clip, esc, statusEmoji, type Block } from "../render/slack.js";
import { parseTarget } from "../target/parse.js";

export interface DigestDeps extends BotContext {
  redisUrl: string;
  /** Optional model-written overview of the changes (same rules as the verdict summary). */
  overview?: (changes: { target: string; zone: string; code: string; title: string; changedFrom?: string }[]) => Promise<string | null>;
}

interface Row {
  target: string;
  host: string;
  port: number;
  zone: string;
  report?: CheckReport;
  error?: string;
  previous?: string;
}

export function digests(config: ConfigFile) {
  return config.digest === undefined ? [] : Array.isArray(config.digest) ? config.digest : [config.digest];
}

/** Check every target of digest `index` from its zone and post one message, changes first. */
export async function runDigest(deps: DigestDeps, index: number, occurrence?: string): Promise<{ text: string; blocks: Block[] }> {
  const d = digests(deps.config)[index];
  if (!d) throw new Error(`no digest #${index} in the configuration`);
  const rows: Row[] = d.targets.map((spec) => {
    const m = /^(\S+)(?:\s+from\s+(\S+))?$/.exec(spec.trim())!;
    const t = parseTarget(m[1]!);
    return { target: t.input, host: t.host, port: t.port, zone: m[2] ?? defaultZone(deps.config, t.host) };
  });
  await Promise.all(
    rows.map(async (r) => {
      try {
        const job = await deps.queue.enqueue(
          botCheckJob({ target: r.target, zone: r.zone, ...(d.profile ? { profile: d.profile } : {}), write: false }, "digest"),
        );
        r.report = await deps.queue.result(r.zone, job.jobId, deps.resultWaitMs);
      } catch (err) {
        r.error = (err as Error).message;
      }
    }),
  );
  const lastKey = keys.digestLast(deps.prefix, index);
  const last = await deps.redis.hgetall(lastKey);
  for (const r of rows) r.previous = last[`${r.target}|${r.zone}`];
  const code = (r: Row) => r.report?.verdict.code ?? "NO_RESULT";
  const changed = rows.filter((r) => r.previous !== undefined && r.previous !== code(r));
  const fresh = rows.filter((r) => r.previous === undefined);
  const failing = rows.filter((r) => code(r) !== "HEALTHY");
  const blocks: Block[] = [
    {
      type: "header",
      text: { type: "plain_text", text: clip(`FTP health digest — ${rows.length} targets, ${failing.length} failing`, 150) },
    },
  ];
  const section = (text: string): Block => ({ type: "section", text: { type: "mrkdwn", text: clip(text, 3000) } });
  const line = (r: Row) =>
    `${statusEmoji(code(r))} \`${esc(r.host)}:${r.port}\` from \`${esc(r.zone)}\`: ` +
    `*${code(r)}*${r.report ? ` — ${esc(clip(r.report.verdict.title, 120))}` : r.error ? ` — ${esc(clip(r.error, 120))}` : ""}`;
  if (changed.length)
    blocks.push(section(`*Changed since the last digest*\n${changed.map((r) => `${line(r)} (was ${r.previous})`).join("\n")}`));
  else
    blocks.push(
      section(
        last && Object.keys(last).length ? "*No changes since the last digest.*" : "*First digest: no earlier state to compare with.*",
      ),
    );
  if (deps.overview && changed.length) {
    const text = await deps
      .overview(
        changed.map((r) => ({
          target: `${r.host}:${r.port}`,
          zone: r.zone,
          code: code(r),
          title: r.report?.verdict.title ?? r.error ?? "",
          ...(r.previous ? { changedFrom: r.previous } : {}),
        })),
      )
      .catch(() => null);
    if (text) blocks.push(section(`*Overview*\n${esc(text)}`));
  }
  blocks.push(section(`*Status*\n${rows.map(line).join("\n")}`));
  const expiring = rows
    .map((r) => ({ r, leaf: r.report?.tls?.chain[0] }))
    .filter((x) => x.leaf && new Date(x.leaf.validTo).getTime() - Date.now() < 21 * 86_400_000)
    .map(
      (x) =>
        `• \`${esc(x.r.host)}:${x.r.port}\` certificate ` +
        `${new Date(x.leaf!.validTo).getTime() < Date.now() ? "expired" : "expires"} ` +
        `${x.leaf!.validTo.slice(0, 10)}`,
    );
  if (expiring.length) blocks.push(section(`*Certificates expiring soon*\n${expiring.join("\n")}`));
  const slowest = rows
    .filter((r) => r.report)
    .sort((a, b) => b.report!.durationMs - a.report!.durationMs)
    .slice(0, 3);
  if (slowest.length)
    blocks.push(
      section(
        `*Slowest checks*\n${slowest.map((r) => `• \`${esc(r.host)}:${r.port}\` ${(r.report!.durationMs / 1000).toFixed(2)} s`).join("\n")}`,
      ),
    );
  if (fresh.length && Object.keys(last).length)
    blocks.push({
      type: "context",
      elements: [{ type: "mrkdwn", text: clip(`New in this digest: ${fresh.map((r) => `${esc(r.host)}:${r.port}`).join(", ")}`, 3000) }],
    });
  const text = `FTP health digest: ${rows.length} targets, ${failing.length} failing, ${changed.length} changed`;
  // One post per scheduled occurrence, whichever bot replica runs it, even when a crash makes
  // BullMQ run the occurrence again.
  if (occurrence && (await deps.redis.set(keys.slack.done(deps.prefix, `digest:${occurrence}`), "1", "EX", 7 * 86_400, "NX")) !== "OK")
    return { text, blocks };
  await deps.poster.post({ channel: d.channel, text, blocks });
  await deps.redis.del(lastKey);
  await deps.redis.hset(lastKey, Object.fromEntries(rows.map((r) => [`${r.target}|${r.zone}`, code(r)])));
  deps.logger.info(
    { digest: index, channel: d.channel, targets: rows.length, failing: failing.length, changed: changed.length },
    "digest posted",
  );
  return { text, blocks };
}

/** One BullMQ job scheduler per configured digest (cron + timezone), and the worker that runs them. */
export async function startDigests(deps: DigestDeps): Promise<{ close(): Promise<void> }> {
  const list = digests(deps.config);
  const conn = redisFor("worker", deps.redisUrl);
  const queue = new Queue(keys.digestQueue, { connection: conn, prefix: deps.prefix });
  const wanted = new Set(list.map((_d, i) => `digest-${i}`));
  for (const s of await queue.getJobSchedulers()) if (s.key && !wanted.has(s.key)) await queue.removeJobScheduler(s.key);
  for (const [i, d] of list.entries()) {
    await queue.upsertJobScheduler(
      `digest-${i}`,
      { pattern: d.cron, tz: d.tz },
      { name: "digest", data: { index: i }, opts: { removeOnComplete: { count: 50 }, removeOnFail: { count: 50 } } },
    );
  }
  const wconn = redisFor("worker", deps.redisUrl);
  const worker = new Worker(keys.digestQueue, async (job) => void (await runDigest(deps, (job.data as { index: number }).index, job.id)), {
    connection: wconn,
    prefix: deps.prefix,
    concurrency: 1,
  });
  worker.on("failed", (job, err) => deps.logger.error({ digest: job?.data, err: err.message }, "digest failed"));
  worker.on("error", (err) => deps.logger.error({ err: err.message }, "digest worker error"));
  return {
    async close() {
      await worker.close();
      await queue.close();
      conn.disconnect();
      wconn.disconnect();
    },
  };
}
