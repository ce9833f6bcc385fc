import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ChangelogError, checkSchema, formatReport, readChangelog, type Changelog } from '../../../scripts/schema-gate.ts';

const run = promisify(execFile);
const baselineSdl = readFileSync('schema/baseline/api.graphql', 'utf8');
const none: Changelog = { unreleased: [], released: [] };

/** The baseline with one edit, failing loudly if the edit no longer applies. */
function edited(find: string | RegExp, replace: string): string {
  const next = baselineSdl.replace(find, replace);
  if (next === baselineSdl) throw new Error(`fixture edit ${String(find)} did not apply`);
  return next;
}
const withoutFailureCode = edited(/\n\s+"""\n[^"]*"""\n\s+failureCode: String\n/, '\n');
const productsFirstAsString = edited('products(first: Int = 20, after: String, search: String)', 'products(first: String, after: String, search: String)');
const withGiftNote = edited(/\n(\s+)failureCode: String\n/, '\n$1failureCode: String\n\n$1"""A note printed on the packing slip."""\n$1giftNote: String\n');
const withRefundedStatus = edited(/(enum OrderStatus \{[^}]*?)\n\}/, '$1\n\n  """Refunded after confirmation."""\n  REFUNDED\n}');

describe('the breaking-change gate', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'switchyard-schema-gate-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('passes the committed API schema against the committed baseline', async () => {
    const report = await checkSchema({ baselineSdl, currentSdl: readFileSync('schema/api.graphql', 'utf8'), changelog: readChangelog('schema/changelog.yaml') });
    expect(report.breaking.filter((entry) => !entry.recorded)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('fails on a removed field', async () => {
    const report = await checkSchema({ baselineSdl, currentSdl: withoutFailureCode, changelog: none });
    expect(report.ok).toBe(false);
    expect(report.breaking.map(({ change }) => `${change.type} ${change.path}`)).toEqual(['FIELD_REMOVED Order.failureCode']);
  });

  it('fails on a changed argument type', async () => {
    const report = await checkSchema({ baselineSdl, currentSdl: productsFirstAsString, changelog: none });
    expect(report.ok).toBe(false);
    expect(report.breaking.map(({ change }) => `${change.type} ${change.path}`)).toEqual(['FIELD_ARGUMENT_TYPE_CHANGED Query.products.first']);
  });

  it('passes an added optional field as a safe change', async () => {
    const report = await checkSchema({ baselineSdl, currentSdl: withGiftNote, changelog: none });
    expect(report.ok).toBe(true);
    expect(report.breaking).toEqual([]);
    expect(report.safe.map((change) => change.path)).toContain('Order.giftNote');
  });

  it('passes and prints a dangerous change (a new enum value clients may not handle)', async () => {
    const report = await checkSchema({ baselineSdl, currentSdl: withRefundedStatus, changelog: none });
    expect(report.ok).toBe(true);
    expect(report.dangerous.map((change) => `${change.type} ${change.path}`)).toEqual(['ENUM_VALUE_ADDED OrderStatus.REFUNDED']);
    expect(formatReport(report, { changelogPath: 'c.yaml', baselinePath: 'b.graphql' }).join('\n')).toMatch(/^DANGEROUS {2}ENUM_VALUE_ADDED OrderStatus\.REFUNDED {2}/m);
  });

  it('passes a breaking change once the changelog records it with a reason, and says which entries match nothing', async () => {
    const changelog: Changelog = {
      unreleased: [
        { change: 'FIELD_REMOVED Order.failureCode', reason: 'replaced by Order.failure; clients told in 2026-10' },
        { change: 'FIELD_REMOVED Product.sku', reason: 'typo kept for the test' },
      ],
      released: [],
    };
    const report = await checkSchema({ baselineSdl, currentSdl: withoutFailureCode, changelog });
    expect(report.ok).toBe(true);
    expect(report.breaking.map(({ recorded }) => recorded?.reason)).toEqual(['replaced by Order.failure; clients told in 2026-10']);
    expect(report.unmatched.map((entry) => entry.change)).toEqual(['FIELD_REMOVED Product.sku']);
  });

  it('refuses a changelog entry without a reason', () => {
    const path = join(scratch, 'no-reason.yaml');
    writeFileSync(path, 'unreleased:\n  - change: FIELD_REMOVED Order.failureCode\n    reason: ""\n');
    expect(() => readChangelog(path)).toThrow(ChangelogError);
    expect(() => readChangelog(path)).toThrow(/FIELD_REMOVED Order\.failureCode\) needs a reason/);
  });

  it('works as a CI step over the API and its contracts: exit 1 with the entry to add, 0 once recorded, 2 when it cannot run; --release promotes', async () => {
    const current = join(scratch, 'api.graphql');
    const baseline = join(scratch, 'baseline.graphql');
    const changelog = join(scratch, 'changelog.yaml');
    const contracts = join(scratch, 'contracts');
    const baselineContracts = join(scratch, 'baseline-contracts');
    mkdirSync(contracts);
    writeFileSync(current, withoutFailureCode);
    writeFileSync(baseline, baselineSdl);
    writeFileSync(changelog, readFileSync('schema/changelog.yaml', 'utf8'));
    // The public contract loses Order.failureCode too, as composition would make it.
    writeFileSync(join(contracts, 'public.graphql'), withoutFailureCode);
    const gate = (...extra: string[]) =>
      run(process.execPath, ['--import', 'tsx', 'scripts/schema-check.ts', '--current', current, '--baseline', baseline, '--contracts', contracts, '--baseline-contracts', baselineContracts, '--changelog', changelog, ...extra]).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    const noBaseline = await gate();
    expect(noBaseline.code).toBe(2);
    expect(noBaseline.stderr).toMatch(/no baseline .*baseline-contracts\/public\.graphql for .*contracts\/public\.graphql/);
    mkdirSync(baselineContracts);
    writeFileSync(join(baselineContracts, 'public.graphql'), baselineSdl);

    const failed = await gate();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^BREAKING {2}FIELD_REMOVED Order\.failureCode {2}/m);
    expect(failed.stderr).toMatch(/Schema check FAILED[\s\S]*- change: FIELD_REMOVED Order\.failureCode\n\s+reason:/);

    writeFileSync(changelog, readFileSync(changelog, 'utf8').replace('unreleased: []', 'unreleased:\n  - change: FIELD_REMOVED Order.failureCode\n    reason: nobody reads it'));
    const passed = await gate('--release');
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(/BREAKING \(recorded\) {2}FIELD_REMOVED Order\.failureCode[\s\S]*reason: nobody reads it/);
    expect(readFileSync(baseline, 'utf8')).toBe(withoutFailureCode);
    expect(readFileSync(join(baselineContracts, 'public.graphql'), 'utf8')).toBe(withoutFailureCode);
    const released = readChangelog(changelog);
    expect(released.unreleased).toEqual([]);
    expect(released.released[0]!.changes).toEqual([{ change: 'FIELD_REMOVED Order.failureCode', reason: 'nobody reads it' }]);
    expect((await gate()).code).toBe(0);

    // Tagging a field out of the public contract breaks public clients though the API is unchanged.
    const publicWithoutCancel = withoutFailureCode.replace(/\n\s+"""[^"]*"""\n\s+cancelOrder\(id: ID!\): Order!\n/, '\n');
    expect(publicWithoutCancel).not.toMatch(/cancelOrder/);
    writeFileSync(join(contracts, 'public.graphql'), publicWithoutCancel);
    const contractOnly = await gate();
    expect(contractOnly.code).toBe(1);
    expect(contractOnly.stdout).toMatch(/== .*api\.graphql against [\s\S]*Schema check passed\./);
    expect(contractOnly.stderr).toMatch(/== .*contracts\/public\.graphql against [\s\S]*BREAKING {2}FIELD_REMOVED Mutation\.cancelOrder/);

    writeFileSync(changelog, 'unreleased: {');
    const broken = await gate();
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/schema:check could not run: .*changelog\.yaml: not readable YAML/);
  });
});
