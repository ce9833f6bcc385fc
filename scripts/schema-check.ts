/**
 * `npm run schema:check`: the breaking-change gate (scripts/schema-gate.ts) for the API schema and
 * for every contract variant (a field tagged out of `public` breaks public clients even though the
 * full API did not change). Exit codes, for CI:
 *   0  no breaking change, or every breaking change is recorded in the changelog with a reason
 *   1  at least one unrecorded breaking change (each is printed with the entry that would record it)
 *   2  the gate could not run (missing file or baseline, unparsable schema, malformed changelog)
 * `npm run schema:release`: after a passing check, copies the current schemas over their baselines
 * and moves the changelog's `unreleased` entries under `released` with today's date.
 *
 * Options (forks point them at their own files): --current schema/api.graphql
 * --baseline schema/baseline/api.graphql --contracts schema/contracts (skipped when absent)
 * --baseline-contracts schema/baseline/contracts --changelog schema/changelog.yaml --release
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import {
  checkSchema,
  formatReport,
  printChangelog,
  readChangelog,
  type GateReport,
} from "./schema-gate.ts";

const { values } = parseArgs({
  options: {
    current: { type: "string", default: "schema/api.graphql" },
    baseline: { type: "string", default: "schema/baseline/api.graphql" },
    contracts: { type: "string", default: "schema/contracts" },
    "baseline-contracts": {
      type: "string",
      default: "schema/baseline/contracts",
    },
    changelog: { type: "string", default: "schema/changelog.yaml" },
    release: { type: "boolean", default: false },
  },
});

const pairs = [{ current: values.current, baseline: values.baseline }];
if (existsSync(values.contracts)) {
  for (const name of readdirSync(values.contracts)
    .filter((file) => file.endsWith(".graphql"))
    .sort()) {
    pairs.push({
      current: join(values.contracts, name),
      baseline: join(values["baseline-contracts"], name),
    });
  }
}

let exitCode: number;
try {
  const changelog = readChangelog(values.changelog);
  const reports: GateReport[] = [];
  for (const { current, baseline } of pairs) {
    if (!existsSync(baseline) && values.release) {
      console.log(
        `== ${current}: no baseline yet (${baseline}); the release creates it`,
      );
      continue;
    }
    if (!existsSync(baseline))
      throw new Error(
        `no baseline ${baseline} for ${current}: review it, then run \`npm run schema:release\``,
      );
    const report = await checkSchema({
      baselineSdl: readFileSync(baseline, "utf8"),
      currentSdl: readFileSync(current, "utf8"),
      changelog,
    });
    reports.push(report);
    const lines = [
      `== ${current} against ${baseline}`,
      ...formatReport(report, {
        changelogPath: values.changelog,
        baselinePath: baseline,
      }),
    ];
    (report.ok ? console.log : console.error)(lines.join("\n"));
  }
  // An entry recorded for a change that none of the schemas shows: already released, or a typo.
  const unmatched = changelog.unreleased.filter((entry) =>
    reports.every((report) => report.unmatched.includes(entry)),
  );
  for (const entry of unmatched)
    console.log(
      `warning: ${values.changelog} records "${entry.change}", which is not a change in any checked schema`,
    );
  const ok = reports.every((report) => report.ok);
  exitCode = ok ? 0 : 1;
  if (ok && values.release) {
    for (const { current, baseline } of pairs) {
      mkdirSync(dirname(baseline), { recursive: true });
      copyFileSync(current, baseline);
    }
    const released = changelog.unreleased.filter(
      (entry) => !unmatched.includes(entry),
    );
    const date = new Date().toISOString().slice(0, 10);
    writeFileSync(
      values.changelog,
      printChangelog({
        unreleased: [],
        released:
          released.length > 0
            ? [{ date, changes: released }, ...changelog.released]
            : changelog.released,
      }),
    );
    console.log(
      `Released: ${pairs.map(({ current, baseline }) => `${current} → ${baseline}`).join(", ")}; ${released.length} changelog entr${released.length === 1 ? "y" : "ies"} moved to released (${date}).`,
    );
  } else if (values.release)
    console.error("Not released: fix the check first.");
} catch (error) {
  console.error(`schema:check could not run: ${(error as Error).message}`);
  exitCode = 2;
}
process.exit(exitCode);
