import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Measured } from "../../../bench/load.ts";
import { barChart, lineChart, writeReport } from "../../../bench/report.ts";
import {
  checkResults,
  RESULTS_VERSION,
  type BenchResults,
} from "../../../bench/results.ts";
import { RUNNERS } from "../../../bench/runners.ts";

const measured = (rps: number, p50: number, p99: number): Measured => ({
  requests: rps * 2,
  rps,
  p50,
  p90: (p50 + p99) / 2,
  p99,
  max: p99 * 1.2,
  cpuMicrosPerRequest: 1000,
  errors: 0,
});

function sample(): BenchResults {
  return {
    version: RESULTS_VERSION,
    date: "2026-11-24T12:00:00.000Z",
    mode: "quick",
    machine: {
      cpus: 2,
      cpuModel: "test cpu",
      memoryGiB: 24,
      node: "v20.20.2",
      platform: "linux-x64",
    },
    settings: { durationS: 2, warmupS: 1, rounds: 1 },
    runners: {
      switchyard: RUNNERS.switchyard,
      "apollo-gateway": RUNNERS["apollo-gateway"],
    },
    workloads: [
      {
        id: "guild",
        title: "Guild",
        description: "d",
        connections: 50,
        results: [
          {
            runner: "switchyard",
            rounds: [measured(200, 10, 40)],
            median: measured(200, 10, 40),
            subgraphRequestsPerOperation: 16,
          },
          {
            runner: "apollo-gateway",
            rounds: [measured(80, 30, 90)],
            median: measured(80, 30, 90),
            subgraphRequestsPerOperation: 16,
          },
        ],
      },
    ],
    concurrency: {
      workload: "Guild",
      levels: [1, 50],
      series: [
        {
          runner: "switchyard",
          points: [
            { connections: 1, ...measured(100, 1, 2) },
            { connections: 50, ...measured(200, 10, 40) },
          ],
        },
      ],
    },
    failFast: null,
    listSize: {
      query: "query { x }",
      rows: [1, 1000].map((size) => ({
        size,
        subgraphRequests: { users: 1, orders: 1 },
        sqlQueries: { users: 1, orders: 2 },
      })),
    },
    placeOrder: [],
    targets: [{ name: "ratio", value: 2.5, target: "≥ 2x", met: true }],
  };
}

describe("benchmark results and report", () => {
  it("accepts well-formed results and names every problem of malformed ones", () => {
    expect(checkResults(sample())).toEqual([]);
    const broken = sample() as unknown as {
      workloads: Array<{
        results: Array<{ median: Measured; runner: string }>;
      }>;
      listSize: { rows: Array<{ sqlQueries: Record<string, number> }> };
    };
    broken.workloads[0]!.results[0]!.median = {
      ...measured(0, 1, 2),
      requests: 0,
      p99: Number.NaN,
    };
    broken.workloads[0]!.results[1]!.runner = "hive";
    broken.listSize.rows[0]!.sqlQueries.users = 1.5;
    const problems = checkResults(broken as unknown as BenchResults);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/guild\/switchyard: malformed figures/),
        expect.stringMatching(/guild\/switchyard: no request completed/),
        expect.stringMatching(/runner hive is not described/),
        expect.stringMatching(/listSize 1\/users: 1.5 is not a count/),
      ]),
    );
  });

  it("writes JSON, Markdown with ratios against the plain gateway, and one SVG per chart", () => {
    const dir = mkdtempSync(join(tmpdir(), "bench-report-"));
    try {
      const path = writeReport(sample(), dir, "sample");
      const markdown = readFileSync(path, "utf8");
      expect(markdown).toContain("| Switchyard | 200.0 | 2.50x |");
      expect(markdown).toContain("| 1000 | 1 | 1 | 1 | 2 |");
      for (const [, file] of markdown.matchAll(/\]\((sample\/[^)]+\.svg)\)/g))
        expect(readFileSync(join(dir, file!), "utf8")).toMatch(
          /^<svg[\s\S]*<\/svg>\n$/,
        );
      expect(
        JSON.parse(readFileSync(join(dir, "sample.json"), "utf8")),
      ).toEqual(sample());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("draws bars to scale and lines through every point, escaping labels", () => {
    const bars = barChart({
      title: "a < b",
      unit: "req/s",
      categories: ["x"],
      series: [
        { name: "one", color: "#000", values: [50] },
        { name: "two", color: "#111", values: [100] },
      ],
    });
    expect(bars).toContain("a &lt; b");
    const widths = [
      ...bars.matchAll(/<rect x="200" y="[\d.]+" width="([\d.]+)"/g),
    ].map((match) => Number(match[1]));
    expect(widths[1]! / widths[0]!).toBeCloseTo(2, 5);
    const lines = lineChart({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      xs: [1, 10, 100, 1000],
      series: [{ name: "s", color: "#000", values: [1, 1, 1, 1] }],
    });
    expect(lines.match(/<circle/g)).toHaveLength(4);
  });
});
