import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { checkResults, type BenchResults } from "../../bench/results.ts";

/**
 * `npm run bench -- --quick` end to end: every runner (Hive Gateway fetched on first use), every
 * section, results that are well formed and a report whose charts exist. Form only — how fast
 * anything was is for the benchmark's reader, never a test assertion on a shared machine.
 */
describe("npm run bench -- --quick", () => {
  const out = mkdtempSync(join(tmpdir(), "bench-smoke-"));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it(
    "measures every runner and section and writes well-formed results and a report",
    { timeout: 15 * 60_000 },
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ["--import", "tsx", "bench/run.ts", "--quick", "--out", out],
        {
          env: { ...process.env, NODE_ENV: "production" },
          maxBuffer: 16 * 1024 * 1024,
        },
      );
      const jsonPath = /results: (.+\.json)/.exec(stdout)?.[1];
      expect(jsonPath, stdout.slice(-2000)).toBeDefined();
      const results = JSON.parse(
        readFileSync(jsonPath!, "utf8"),
      ) as BenchResults;

      expect(checkResults(results)).toEqual([]);
      expect(results.mode).toBe("quick");
      const guild = results.workloads.find(
        (workload) => workload.id === "guild",
      )!;
      expect(guild.results.map((entry) => entry.runner).sort()).toEqual([
        "apollo-gateway",
        "hive",
        "hive-dedup",
        "switchyard",
        "switchyard-dedup",
        "switchyard-gateway-executor",
        "switchyard-outbound",
      ]);
      expect(results.workloads.map((workload) => workload.id)).toEqual([
        "guild",
        "order",
        "orders-100",
      ]);
      expect(results.listSize?.rows.map((row) => row.size)).toEqual([
        1, 100, 1000,
      ]);
      expect(results.concurrency?.series.length).toBe(3);
      expect(results.failFast?.rows.length).toBe(3);
      expect(results.targets.map((target) => target.name)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/throughput \/ plain gateway/),
          expect.stringMatching(/Hive Gateway \+ inbound dedup/),
        ]),
      );

      const report = readFileSync(jsonPath!.replace(/\.json$/, ".md"), "utf8");
      const charts = [...report.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map(
        (match) => match[1]!,
      );
      expect(charts.length).toBeGreaterThanOrEqual(9);
      for (const chart of charts) {
        const svg = readFileSync(join(out, chart), "utf8");
        expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(
          true,
        );
        expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
        expect(svg).not.toMatch(/NaN|undefined/);
      }
      expect(
        existsSync(join(out, `${results.date.slice(0, 10)}-quick.json`)),
      ).toBe(true);
    },
  );
});
