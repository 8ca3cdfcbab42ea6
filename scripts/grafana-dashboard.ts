/**
 * Writes deploy/grafana/ftp-doctor.json, the Grafana dashboard for ftp-doctor's /probe series,
 * from code: panels are declared here with their queries, laid out on Grafana's 24-column grid,
 * and serialised deterministically. `node dist/scripts/grafana-dashboard.js` regenerates the
 * file; test/integrations/grafana.test.ts fails when the committed file differs, when panels
 * overlap or leave the grid, or when a query is not valid PromQL (checked by promtool).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Grafana's dashboard JSON model (grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/), the parts we use. */
export interface Dashboard {
  uid: string;
  title: string;
  tags: string[];
  timezone: string;
  schemaVersion: number;
  version: number;
  editable: boolean;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: Variable[] };
  annotations: { list: unknown[] };
  panels: Panel[];
}

interface Variable {
  name: string;
  label: string;
  type: "datasource" | "query";
  query: string | { query: string; refId: string };
  datasource?: DatasourceRef;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
  refresh?: number;
  current: Record<string, never>;
  hide: number;
  sort?: number;
}

interface DatasourceRef {
  type: "prometheus";
  uid: string;
}

export interface Target {
  refId: string;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: "time_series" | "table";
  datasource: DatasourceRef;
}

export interface Panel {
  id: number;
  type: "stat" | "timeseries" | "table" | "bargauge" | "row";
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: DatasourceRef;
  targets?: Target[];
  fieldConfig?: { defaults: Record<string, unknown>; overrides: unknown[] };
  options?: Record<string, unknown>;
  transformations?: unknown[];
  /** Rows only: expanded, holding no panels of their own (the panels below it belong to it). */
  collapsed?: boolean;
  panels?: Panel[];
}

/** Grafana's variable reference to the data source picked in the dashboard. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax, not a JavaScript template
export const DATASOURCE_UID = "${datasource}";
const DS: DatasourceRef = { type: "prometheus", uid: DATASOURCE_UID };
const SEL = 'job="ftp-doctor", zone=~"$zone", instance=~"$instance"';

type PanelSpec = Omit<Panel, "id" | "gridPos" | "datasource" | "targets"> & {
  w: number;
  h: number;
  queries?: Omit<Target, "refId" | "datasource">[];
};

/** Lay panels out left to right, wrapping at 24 columns; a row starts a new line. */
function layout(specs: PanelSpec[]): Panel[] {
  let x = 0;
  let y = 0;
  let rowH = 0;
  return specs.map((s, i) => {
    const { w, h, queries, ...rest } = s;
    if (s.type === "row" || x + w > 24) {
      x = 0;
      y += rowH;
      rowH = 0;
    }
    const p: Panel = {
      id: i + 1,
      gridPos: { x, y, w, h },
      ...rest,
      ...(s.type === "row" ? { collapsed: false, panels: [] } : {}),
      ...(queries
        ? { datasource: DS, targets: queries.map((q, j) => ({ refId: String.fromCharCode(65 + j), datasource: DS, ...q })) }
        : {}),
    };
    x += w;
    rowH = Math.max(rowH, h);
    if (s.type === "row") {
      x = 24; // a row header takes its whole line
    }
    return p;
  });
}

const thresholds = (steps: { color: string; value: number | null }[]) => ({ mode: "absolute", steps });

export function buildDashboard(): Dashboard {
  const panels = layout([
    { type: "row", title: "Fleet", w: 24, h: 1 },
    {
      type: "stat",
      title: "Targets failing",
      description: "(target, zone) pairs whose last probe did not get a HEALTHY verdict.",
      w: 4,
      h: 5,
      queries: [{ expr: `count(probe_success{${SEL}} == 0) or vector(0)`, instant: true }],
      fieldConfig: {
        defaults: {
          unit: "none",
          color: { mode: "thresholds" },
          thresholds: thresholds([
            { color: "green", value: null },
            { color: "red", value: 1 },
          ]),
        },
        overrides: [],
      },
      options: { reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false }, colorMode: "background", graphMode: "none" },
    },
    {
      type: "bargauge",
      title: "Fleet status by verdict code",
      description: "How many (target, zone) pairs currently have each verdict code.",
      w: 8,
      h: 5,
      queries: [{ expr: `count by (code) (ftp_doctor_verdict{${SEL}} == 1)`, legendFormat: "{{code}}", instant: true }],
      fieldConfig: { defaults: { unit: "none", min: 0, color: { mode: "palette-classic" } }, overrides: [] },
      options: { orientation: "horizontal", displayMode: "basic", reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false } },
    },
    {
      type: "table",
      title: "Targets and their verdicts",
      description: "One line per target and zone: the current root cause and its layer.",
      w: 12,
      h: 5,
      queries: [{ expr: `max by (instance, zone, code, layer) (ftp_doctor_verdict{${SEL}} == 1)`, format: "table", instant: true }],
      fieldConfig: { defaults: {}, overrides: [] },
      options: { showHeader: true, sortBy: [{ displayName: "code", desc: false }] },
      transformations: [{ id: "organize", options: { excludeByName: { Time: true, Value: true } } }],
    },
    {
      type: "timeseries",
      title: "Incidents over time (failing targets by verdict code)",
      description: "Stacked: how many (target, zone) pairs had each failing verdict code.",
      w: 16,
      h: 8,
      queries: [{ expr: `count by (code) (ftp_doctor_verdict{${SEL}, code!="HEALTHY"} == 1)`, legendFormat: "{{code}}" }],
      fieldConfig: {
        defaults: { unit: "none", min: 0, custom: { stacking: { mode: "normal" }, fillOpacity: 40, drawStyle: "bars" } },
        overrides: [],
      },
      options: { legend: { displayMode: "table", placement: "right", calcs: ["max"] }, tooltip: { mode: "multi" } },
    },
    {
      type: "timeseries",
      title: "Firing ftp-doctor alerts",
      w: 8,
      h: 8,
      queries: [{ expr: 'count by (alertname) (ALERTS{job="ftp-doctor", alertstate="firing"})', legendFormat: "{{alertname}}" }],
      fieldConfig: { defaults: { unit: "none", min: 0, custom: { drawStyle: "line", lineInterpolation: "stepAfter" } }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
    { type: "row", title: "Per target", w: 24, h: 1 },
    {
      type: "timeseries",
      title: "Step timings",
      description: "ftp_doctor_step_duration_seconds of each probe: which step (connect, greeting, tls, login, data…) takes the time.",
      w: 12,
      h: 9,
      queries: [{ expr: `ftp_doctor_step_duration_seconds{${SEL}}`, legendFormat: "{{instance}} {{zone}} {{step}}" }],
      fieldConfig: { defaults: { unit: "s", min: 0, custom: { stacking: { mode: "normal" }, fillOpacity: 20 } }, overrides: [] },
      options: { legend: { displayMode: "table", placement: "right", calcs: ["mean", "max"] }, tooltip: { mode: "multi" } },
    },
    {
      type: "timeseries",
      title: "Probe duration",
      w: 12,
      h: 9,
      queries: [{ expr: `probe_duration_seconds{${SEL}}`, legendFormat: "{{instance}} {{zone}}" }],
      fieldConfig: { defaults: { unit: "s", min: 0 }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
    {
      type: "timeseries",
      title: "Probe success",
      w: 12,
      h: 6,
      queries: [{ expr: `probe_success{${SEL}}`, legendFormat: "{{instance}} {{zone}}" }],
      fieldConfig: { defaults: { unit: "none", min: 0, max: 1, custom: { lineInterpolation: "stepAfter" } }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
    {
      type: "timeseries",
      title: "Login and passive data connection",
      w: 12,
      h: 6,
      queries: [
        { expr: `ftp_doctor_login_ok{${SEL}}`, legendFormat: "login {{instance}} {{zone}}" },
        { expr: `ftp_doctor_passive_ok{${SEL}}`, legendFormat: "passive {{instance}} {{zone}}" },
      ],
      fieldConfig: { defaults: { unit: "none", min: 0, max: 1, custom: { lineInterpolation: "stepAfter" } }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
    { type: "row", title: "Certificates and findings", w: 24, h: 1 },
    {
      type: "table",
      title: "Certificate expiry (days)",
      description: "Earliest notAfter of the chain each FTPS server presents, in days from now; red under 3, orange under 14.",
      w: 12,
      h: 8,
      queries: [{ expr: `min by (instance) ((probe_ssl_earliest_cert_expiry{${SEL}} - time()) / 86400)`, format: "table", instant: true }],
      fieldConfig: {
        defaults: {
          unit: "none",
          decimals: 1,
          color: { mode: "thresholds" },
          thresholds: thresholds([
            { color: "red", value: null },
            { color: "orange", value: 3 },
            { color: "green", value: 14 },
          ]),
          custom: { cellOptions: { type: "color-background" } },
        },
        overrides: [],
      },
      options: { showHeader: true, sortBy: [{ displayName: "Value", desc: false }] },
      transformations: [{ id: "organize", options: { excludeByName: { Time: true }, renameByName: { Value: "days left" } } }],
    },
    {
      type: "table",
      title: "Findings",
      description: "Things that work but someone should know (anonymous login, cleartext auth, old TLS…).",
      w: 12,
      h: 8,
      queries: [{ expr: `max by (instance, zone, code) (ftp_doctor_finding{${SEL}})`, format: "table", instant: true }],
      fieldConfig: { defaults: {}, overrides: [] },
      options: { showHeader: true },
      transformations: [{ id: "organize", options: { excludeByName: { Time: true, Value: true } } }],
    },
    { type: "row", title: "Monitoring (the bot's own schedule and incidents)", w: 24, h: 1 },
    {
      type: "timeseries",
      title: "Open incidents by severity",
      description: "ftp_doctor_monitor_incidents_open, read from Redis at scrape time: every bot replica reports the same.",
      w: 12,
      h: 6,
      queries: [{ expr: "max by (severity) (ftp_doctor_monitor_incidents_open)", legendFormat: "{{severity}}" }],
      fieldConfig: { defaults: { unit: "none", min: 0, decimals: 0 }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
    {
      type: "timeseries",
      title: "Monitored checks: per minute, and how late they start (p99)",
      description: "Evaluations summed over the bot replicas; start lag = start time minus due time.",
      w: 12,
      h: 6,
      queries: [
        { expr: "sum by (zone) (rate(ftp_doctor_monitor_evaluations_total[5m])) * 60", legendFormat: "checks/min {{zone}}" },
        {
          expr: "histogram_quantile(0.99, sum by (le, zone) (rate(ftp_doctor_monitor_start_lag_seconds_bucket[5m])))",
          legendFormat: "start lag p99 (s) {{zone}}",
        },
      ],
      fieldConfig: { defaults: { unit: "none", min: 0 }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
    { type: "row", title: "ftp-doctor itself", w: 24, h: 1 },
    {
      type: "timeseries",
      title: "Queue: waiting jobs and oldest wait",
      w: 12,
      h: 6,
      queries: [
        { expr: "max by (zone) (ftp_doctor_queue_waiting)", legendFormat: "waiting {{zone}}" },
        { expr: "max by (zone) (ftp_doctor_queue_oldest_waiting_seconds)", legendFormat: "oldest wait (s) {{zone}}" },
      ],
      fieldConfig: { defaults: { unit: "none", min: 0 }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
    {
      type: "timeseries",
      title: "Probes ftp-doctor could not answer",
      description: "up == 0 for the /probe job: refused by the target policy, no live worker, or no result in time.",
      w: 12,
      h: 6,
      queries: [{ expr: `count by (zone) (up{${SEL}} == 0) or on () vector(0)`, legendFormat: "{{zone}}" }],
      fieldConfig: { defaults: { unit: "none", min: 0 }, overrides: [] },
      options: { legend: { displayMode: "list", placement: "bottom" }, tooltip: { mode: "multi" } },
    },
  ]);

  const labelVar = (name: string, label: string, query: string): Variable => ({
    name,
    label,
    type: "query",
    datasource: DS,
    query: { query, refId: `${name}-var` },
    multi: true,
    includeAll: true,
    allValue: ".*",
    refresh: 2,
    sort: 1,
    current: {},
    hide: 0,
  });
  return {
    uid: "ftp-doctor",
    title: "ftp-doctor: FTP fleet",
    tags: ["ftp-doctor", "ftp", "blackbox"],
    timezone: "browser",
    schemaVersion: 39,
    version: 1,
    editable: false,
    refresh: "1m",
    time: { from: "now-24h", to: "now" },
    templating: {
      list: [
        { name: "datasource", label: "Prometheus", type: "datasource", query: "prometheus", current: {}, hide: 0 },
        labelVar("zone", "Zone", 'label_values(probe_success{job="ftp-doctor"}, zone)'),
        labelVar("instance", "Target", 'label_values(probe_success{job="ftp-doctor", zone=~"$zone"}, instance)'),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

/** The file's exact content: two-space JSON and a final newline, so the diff of a change is readable. */
export function dashboardJson(): string {
  return `${JSON.stringify(buildDashboard(), null, 2)}\n`;
}

export const DASHBOARD_FILE = path.join("deploy", "grafana", "ftp-doctor.json");

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
  writeFileSync(path.join(root, DASHBOARD_FILE), dashboardJson());
  process.stdout.write(`wrote ${DASHBOARD_FILE}\n`);
}
