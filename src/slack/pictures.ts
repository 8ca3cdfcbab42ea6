import type { CheckReport } from "../check/run.js";
import type { Logger } from "../log.js";
import type { HistoryModel } from "../queue/historyModel.js";
import { timelineFromHistory } from "../queue/timeline.js";
import { svgToPng } from "../render/raster.js";
import { timelineSvg } from "../render/timeline.js";
import { waterfallSvg } from "../render/waterfall.js";
import type { Poster } from "./poster.js";

/**
 * Pictures in Slack: the waterfall in a verdict's thread, the timeline with the history.
 * Always after the text they illustrate has been posted, and never in its way: a failed render
 * or upload is logged (and counted by the poster) and returns false, nothing else.
 */
const fileName = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80);

export async function postWaterfall(
  poster: Poster,
  logger: Logger,
  report: CheckReport,
  channel: string,
  threadTs: string,
): Promise<boolean> {
  const where = `${report.target.host}:${report.target.port}`;
  try {
    const png = await svgToPng(waterfallSvg(report));
    await poster.upload({
      channel,
      thread_ts: threadTs,
      file: png,
      filename: fileName(`waterfall-${where}${report.zone ? `-${report.zone}` : ""}.png`),
      title: `Waterfall: ${where} ${report.verdict.code}`,
      alt_text:
        `Waterfall of the check of ${where}${report.zone ? ` from ${report.zone}` : ""}: ` +
        `${report.verdict.code}, ${report.steps.length} steps in ${report.durationMs} ms`,
    });
    return true;
  } catch (err) {
    logger.warn({ channel, thread: threadTs, target: where, err: (err as Error).message }, "waterfall not posted");
    return false;
  }
}

export async function postTimeline(
  poster: Poster,
  logger: Logger,
  model: HistoryModel,
  channel: string,
  threadTs?: string,
): Promise<boolean> {
  try {
    const png = await svgToPng(timelineSvg(timelineFromHistory(model)));
    await poster.upload({
      channel,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      file: png,
      filename: fileName(`timeline-${model.target}.png`),
      title: `Timeline: ${model.target}, last 7 days`,
      alt_text: `Timeline of ${model.target} over the last 7 days, ${model.zones.length} zone(s): a strip per zone coloured by verdict`,
    });
    return true;
  } catch (err) {
    logger.warn({ channel, target: model.target, err: (err as Error).message }, "timeline not posted");
    return false;
  }
}
