/**
 * supergraph.yaml's `federation_version` (scripts/composition.ts): the versions this composition
 * can stand for are accepted, the others refused with the file and a way out, and a pinned version
 * holds the subgraphs to the federation spec it knows.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  composeFromConfig,
  LIBRARY_FEDERATION,
  parseFederationVersion,
  readCompositionConfig,
} from "../../../scripts/composition.ts";
import { REPO_ROOT } from "../../support/process.ts";
import { scratchDir } from "../../support/scratch.ts";

const dir = scratchDir("federation-version-");

/** The repository's supergraph.yaml with another federation_version and absolute schema paths. */
function configWith(version: string | undefined): string {
  const original = readFileSync(
    join(REPO_ROOT, "supergraph.yaml"),
    "utf8",
  ).replace(/file: \.\//g, `file: ${REPO_ROOT}/`);
  const text =
    version === undefined
      ? original.replace(/^federation_version:.*\n/m, "")
      : original.replace(
          /^federation_version:.*$/m,
          `federation_version: ${JSON.stringify(version)}`,
        );
  const path = join(
    dir,
    `supergraph-${Math.random().toString(36).slice(2)}.yaml`,
  );
  writeFileSync(path, text);
  return path;
}

describe("federation_version", () => {
  it("accepts Federation 2 pinned up to the library’s newest spec, or unpinned (the newest)", () => {
    expect(LIBRARY_FEDERATION.major).toBe(2);
    expect(parseFederationVersion("=2.9.3", "x")).toBe(9);
    expect(parseFederationVersion("=2.9", "x")).toBe(9);
    expect(
      parseFederationVersion(`=2.${LIBRARY_FEDERATION.minor}.0`, "x"),
    ).toBe(LIBRARY_FEDERATION.minor);
    for (const latest of ["=2", "2"])
      expect(parseFederationVersion(latest, "x")).toBe(
        LIBRARY_FEDERATION.minor,
      );
    expect(readCompositionConfig(configWith(undefined))).toMatchObject({
      federationVersion: "=2",
      maxFederationMinor: LIBRARY_FEDERATION.minor,
    });
  });

  it("refuses Federation 1, a version newer than this composition, and anything that is not a version, naming the file", () => {
    const federation1 = configWith("=1.1.0");
    expect(() => readCompositionConfig(federation1)).toThrow(
      `${federation1}: federation_version =1.1.0 is not composed here: Switchyard composes Federation 2 only`,
    );
    expect(() =>
      readCompositionConfig(configWith(`=2.${LIBRARY_FEDERATION.minor + 1}.0`)),
    ).toThrow(/is newer than this composition .*upgrade @apollo\/composition/);
    expect(() => readCompositionConfig(configWith("latest"))).toThrow(
      /federation_version "latest" is not a version/,
    );
  });

  it("composes at a pinned version: a subgraph linking a newer federation spec fails, naming the subgraph and the line", () => {
    const atNine = composeFromConfig(
      readCompositionConfig(configWith("=2.9.3")),
    );
    expect(atNine.ok).toBe(true);
    const outcome = composeFromConfig(
      readCompositionConfig(configWith("=2.8.0")),
    );
    expect(outcome.ok).toBe(false);
    const errors = outcome.ok ? [] : outcome.errors;
    expect(errors.length).toBe(5);
    expect(errors[0]).toMatch(
      /^\[users\] links federation v2\.9, newer than federation_version =2\.8\.0 allows \(up to v2\.8\)\n {4}at subgraphs\/users\/schema\.graphql:1:\d+/,
    );
  });
});
