import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  composeFromConfig,
  readCompositionConfig,
} from "../../../scripts/composition.ts";

describe("composition", () => {
  it("composes the four subgraphs with no errors and no hints", () => {
    const outcome = composeFromConfig(readCompositionConfig("supergraph.yaml"));
    expect(outcome.ok ? outcome.hints : outcome.errors).toEqual([]);
    expect(outcome.ok).toBe(true);
  });

  it("matches the committed supergraph.graphql and schema/api.graphql", () => {
    const outcome = composeFromConfig(readCompositionConfig("supergraph.yaml"));
    if (!outcome.ok) throw new Error(outcome.errors.join("\n"));
    expect(readFileSync("supergraph.graphql", "utf8")).toBe(
      outcome.supergraphSdl.trimEnd() + "\n",
    );
    expect(readFileSync("schema/api.graphql", "utf8")).toBe(
      outcome.apiSdl.trimEnd() + "\n",
    );
  });

  it("fails on a broken schema with a message naming the subgraphs, the field and the file locations", () => {
    const outcome = composeFromConfig(
      readCompositionConfig(
        "tests/fixtures/broken-composition/supergraph.yaml",
      ),
    );
    expect(outcome.ok).toBe(false);
    const text = outcome.ok ? "" : outcome.errors.join("\n");
    expect(text).toMatch(/Product\.price/);
    expect(text).toMatch(/"catalogue"/);
    expect(text).toMatch(/"pricing"/);
    expect(text).toMatch(
      /tests\/fixtures\/broken-composition\/catalogue\.graphql:5:\d+/,
    );
    expect(text).toMatch(
      /tests\/fixtures\/broken-composition\/pricing\.graphql:5:\d+/,
    );
  });

  it("reports a syntax error with the subgraph name, file and line", () => {
    const config = readCompositionConfig(
      "tests/fixtures/broken-composition/supergraph.yaml",
    );
    const outcome = composeFromConfig({
      ...config,
      subgraphs: [
        {
          name: "broken",
          routingUrl: "http://localhost:1/graphql",
          schemaFile: "tests/fixtures/broken-composition/supergraph.yaml",
        },
      ],
    });
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? "" : outcome.errors[0]).toMatch(
      /^\[broken\] Syntax Error.*\n\s+at .*supergraph\.yaml:\d+:\d+/,
    );
  });
});
