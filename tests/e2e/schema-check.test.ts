import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { readChangelog } from "../../scripts/schema-gate.ts";
import {
  baselineWithoutFailureCode,
  readBaselineSdl,
} from "../support/schema-fixtures.ts";
import { scratchDir } from "../support/scratch.ts";

const run = promisify(execFile);
const baselineSdl = readBaselineSdl();
const withoutFailureCode = baselineWithoutFailureCode();

describe("npm run schema:check as a process", () => {
  const scratch = scratchDir("switchyard-schema-check-");

  it("works as a CI step over the API and its contracts: exit 1 with the entry to add, 0 once recorded, 2 when it cannot run; --release promotes", async () => {
    const current = join(scratch, "api.graphql");
    const baseline = join(scratch, "baseline.graphql");
    const changelog = join(scratch, "changelog.yaml");
    const contracts = join(scratch, "contracts");
    const baselineContracts = join(scratch, "baseline-contracts");
    mkdirSync(contracts);
    writeFileSync(current, withoutFailureCode);
    writeFileSync(baseline, baselineSdl);
    writeFileSync(changelog, readFileSync("schema/changelog.yaml", "utf8"));
    // The public contract loses Order.failureCode too, as composition would make it.
    writeFileSync(join(contracts, "public.graphql"), withoutFailureCode);
    const gate = (...extra: string[]) =>
      run(process.execPath, [
        "--import",
        "tsx",
        "scripts/schema-check.ts",
        "--current",
        current,
        "--baseline",
        baseline,
        "--contracts",
        contracts,
        "--baseline-contracts",
        baselineContracts,
        "--changelog",
        changelog,
        ...extra,
      ]).then(
        ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
        (error: { code: number; stdout: string; stderr: string }) => error,
      );

    const noBaseline = await gate();
    expect(noBaseline.code).toBe(2);
    expect(noBaseline.stderr).toMatch(
      /no baseline .*baseline-contracts\/public\.graphql for .*contracts\/public\.graphql/,
    );
    mkdirSync(baselineContracts);
    writeFileSync(join(baselineContracts, "public.graphql"), baselineSdl);

    const failed = await gate();
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /^BREAKING {2}FIELD_REMOVED Order\.failureCode {2}/m,
    );
    expect(failed.stderr).toMatch(
      /Schema check FAILED[\s\S]*- change: FIELD_REMOVED Order\.failureCode\n\s+reason:/,
    );

    writeFileSync(
      changelog,
      readFileSync(changelog, "utf8").replace(
        "unreleased: []",
        "unreleased:\n  - change: FIELD_REMOVED Order.failureCode\n    reason: nobody reads it",
      ),
    );
    const passed = await gate("--release");
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(
      /BREAKING \(recorded\) {2}FIELD_REMOVED Order\.failureCode[\s\S]*reason: nobody reads it/,
    );
    expect(readFileSync(baseline, "utf8")).toBe(withoutFailureCode);
    expect(
      readFileSync(join(baselineContracts, "public.graphql"), "utf8"),
    ).toBe(withoutFailureCode);
    const released = readChangelog(changelog);
    expect(released.unreleased).toEqual([]);
    expect(released.released[0]!.changes).toEqual([
      { change: "FIELD_REMOVED Order.failureCode", reason: "nobody reads it" },
    ]);
    expect((await gate()).code).toBe(0);

    // Tagging a field out of the public contract breaks public clients though the API is unchanged.
    const publicWithoutCancel = withoutFailureCode.replace(
      /\n\s+"""[^"]*"""\n\s+cancelOrder\(id: ID!\): Order!\n/,
      "\n",
    );
    expect(publicWithoutCancel).not.toMatch(/cancelOrder/);
    writeFileSync(join(contracts, "public.graphql"), publicWithoutCancel);
    const contractOnly = await gate();
    expect(contractOnly.code).toBe(1);
    expect(contractOnly.stdout).toMatch(
      /== .*api\.graphql against [\s\S]*Schema check passed\./,
    );
    expect(contractOnly.stderr).toMatch(
      /== .*contracts\/public\.graphql against [\s\S]*BREAKING {2}FIELD_REMOVED Mutation\.cancelOrder/,
    );

    writeFileSync(changelog, "unreleased: {");
    const broken = await gate();
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(
      /schema:check could not run: .*changelog\.yaml: not readable YAML/,
    );
  });
});
