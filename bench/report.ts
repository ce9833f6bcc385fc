/**
 * Turns a results object into `<name>.json`, `<name>.md` and `<name>/*.svg` charts (plain SVG, no
 * dependency): throughput bars, latency percentiles, latency against concurrency, and subgraph
 * requests / SQL statements against list size. `npm run bench -- --report <file.json>` redraws a
 * report from saved results without measuring again.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Measured } from "./load.ts";
import type { BenchResults, WorkloadResult } from "./results.ts";
import { RUNNERS, type RunnerName } from "./runners.ts";

const COLORS: Record<RunnerName, string> = {
  switchyard: "#2563eb",
  "switchyard-gateway-executor": "#7c3aed",
  "switchyard-outbound": "#0ea5e9",
  "switchyard-dedup": "#1e3a8a",
  "switchyard-baseline": "#64748b",
  "apollo-gateway": "#9ca3af",
  hive: "#f59e0b",
  "hive-dedup": "#b45309",
};
const SERIES_COLORS = [
  "#2563eb",
  "#f59e0b",
  "#10b981",
  "#ef4444",
  "#8b5cf6",
  "#6b7280",
];

const escape = (text: string) =>
  text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fmt = (value: number, digits = 1) =>
  Number.isFinite(value) ? value.toFixed(digits) : "–";
const niceMax = (value: number) => {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10]
    .map((step) => step * magnitude)
    .find((candidate) => candidate >= value)!;
};

/** One set of bars (a value per category) or one line (a value per x), named in the legend. */
interface Series {
  name: string;
  color: string;
  values: number[];
}

/** What every chart has: a title above it and its series. */
interface Chart {
  title: string;
  series: Series[];
}

/** Every chart is as wide as the report's column. */
const CHART_WIDTH = 760;

function svg(
  width: number,
  height: number,
  title: string,
  body: string[],
): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escape(title)}</text>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

/** Horizontal bars, one group per category, one bar per series. */
export function barChart({
  title,
  unit,
  categories,
  series,
}: Chart & { unit: string; categories: string[] }): string {
  const labelWidth = 200;
  const barHeight = 16;
  const groupGap = 14;
  const width = CHART_WIDTH;
  const plotWidth = width - labelWidth - 90;
  const max = niceMax(
    Math.max(
      ...series.flatMap((entry) => entry.values.filter(Number.isFinite)),
    ),
  );
  const groupHeight = series.length * barHeight + groupGap;
  const top = 34;
  const legendY = top + categories.length * groupHeight + 10;
  const body: string[] = [];
  categories.forEach((category, c) => {
    const y0 = top + c * groupHeight;
    if (categories.length > 1)
      body.push(
        `<text x="8" y="${y0 + (series.length * barHeight) / 2 + 4}" font-weight="600">${escape(category)}</text>`,
      );
    series.forEach((entry, s) => {
      const value = entry.values[c]!;
      const w = Number.isFinite(value) ? (value / max) * plotWidth : 0;
      const y = y0 + s * barHeight;
      if (categories.length === 1)
        body.push(
          `<text x="${labelWidth - 6}" y="${y + 12}" text-anchor="end">${escape(entry.name)}</text>`,
        );
      body.push(
        `<rect x="${labelWidth}" y="${y + 2}" width="${w.toFixed(1)}" height="${barHeight - 4}" fill="${entry.color}"/>`,
      );
      body.push(
        `<text x="${labelWidth + w + 4}" y="${y + 12}">${fmt(value)} ${escape(unit)}</text>`,
      );
    });
  });
  if (categories.length > 1) {
    series.forEach((entry, s) => {
      const x = 8 + (s % 3) * 250;
      const y = legendY + Math.floor(s / 3) * 16;
      body.push(
        `<rect x="${x}" y="${y}" width="10" height="10" fill="${entry.color}"/><text x="${x + 14}" y="${y + 9}">${escape(entry.name)}</text>`,
      );
    });
  }
  const height =
    legendY +
    (categories.length > 1 ? Math.ceil(series.length / 3) * 16 + 8 : 0);
  return svg(width, height, title, body);
}

/** Lines over numeric x values (log scale when they span more than a decade). */
export function lineChart({
  title,
  xLabel,
  yLabel,
  xs,
  series,
}: Chart & { xLabel: string; yLabel: string; xs: number[] }): string {
  const width = CHART_WIDTH;
  const height = 360;
  const left = 60;
  const right = 180;
  const top = 34;
  const bottom = 46;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const log = xs.length > 1 && xs[xs.length - 1]! / Math.max(1, xs[0]!) > 10;
  const tx = (x: number) => {
    const [lo, hi] = [xs[0]!, xs[xs.length - 1]!];
    if (hi === lo) return left + plotW / 2;
    const f = log
      ? (Math.log10(x) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))
      : (x - lo) / (hi - lo);
    return left + f * plotW;
  };
  const max = niceMax(
    Math.max(
      ...series.flatMap((entry) => entry.values.filter(Number.isFinite)),
    ),
  );
  const ty = (y: number) => top + plotH - (y / max) * plotH;
  const body: string[] = [
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`,
  ];
  for (let tick = 0; tick <= 4; tick++) {
    const value = (max / 4) * tick;
    body.push(
      `<line x1="${left}" y1="${ty(value)}" x2="${left + plotW}" y2="${ty(value)}" stroke="#eee"/><text x="${left - 6}" y="${ty(value) + 4}" text-anchor="end">${fmt(value, value < 10 ? 1 : 0)}</text>`,
    );
  }
  for (const x of xs)
    body.push(
      `<text x="${tx(x)}" y="${top + plotH + 16}" text-anchor="middle">${x}</text>`,
    );
  body.push(
    `<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escape(xLabel)}</text>`,
  );
  body.push(
    `<text x="14" y="${top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${top + plotH / 2})">${escape(yLabel)}</text>`,
  );
  series.forEach((entry, s) => {
    const points = xs
      .map((x, i) => [tx(x), ty(entry.values[i]!)] as const)
      .filter(([, y]) => Number.isFinite(y));
    body.push(
      `<polyline fill="none" stroke="${entry.color}" stroke-width="2" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ")}"/>`,
    );
    for (const [x, y] of points)
      body.push(
        `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="3" fill="${entry.color}"/>`,
      );
    body.push(
      `<rect x="${left + plotW + 14}" y="${top + s * 18}" width="10" height="10" fill="${entry.color}"/><text x="${left + plotW + 28}" y="${top + s * 18 + 9}">${escape(entry.name)}</text>`,
    );
  });
  return svg(width, height, title, body);
}

const label = (runner: RunnerName) => RUNNERS[runner].label;

function workloadTable(
  workload: WorkloadResult,
  baseline: Measured | undefined,
): string[] {
  const lines = [
    "| runner | req/s | vs plain | p50 ms | p90 ms | p99 ms | p99 vs plain | router CPU µs/req | subgraph req/op | errors |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const {
    runner,
    median,
    subgraphRequestsPerOperation,
  } of workload.results) {
    const ratio = baseline ? `${fmt(median.rps / baseline.rps, 2)}x` : "–";
    const p99Ratio = baseline ? `${fmt(median.p99 / baseline.p99, 2)}x` : "–";
    lines.push(
      `| ${label(runner)} | ${fmt(median.rps)} | ${ratio} | ${fmt(median.p50, 2)} | ${fmt(median.p90, 2)} | ${fmt(median.p99, 2)} | ${p99Ratio} | ${median.cpuMicrosPerRequest === null ? "–" : fmt(median.cpuMicrosPerRequest, 0)} | ${subgraphRequestsPerOperation === null ? "–" : fmt(subgraphRequestsPerOperation, 2)} | ${median.errors} |`,
    );
  }
  return lines;
}

/** Writes `<dir>/<name>.json`, `<dir>/<name>.md` and the charts under `<dir>/<name>/`; returns the Markdown path. */
export function writeReport(
  results: BenchResults,
  dir: string,
  name: string,
): string {
  const chartDir = join(dir, name);
  mkdirSync(chartDir, { recursive: true });
  writeFileSync(
    join(dir, `${name}.json`),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  const chart = (file: string, content: string) => {
    writeFileSync(join(chartDir, file), content);
    return `![${file}](${name}/${file})`;
  };
  const md: string[] = [
    `# Switchyard benchmark — ${results.date.slice(0, 10)} (${results.mode})`,
    "",
    `Machine: ${results.machine.cpus} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node} (${results.machine.platform}). ` +
      `Load: autocannon in the benchmark's own process, loopback only; every gateway in a process of its own on the same subgraphs; ` +
      `${results.settings.rounds} alternating round(s) of ${results.settings.durationS} s per runner after ${results.settings.warmupS} s of warm-up; figures are medians over rounds. ` +
      "Every response was checked before timing. Ratios compare runners of this run; absolute figures depend on the machine.",
    "",
    "## Runners",
    "",
    ...Object.values(results.runners).map(
      (runner) => `- **${runner!.label}** — ${runner!.description}`,
    ),
    "",
  ];
  if (results.targets.length > 0) {
    md.push(
      "## Targets",
      "",
      "| target | measured | goal | met |",
      "| --- | ---: | --- | --- |",
    );
    for (const target of results.targets)
      md.push(
        `| ${target.name} | ${fmt(target.value, 2)} | ${target.target} | ${target.met ? "yes" : "**no**"} |`,
      );
    md.push("");
  }
  for (const workload of results.workloads) {
    const baseline = workload.results.find(
      (entry) => entry.runner === "apollo-gateway",
    )?.median;
    md.push(
      `## ${workload.title}`,
      "",
      `${workload.description} ${workload.connections} connections.`,
      "",
      ...workloadTable(workload, baseline),
      "",
    );
    const runners = workload.results.map((entry) => entry.runner);
    md.push(
      chart(
        `${workload.id}-throughput.svg`,
        barChart({
          title: `${workload.title}: requests/s`,
          unit: "req/s",
          categories: [workload.title],
          series: workload.results.map((entry) => ({
            name: label(entry.runner),
            color: COLORS[entry.runner],
            values: [entry.median.rps],
          })),
        }),
      ),
      "",
      chart(
        `${workload.id}-latency.svg`,
        barChart({
          title: `${workload.title}: latency percentiles`,
          unit: "ms",
          categories: ["p50", "p90", "p99"],
          series: runners.map((runner) => {
            const m = workload.results.find(
              (entry) => entry.runner === runner,
            )!.median;
            return {
              name: label(runner),
              color: COLORS[runner],
              values: [m.p50, m.p90, m.p99],
            };
          }),
        }),
      ),
      "",
    );
  }
  if (results.concurrency) {
    const { concurrency } = results;
    md.push(
      `## Latency against concurrency (${concurrency.workload})`,
      "",
      "| runner | connections | req/s | p50 ms | p99 ms |",
      "| --- | ---: | ---: | ---: | ---: |",
    );
    for (const series of concurrency.series)
      for (const point of series.points)
        md.push(
          `| ${label(series.runner)} | ${point.connections} | ${fmt(point.rps)} | ${fmt(point.p50, 2)} | ${fmt(point.p99, 2)} |`,
        );
    const lines = (pick: (m: Measured) => number) =>
      concurrency.series.map((series) => ({
        name: label(series.runner),
        color: COLORS[series.runner],
        values: series.points.map(pick),
      }));
    md.push(
      "",
      chart(
        "concurrency-p99.svg",
        lineChart({
          title: `${concurrency.workload}: p99 latency against concurrency`,
          xLabel: "connections",
          yLabel: "p99 ms",
          xs: [...concurrency.levels],
          series: lines((m) => m.p99),
        }),
      ),
      "",
      chart(
        "concurrency-throughput.svg",
        lineChart({
          title: `${concurrency.workload}: throughput against concurrency`,
          xLabel: "connections",
          yLabel: "req/s",
          xs: [...concurrency.levels],
          series: lines((m) => m.rps),
        }),
      ),
      "",
    );
  }
  if (results.listSize) {
    const { rows } = results.listSize;
    const subgraphs = Object.keys(rows[0]?.sqlQueries ?? {});
    md.push(
      "## Cost against list size",
      "",
      `One operation (\`${results.listSize.query.replace(/\s+/g, " ").slice(0, 160)}…\`) for N orders, each with two items, their products and payments: subgraph requests and SQL statements per subgraph. Constant columns mean batching holds: no N+1 anywhere.`,
      "",
      `| orders | ${subgraphs.map((name) => `${name} requests`).join(" | ")} | ${subgraphs.map((name) => `${name} SQL`).join(" | ")} |`,
      `| ---: | ${subgraphs.map(() => "---:").join(" | ")} | ${subgraphs.map(() => "---:").join(" | ")} |`,
      ...rows.map(
        (row) =>
          `| ${row.size} | ${subgraphs.map((name) => row.subgraphRequests[name] ?? 0).join(" | ")} | ${subgraphs.map((name) => row.sqlQueries[name] ?? 0).join(" | ")} |`,
      ),
      "",
      chart(
        "list-size.svg",
        lineChart({
          title:
            "Subgraph requests and SQL statements per operation against list size",
          xLabel: "orders in the list",
          yLabel: "count per operation",
          xs: rows.map((row) => row.size),
          series: [
            {
              name: "subgraph requests (all)",
              color: SERIES_COLORS[0]!,
              values: rows.map((row) =>
                Object.values(row.subgraphRequests).reduce((a, b) => a + b, 0),
              ),
            },
            {
              name: "SQL statements (all)",
              color: SERIES_COLORS[1]!,
              values: rows.map((row) =>
                Object.values(row.sqlQueries).reduce((a, b) => a + b, 0),
              ),
            },
          ],
        }),
      ),
      "",
    );
  }
  if (results.failFast) {
    md.push(
      "## Failing fast",
      "",
      results.failFast.description,
      "",
      "| scenario | connections | req/s | p50 ms | p99 ms | router CPU µs/req | errors returned |",
      "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const row of results.failFast.rows)
      md.push(
        `| ${row.scenario} | ${row.connections} | ${fmt(row.rps)} | ${fmt(row.p50, 2)} | ${fmt(row.p99, 2)} | ${row.cpuMicrosPerRequest === null ? "–" : fmt(row.cpuMicrosPerRequest, 0)} | ${row.errorCodes.join(", ") || "none"} |`,
      );
    md.push("");
  }
  if (results.placeOrder.length > 0) {
    md.push(
      "## placeOrder",
      "",
      "Through the router, one new order per request; every order checked in the databases afterwards (pending, double-charged and oversold must be 0). CPU: the bench process (router, subgraphs, PGlite, load generator) and the run's PostgreSQL backends. SQL: statements / transactions per order in orders, products, payments.",
      "",
      "| storage | connections | orders/s | p50 ms | p99 ms | placed | confirmed | captured | pending | double-charged | oversold | errors | CPU ms/order | PostgreSQL CPU ms/order | SQL per order |",
      "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    );
    for (const row of results.placeOrder)
      md.push(
        `| ${row.backend} | ${row.connections}${row.rate ? ` at ${row.rate}/s` : ""} | ${fmt(row.rps)} | ${fmt(row.p50)} | ${fmt(row.p99)} | ${row.placed} | ${row.confirmed} | ${row.captured} | ${row.pending ?? "–"} | ${row.doubleCharged ?? "–"} | ${row.oversold ?? "–"} | ${row.errors} | ${row.cpuMsPerOrder === undefined ? "–" : fmt(row.cpuMsPerOrder, 2)} | ${row.postgresCpuMsPerOrder === undefined ? "–" : fmt(row.postgresCpuMsPerOrder, 2)} | ${
          row.perOrder
            ? ["orders", "products", "payments"]
                .map(
                  (service) =>
                    `${row.perOrder![service]?.statements.toFixed(1) ?? "–"}/${row.perOrder![service]?.transactions.toFixed(1) ?? "–"}`,
                )
                .join(", ")
            : "–"
        } |`,
      );
    md.push("");
  }
  if (results.live) {
    const live = results.live;
    md.push(
      "## Live updates (subscriptions)",
      "",
      `${live.subscribers} WebSocket subscribers of one customer (\`${live.selection}\`), ${live.events} order events published at once on the in-process log; each delivery is one gateway query with the subscriber's context. Memory: heap/RSS growth per idle subscription, router and clients in one process.`,
      "",
      "| subscribers | events | deliveries/s | events/s | p50 ms | p99 ms | max ms | heap B/sub | RSS B/sub |",
      "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
      `| ${live.subscribers} | ${live.events} | ${fmt(live.deliveriesPerSecond)} | ${fmt(live.eventsPerSecond, 2)} | ${fmt(live.latencyMs.p50)} | ${fmt(live.latencyMs.p99)} | ${fmt(live.latencyMs.max)} | ${fmt(live.heapBytesPerSubscription, 0)} | ${fmt(live.rssBytesPerSubscription, 0)} |`,
      "",
    );
  }
  const path = join(dir, `${name}.md`);
  writeFileSync(path, md.join("\n"));
  return path;
}

/** Redraws the report of saved results (`npm run bench -- --report bench/results/<date>.json`). */
export function redraw(jsonPath: string): string {
  const results = JSON.parse(readFileSync(jsonPath, "utf8")) as BenchResults;
  return writeReport(results, dirname(jsonPath), basename(jsonPath, ".json"));
}
