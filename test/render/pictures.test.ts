/** The waterfall and timeline pictures: golden images, determinism, legibility, hostile text. */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { CheckReport } from "../../src/check/run.js";
import { Redis } from "ioredis";
import type { HistoryModel, ZoneHistory } from "../../src/queue/historyModel.js";
import { segmentsOf, timelineFromHistory } from "../../src/queue/timeline.js";
import { svgToPng } from "../../src/render/raster.js";
import { timelineSvg, uptime } from "../../src/render/timeline.js";
import { FONT_FILES } from "../../src/render/raster.js";
import { textWidth } from "../../src/render/svg.js";
import { failingStep, waterfallSvg } from "../../src/render/waterfall.js";
import { decode, diff, matchGolden } from "./golden.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../queue/lib.js";
import { demoHistory, reportFixture, WEEK_END } from "./fixtures.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const prefix = uniquePrefix();
let week: HistoryModel;
before(async () => {
  week = await demoHistory(redis, prefix);
});
after(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});
const timeline = () => timelineSvg(timelineFromHistory(week));

/** Every font-size in the SVG, in px. */
const fontSizes = (svg: string) => [...svg.matchAll(/font-size="([\d.]+)"/g)].map((m) => Number(m[1]));

describe("waterfall", () => {
  for (const name of ["typical", "worst"] as const)
    test(`${name} report matches its golden image`, async () => {
      const png = await svgToPng(waterfallSvg(reportFixture(name)));
      const m = matchGolden(`waterfall-${name}`, png);
      assert.ok(m.ok, m.message);
    });

  test("the same report gives the same bytes (SVG and PNG)", async () => {
    const r = reportFixture("worst");
    const a = waterfallSvg(r);
    assert.equal(a, waterfallSvg(structuredClone(r)));
    assert.ok((await svgToPng(a)).equals(await svgToPng(a)));
  });

  test("the comparison notices a different verdict (the golden test can fail)", async () => {
    const r = reportFixture("typical");
    const other: CheckReport = { ...r, verdict: { ...r.verdict, code: "TLS_CERT_EXPIRED", title: "The certificate has expired" } };
    const d = diff(await svgToPng(waterfallSvg(r)), await svgToPng(waterfallSvg(other)));
    assert.ok(d.differing > 0.002, `only ${(d.differing * 100).toFixed(3)} % differ`);
  });

  test("marks the failing step with the verdict, the deadline of a timed-out step, RTT and total", () => {
    const r = reportFixture("typical");
    assert.equal(failingStep(r)?.id, "data");
    const svg = waterfallSvg(r);
    assert.match(svg, /▲ PASV_PORTS_BLOCKED — Passive data ports are blocked/);
    assert.match(svg, /data hit its deadline after 3\.00 s/);
    assert.match(svg, /stroke-dasharray="6 4"/);
    assert.match(svg, /control RTT 0\.5 ms/);
    assert.match(svg, />total 3\.02 s</);
    const healthy = waterfallSvg({ ...r, verdict: { ...r.verdict, code: "HEALTHY", layer: "none", title: "Works" } });
    assert.doesNotMatch(healthy, /▲/);
  });

  test("every side probe gets its own row beside the main path", () => {
    const svg = waterfallSvg(reportFixture("worst"));
    assert.match(svg, /side probes \(parallel connections\)/);
    for (const label of ["other ports", "implicit TLS", "plain FTP", "legacy TLS"]) assert.ok(svg.includes(`>${label}<`), label);
  });

  test("text is at least 12 px and the background is opaque (Slack light and dark themes)", async () => {
    for (const svg of [waterfallSvg(reportFixture("typical")), waterfallSvg(reportFixture("worst")), timeline()]) {
      const sizes = fontSizes(svg);
      assert.ok(sizes.length > 10);
      assert.ok(Math.min(...sizes) >= 12, `font sizes ${[...new Set(sizes)].join(", ")}`);
      const img = decode(await svgToPng(svg));
      for (let i = 3; i < img.data.length; i += 4) assert.equal(img.data[i], 255, "a transparent pixel");
    }
  });

  test("hostile server text stays text: escaped, invalid XML characters dropped, bounded rows", async () => {
    const r = reportFixture("typical");
    const evil = `220 </text><image href="http://198.51.100.1/x.png"/><text>&amp; \u0001\u0007 \ud800 <!ENTITY x SYSTEM "file:///etc/passwd">`;
    const steps = Array.from({ length: 5000 }, (_, i) => ({ ...r.steps[2]!, startMs: i, detail: evil }));
    const svg = waterfallSvg({ ...r, steps, verdict: { ...r.verdict, title: evil } });
    assert.doesNotMatch(svg, /<image|<!ENTITY|\u0001|\ud800(?![\udc00-\udfff])/);
    assert.match(svg, /… 4940 more steps not shown/);
    const img = decode(await svgToPng(svg));
    assert.ok(img.height < 2000, `height ${img.height}`);
  });
});

describe("text widths", () => {
  test("match what resvg draws with the shipped fonts (labels are cut where the text ends)", async () => {
    const { Resvg } = await import("@resvg/resvg-js");
    for (const [t, bold] of [
      ["PASV_PORTS_BLOCKED — Passive data ports are blocked", true],
      ["220 (vsFTPd 3.0.3) iiii WWWW mmm …", false],
    ] as const) {
      const svg =
        '<svg xmlns="http://www.w3.org/2000/svg" width="2000" height="40"><text x="0" y="20" ' +
        `font-size="13" font-family="DejaVu Sans"${bold ? ' font-weight="bold"' : ""}>${t}</text></svg>`;
      const drawn = new Resvg(svg, { font: { loadSystemFonts: false, fontFiles: FONT_FILES } }).getBBox()!.width;
      const ours = textWidth(t, 13, bold);
      assert.ok(ours >= drawn && ours <= drawn * 1.03, `${t}: drawn ${drawn.toFixed(1)} px, computed ${ours.toFixed(1)} px`);
    }
  });
});

describe("timeline", () => {
  test("a week from two zones matches its golden image", async () => {
    const m = matchGolden("timeline", await svgToPng(timeline()));
    assert.ok(m.ok, m.message);
  });

  test("adapter on the real history: segments, the worker's gap, incidents, an open one, a daily window", () => {
    const t = timelineFromHistory(week);
    assert.equal(t.to - t.from, 7 * DAY);
    assert.deepEqual(
      t.zones.map((z) => z.zone),
      ["dmz", "office"],
    );
    const [dmz, office] = t.zones as [NonNullable<(typeof t.zones)[0]>, NonNullable<(typeof t.zones)[0]>];
    // dmz: the five-hour TLS_CERT_EXPIRED stretch and the one-check BANNER_TIMEOUT blip.
    const expired = dmz.segments.filter((s) => s.code === "TLS_CERT_EXPIRED");
    assert.equal(expired.length, 1);
    assert.equal(expired[0]!.to - expired[0]!.from, 5 * HOUR);
    assert.ok(dmz.segments.some((s) => s.code === "BANNER_TIMEOUT" && s.to - s.from === 10 * 60_000));
    assert.ok(dmz.incidents.some((i) => i.to !== undefined && i.to - i.from === 5 * HOUR));
    // office: failing right now (an open incident), daily at 15:00 (not on 27 Nov; 28 Nov falls in
    // its worker's outage, which is no data, not healthy).
    assert.equal(office.incidents.at(-1)!.to, undefined);
    assert.equal(office.incidents.filter((i) => new Date(i.from).getUTCHours() === 15).length, 5);
    const w = t.recurring.find((x) => x.zone === "office");
    assert.ok(w, "no recurring window");
    assert.match(w.label, /daily around 15:00–16:00 UTC/);
    assert.equal(w.occurrences.length, 5);
    assert.equal(t.recurring.filter((x) => x.zone === "dmz").length, 0);
    const covered = office.segments.reduce((a, s) => a + (s.to - s.from), 0);
    assert.equal(covered, 7 * DAY - 2 * HOUR, `covered ${covered / HOUR} h`);
    assert.ok((uptime(office) ?? 0) > 0.95 && (uptime(office) ?? 1) < 1);
  });

  test("segments: state from the transitions, hours without checks are no data", () => {
    const from = Date.UTC(2026, 10, 1);
    const hour = (h: number, checks = 6) => ({ hour: from + h * HOUR, checks, failures: 0, worst: "", p50Ms: 10, p95Ms: 20 });
    const z: ZoneHistory = {
      zone: "dmz",
      current: { code: "HEALTHY", since: from + 3.5 * HOUR, lastCheck: from + 5 * HOUR, title: "" },
      checks: 30,
      failures: 3,
      uptimePct: 90,
      hours: [hour(0), hour(1), hour(2, 0), hour(3), hour(4)],
      transitions: [
        { at: from + 1.5 * HOUR, from: "HEALTHY", to: "TCP_REFUSED", jobId: "a", title: "" },
        { at: from + 3.5 * HOUR, from: "TCP_REFUSED", to: "HEALTHY", jobId: "b", title: "" },
      ],
      incidents: [],
      recurring: [],
    };
    assert.deepEqual(segmentsOf(z, from, from + 5 * HOUR), [
      { from, to: from + 1.5 * HOUR, code: "HEALTHY" },
      { from: from + 1.5 * HOUR, to: from + 2 * HOUR, code: "TCP_REFUSED" },
      { from: from + 3 * HOUR, to: from + 3.5 * HOUR, code: "TCP_REFUSED" },
      { from: from + 3.5 * HOUR, to: from + 5 * HOUR, code: "HEALTHY" },
    ]);
  });

  test("the picture names zones, uptime, codes, incidents and the recurring window", () => {
    const svg = timeline();
    // The uptime is the history text's figure (share of checks), not a second one.
    for (const z of week.zones) assert.ok(svg.includes(`>${z.uptimePct} % healthy<`), `${z.zone}: ${z.uptimePct}`);
    for (const s of [
      ">dmz<",
      ">office<",
      "% healthy",
      "TLS_CERT_EXPIRED",
      "PASV_PORTS_BLOCKED",
      "recurring in office",
      "incidents · ftp-doctor",
    ])
      assert.ok(svg.includes(s), s);
  });

  test("no results: a picture that says so", async () => {
    const svg = timelineSvg(timelineFromHistory({ target: "ftp.example.com:21", from: WEEK_END - 7 * DAY, to: WEEK_END, zones: [] }));
    assert.match(svg, /no stored results in this range/);
    assert.ok((await svgToPng(svg)).length > 1000);
  });
});
