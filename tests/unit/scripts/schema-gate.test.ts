import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  ChangelogError,
  checkSchema,
  formatReport,
  readChangelog,
  type Changelog,
} from "../../../scripts/schema-gate.ts";
import {
  baselineWithoutFailureCode,
  editedBaseline as edited,
  readBaselineSdl,
} from "../../support/schema-fixtures.ts";
import { scratchDir } from "../../support/scratch.ts";

const baselineSdl = readBaselineSdl();
const withoutFailureCode = baselineWithoutFailureCode();
const none: Changelog = { unreleased: [], released: [] };
const productsFirstAsString = edited(
  "products(first: Int = 20, after: String, search: String)",
  "products(first: String, after: String, search: String)",
);
const withGiftNote = edited(
  /\n(\s+)failureCode: String\n/,
  '\n$1failureCode: String\n\n$1"""A note printed on the packing slip."""\n$1giftNote: String\n',
);
const withRefundedStatus = edited(
  /(enum OrderStatus \{[^}]*?)\n\}/,
  '$1\n\n  """Refunded after confirmation."""\n  REFUNDED\n}',
);

/** The gate on `currentSdl` against the committed baseline. */
const check = (currentSdl: string, changelog: Changelog = none) =>
  checkSchema({ baselineSdl, currentSdl, changelog });
/** A change as the changelog names it: `TYPE path`. */
const named = (change: { type: string; path?: string }) =>
  `${change.type} ${change.path}`;

describe("the breaking-change gate", () => {
  const scratch = scratchDir("switchyard-schema-gate-");

  it("passes the committed API schema against the committed baseline", async () => {
    const report = await check(
      readFileSync("schema/api.graphql", "utf8"),
      readChangelog("schema/changelog.yaml"),
    );
    expect(report.breaking.filter((entry) => !entry.recorded)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it.each([
    ["a removed field", withoutFailureCode, "FIELD_REMOVED Order.failureCode"],
    [
      "a changed argument type",
      productsFirstAsString,
      "FIELD_ARGUMENT_TYPE_CHANGED Query.products.first",
    ],
  ])("fails on %s", async (_, currentSdl, breaking) => {
    const report = await check(currentSdl);
    expect(report.ok).toBe(false);
    expect(report.breaking.map(({ change }) => named(change))).toEqual([
      breaking,
    ]);
  });

  it("passes an added optional field as a safe change", async () => {
    const report = await check(withGiftNote);
    expect(report.ok).toBe(true);
    expect(report.breaking).toEqual([]);
    expect(report.safe.map((change) => change.path)).toContain(
      "Order.giftNote",
    );
  });

  it("passes and prints a dangerous change (a new enum value clients may not handle)", async () => {
    const report = await check(withRefundedStatus);
    expect(report.ok).toBe(true);
    expect(report.dangerous.map(named)).toEqual([
      "ENUM_VALUE_ADDED OrderStatus.REFUNDED",
    ]);
    expect(
      formatReport(report, {
        changelogPath: "c.yaml",
        baselinePath: "b.graphql",
      }).join("\n"),
    ).toMatch(/^DANGEROUS {2}ENUM_VALUE_ADDED OrderStatus\.REFUNDED {2}/m);
  });

  it("passes a breaking change once the changelog records it with a reason, and says which entries match nothing", async () => {
    const changelog: Changelog = {
      unreleased: [
        {
          change: "FIELD_REMOVED Order.failureCode",
          reason: "replaced by Order.failure; clients told in 2026-10",
        },
        {
          change: "FIELD_REMOVED Product.sku",
          reason: "typo kept for the test",
        },
      ],
      released: [],
    };
    const report = await check(withoutFailureCode, changelog);
    expect(report.ok).toBe(true);
    expect(report.breaking.map(({ recorded }) => recorded?.reason)).toEqual([
      "replaced by Order.failure; clients told in 2026-10",
    ]);
    expect(report.unmatched.map((entry) => entry.change)).toEqual([
      "FIELD_REMOVED Product.sku",
    ]);
  });

  it("refuses a changelog entry without a reason", () => {
    const path = join(scratch, "no-reason.yaml");
    writeFileSync(
      path,
      'unreleased:\n  - change: FIELD_REMOVED Order.failureCode\n    reason: ""\n',
    );
    expect(() => readChangelog(path)).toThrow(ChangelogError);
    expect(() => readChangelog(path)).toThrow(
      /FIELD_REMOVED Order\.failureCode\) needs a reason/,
    );
  });
});
