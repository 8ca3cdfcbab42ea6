/** The waterfall and timeline pictures: golden images, determinism, legibility, hostile text. */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import type { CheckReport } from "../../src/check/run.js";
import { timelineFromHistory } from "../../src/queue/timeline.js";
import { svgToPng } from "../../src/render/raster.js";
import { timelineSvg, uptime } from "../../src/render/timeline.js";
import { failingStep, waterfallSvg } from "../../src/render/waterfall.js";
import { decode, diff, matchGolden } from "./golden.js";
import { demoWeek, reportFixture, WEEK_END } from "./fixtures.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const timeline = () => timelineSvg(timelineFromHistory("ftp.example.com:21", demoWeek(), { now: WEEK_END }));

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

describe("timeline", () => {
  test("a week from two zones matches its golden image", async () => {
    const m = matchGolden("timeline", await svgToPng(timeline()));
    assert.ok(m.ok, m.message);
  });

  test("adapter: segments, gaps, incidents (failAfter), an open incident and a daily window", () => {
    const t = timelineFromHistory("ftp.example.com:21", demoWeek(), { now: WEEK_END });
    assert.equal(t.to - t.from, 7 * DAY);
    assert.deepEqual(
      t.zones.map((z) => z.zone),
      ["dmz", "office"],
    );
    const [dmz, office] = t.zones as [NonNullable<(typeof t.zones)[0]>, NonNullable<(typeof t.zones)[0]>];
    // dmz: one five-hour TLS_CERT_EXPIRED incident; the single BANNER_TIMEOUT check is no incident.
    assert.equal(dmz.incidents.length, 1);
    assert.equal(dmz.incidents[0]!.to! - dmz.incidents[0]!.from, 5 * HOUR);
    assert.ok(dmz.segments.some((s) => s.code === "BANNER_TIMEOUT" && s.to - s.from === 10 * 60_000));
    // office: a daily 15:00 failure (not on 27 Nov; 28 Nov falls in its worker's outage), the last one still open.
    assert.equal(office.incidents.at(-1)!.to, undefined);
    assert.equal(office.incidents.filter((i) => new Date(i.from).getUTCHours() === 15).length, 5);
    const w = t.recurring.find((x) => x.zone === "office");
    assert.ok(w, "no recurring window");
    assert.match(w.label, /daily around 15:00–16:00 UTC, on 5 days/);
    assert.equal(t.recurring.filter((x) => x.zone === "dmz").length, 0);
    // The worker outage leaves a gap of no data, not a healthy stretch.
    const covered = office.segments.reduce((a, s) => a + (s.to - s.from), 0);
    assert.equal(covered, 7 * DAY - 2 * HOUR, `covered ${covered / HOUR} h`);
    assert.ok((uptime(office) ?? 0) > 0.95 && (uptime(office) ?? 1) < 1);
  });

  test("the picture names zones, uptime, codes, incidents and the recurring window", () => {
    const svg = timeline();
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
    const svg = timelineSvg(timelineFromHistory("ftp.example.com:21", [], { now: WEEK_END }));
    assert.match(svg, /no stored results in this range/);
    assert.ok((await svgToPng(svg)).length > 1000);
  });
});
