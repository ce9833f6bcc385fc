/**
 * `npm run schema:check`: the breaking-change gate (scripts/schema-gate.ts). Exit codes, for CI:
 *   0  no breaking change, or every breaking change is recorded in the changelog with a reason
 *   1  at least one unrecorded breaking change (each is printed with the entry that would record it)
 *   2  the gate could not run (missing file, schema that does not parse, malformed changelog)
 * `npm run schema:release`: after a passing check, copies the current API schema over the baseline
 * and moves the changelog's `unreleased` entries under `released` with today's date.
 *
 * Options (forks point them at their own files): --current schema/api.graphql
 * --baseline schema/baseline/api.graphql --changelog schema/changelog.yaml --release
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { checkSchema, formatReport, printChangelog, readChangelog } from './schema-gate.ts';

const { values } = parseArgs({
  options: {
    current: { type: 'string', default: 'schema/api.graphql' },
    baseline: { type: 'string', default: 'schema/baseline/api.graphql' },
    changelog: { type: 'string', default: 'schema/changelog.yaml' },
    release: { type: 'boolean', default: false },
  },
});

let exitCode: number;
try {
  const changelog = readChangelog(values.changelog);
  const report = await checkSchema({ baselineSdl: readFileSync(values.baseline, 'utf8'), currentSdl: readFileSync(values.current, 'utf8'), changelog });
  const lines = formatReport(report, { changelogPath: values.changelog, baselinePath: values.baseline });
  (report.ok ? console.log : console.error)(lines.join('\n'));
  exitCode = report.ok ? 0 : 1;
  if (report.ok && values.release) {
    copyFileSync(values.current, values.baseline);
    const released = changelog.unreleased.filter((entry) => !report.unmatched.includes(entry));
    const date = new Date().toISOString().slice(0, 10);
    writeFileSync(values.changelog, printChangelog({ unreleased: [], released: released.length > 0 ? [{ date, changes: released }, ...changelog.released] : changelog.released }));
    console.log(`Released: ${values.current} is the new baseline ${values.baseline}; ${released.length} changelog entr${released.length === 1 ? 'y' : 'ies'} moved to released (${date}).`);
  } else if (values.release) console.error('Not released: fix the check first.');
} catch (error) {
  console.error(`schema:check could not run: ${(error as Error).message}`);
  exitCode = 2;
}
process.exit(exitCode);
