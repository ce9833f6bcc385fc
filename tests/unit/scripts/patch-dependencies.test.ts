import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type QueryPlanSelectionNode } from "@apollo/query-planner";
import { describe, expect, it } from "vitest";
import {
  applyPatches,
  PATCHES,
  type Patch,
} from "../../../scripts/patch-dependencies.mjs";
import { auditPlanner, planFetches } from "../../support/query-plans.ts";
import { scratchDirPerTest } from "../../support/scratch.ts";

process.env.APOLLO_TELEMETRY_DISABLED = "true";

const projectDir = scratchDirPerTest("patch-deps-");

function fakeProject(version: string, text: string): string {
  const root = projectDir();
  const pkg = join(root, "node_modules", "@acme", "lib");
  mkdirSync(join(pkg, "dist"), { recursive: true });
  writeFileSync(join(pkg, "package.json"), JSON.stringify({ version }));
  writeFileSync(join(pkg, "dist", "x.js"), text);
  return root;
}

const patch: Patch = {
  id: "demo",
  pkg: "@acme/lib",
  version: "1.0.0",
  file: "dist/x.js",
  why: "demo",
  find: "return a;",
  replace: "return b; // switchyard patch demo (test)",
};

describe("patch-dependencies (applyPatches)", () => {
  it("applies once, then recognises its own mark", () => {
    const root = fakeProject("1.0.0", "function f() { return a; }\n");
    expect(applyPatches(root, [patch])).toEqual([
      "demo: applied to @acme/lib/dist/x.js (demo)",
    ]);
    expect(applyPatches(root, [patch])).toEqual([
      "demo: already applied to @acme/lib/dist/x.js",
    ]);
    expect(
      readFileSync(join(root, "node_modules/@acme/lib/dist/x.js"), "utf8"),
    ).toBe("function f() { return b; // switchyard patch demo (test) }\n");
  });

  it("fails loudly when the package version or the text it replaces changed", () => {
    expect(() =>
      applyPatches(fakeProject("1.0.1", "return a;"), [patch]),
    ).toThrow(/@acme\/lib is 1.0.1, the patch is for 1.0.0/);
    expect(() =>
      applyPatches(fakeProject("1.0.0", "return c;"), [patch]),
    ).toThrow(/missing from @acme\/lib\/dist\/x.js/);
    expect(() =>
      applyPatches(fakeProject("1.0.0", "return a; return a;"), [patch]),
    ).toThrow(/not unique in/);
  });

  it("has been applied to this checkout's node_modules (postinstall)", () => {
    const root = join(import.meta.dirname, "../../..");
    for (const line of applyPatches(root, PATCHES)) {
      expect(line).toMatch(/already applied/);
    }
  });
});

/** A plan's `requires` as `a { b c }` text. */
const printed = (selections: readonly QueryPlanSelectionNode[] = []): string =>
  selections
    .map((s) =>
      s.kind === "Field"
        ? s.name + (s.selections ? ` { ${printed(s.selections)} }` : "")
        : `... on ${s.typeCondition} { ${printed(s.selections)} }`,
    )
    .join(" ");

describe("patch resolvable-post-requires-key (audit keys-mashup_0)", () => {
  it("goes back to the @requires subgraph by its resolvable key, not a `resolvable: false` one", () => {
    const { plain } = auditPlanner("keys-mashup").plans(
      "{ b { id a { id name nameInB } } }",
    );
    const all = planFetches(plain).map(({ fetch }) => fetch);
    const last = all.at(-1);
    expect(last?.serviceName).toBe("b");
    expect(last?.operation).toContain("nameInB");
    // In b, A's keys are `compositeId { one two }` (not resolvable), ..., `id compositeId { two three }`
    // (resolvable): the representation must carry the latter, which the first fetch must provide.
    const inputs = printed(last?.requires);
    expect(inputs).toContain("compositeId { two three }");
    expect(inputs).toContain("id");
    expect(inputs).not.toContain("one");
    expect(all[0]?.operation).toContain("compositeId{two three}");
  });
});
