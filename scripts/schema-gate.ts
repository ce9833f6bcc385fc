/**
 * The breaking-change gate: compares the API schema clients see with the last released one (the
 * committed baseline) using graphql-inspector. A breaking change passes only when the schema
 * changelog records it with a reason; dangerous changes are reported; safe ones are counted.
 */
import { readFileSync } from "node:fs";
import { CriticalityLevel, diff, type Change } from "@graphql-inspector/core";
import { buildSchema } from "graphql";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";

/** One breaking change a team decided to ship anyway. */
export interface ChangelogEntry {
  /** `<TYPE> <path>` as the gate prints it, e.g. `FIELD_REMOVED Order.failureCode`. */
  change: string;
  /** Why it is acceptable (who was told, what replaces it). Required, non-empty. */
  reason: string;
}

export interface Changelog {
  /** Breaking changes since the baseline; `schema:release` moves them to `released`. */
  unreleased: ChangelogEntry[];
  released: Array<{ date: string; changes: ChangelogEntry[] }>;
}

/** The changelog file is malformed: the gate cannot decide, so it exits 2, not 1. */
export class ChangelogError extends Error {
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "ChangelogError";
  }
}

export function readChangelog(path: string): Changelog {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, "utf8")) ?? {};
  } catch (error) {
    throw new ChangelogError(
      path,
      `not readable YAML (${(error as Error).message})`,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ChangelogError(
      path,
      "expected a map with `unreleased` and `released`",
    );
  const { unreleased = [], released = [] } = raw as Record<string, unknown>;
  const entries = (value: unknown, where: string): ChangelogEntry[] => {
    if (!Array.isArray(value))
      throw new ChangelogError(path, `${where} must be a list`);
    return value.map((entry: unknown, index) => {
      const { change, reason } = (entry ?? {}) as Record<string, unknown>;
      if (typeof change !== "string" || !/^[A-Z_]+ \S+$/.test(change))
        throw new ChangelogError(
          path,
          `${where}[${index}].change must be "<TYPE> <path>" as schema:check prints it`,
        );
      if (typeof reason !== "string" || reason.trim() === "")
        throw new ChangelogError(
          path,
          `${where}[${index}] (${change}) needs a reason`,
        );
      return { change, reason: reason.trim() };
    });
  };
  if (!Array.isArray(released))
    throw new ChangelogError(path, "`released` must be a list");
  return {
    unreleased: entries(unreleased, "unreleased"),
    released: released.map((release: unknown, index) => {
      const { date, changes } = (release ?? {}) as Record<string, unknown>;
      if (typeof date !== "string")
        throw new ChangelogError(
          path,
          `released[${index}].date must be a date`,
        );
      return { date, changes: entries(changes, `released[${index}].changes`) };
    }),
  };
}

export function printChangelog(changelog: Changelog): string {
  return `${CHANGELOG_HEADER}\n${stringifyYaml(changelog, { lineWidth: 0 })}`;
}

const CHANGELOG_HEADER = `# Breaking changes to the API schema (schema/api.graphql), each with a reason.
# \`npm run schema:check\` fails on a breaking change against schema/baseline/api.graphql unless it
# is listed under \`unreleased\` as {change: "<TYPE> <path>" as printed by the check, reason}.
# \`npm run schema:release\` promotes the current schema to the baseline and moves these entries
# under \`released\` with the date. See docs/clients.md.`;

/** Stable id of a change, as the changelog records it. */
export function changeId(change: Change): string {
  return `${change.type} ${change.path ?? "(schema)"}`;
}

export interface GateReport {
  ok: boolean;
  breaking: Array<{ change: Change; recorded: ChangelogEntry | undefined }>;
  dangerous: Change[];
  safe: Change[];
  /** Changelog entries that match no change in the diff (already released, or a typo). */
  unmatched: ChangelogEntry[];
}

export async function checkSchema({
  baselineSdl,
  currentSdl,
  changelog,
}: {
  baselineSdl: string;
  currentSdl: string;
  changelog: Changelog;
}): Promise<GateReport> {
  const changes = await diff(buildSchema(baselineSdl), buildSchema(currentSdl));
  const recorded = new Map(
    changelog.unreleased.map((entry) => [entry.change, entry]),
  );
  const breaking = changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
    .map((change) => ({ change, recorded: recorded.get(changeId(change)) }));
  const ids = new Set(changes.map(changeId));
  return {
    ok: breaking.every((entry) => entry.recorded !== undefined),
    breaking,
    dangerous: changes.filter(
      (change) => change.criticality.level === CriticalityLevel.Dangerous,
    ),
    safe: changes.filter(
      (change) => change.criticality.level === CriticalityLevel.NonBreaking,
    ),
    unmatched: changelog.unreleased.filter((entry) => !ids.has(entry.change)),
  };
}

/**
 * Human-readable report lines for one schema pair; `changelogPath` is named in the fix-it hint.
 * Unmatched changelog entries are the caller's to report (an entry may match another pair).
 */
export function formatReport(
  report: GateReport,
  {
    changelogPath,
    baselinePath,
  }: { changelogPath: string; baselinePath: string },
): string[] {
  const lines: string[] = [];
  const unrecorded = report.breaking.filter((entry) => !entry.recorded);
  for (const { change, recorded } of report.breaking) {
    lines.push(
      `${recorded ? "BREAKING (recorded)" : "BREAKING"}  ${changeId(change)}  ${change.message}${recorded ? `\n    reason: ${recorded.reason}` : ""}`,
    );
  }
  for (const change of report.dangerous)
    lines.push(
      `DANGEROUS  ${changeId(change)}  ${change.message}${change.criticality.reason ? `\n    ${change.criticality.reason}` : ""}`,
    );
  lines.push(
    `${report.breaking.length} breaking (${unrecorded.length} unrecorded), ${report.dangerous.length} dangerous, ${report.safe.length} safe change(s) against ${baselinePath}.`,
  );
  if (unrecorded.length > 0) {
    lines.push(
      `Schema check FAILED. Restore compatibility, or record each breaking change with a reason in ${changelogPath}:`,
    );
    lines.push("unreleased:");
    for (const { change } of unrecorded)
      lines.push(
        `  - change: ${changeId(change)}\n    reason: <why clients can take this>`,
      );
  } else lines.push("Schema check passed.");
  return lines;
}
