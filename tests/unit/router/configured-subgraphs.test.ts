import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  supergraphSubgraphs,
  unknownSubgraphs,
  warnUnknownSubgraphs,
} from "../../../router/configured-subgraphs.ts";
import { parseErrorPolicies } from "../../../router/error-policy/policy.ts";
import { parseHeaderRules } from "../../../router/headers/rules.ts";
import { memoryLogger } from "../../support/logger.ts";

describe("subgraph names in header rules and error policies", () => {
  const sdl = readFileSync("supergraph.graphql", "utf8");

  it("reads the subgraphs the supergraph declares", () => {
    expect([...supergraphSubgraphs(sdl)].sort()).toEqual([
      "notifications",
      "orders",
      "payments",
      "products",
      "users",
    ]);
  });

  it("names each configured subgraph the supergraph lacks, with the setting naming it", () => {
    expect(
      unknownSubgraphs(sdl, {
        "router.headers.subgraphs": ["users", "prodcts"],
        "router.subgraph_errors.subgraphs": ["inventory", "payments"],
      }),
    ).toEqual([
      "router.headers.subgraphs: prodcts",
      "router.subgraph_errors.subgraphs: inventory",
    ]);
  });

  it("warns once per supergraph load naming them, and stays quiet when all exist", () => {
    const { logger, lines } = memoryLogger("warn");
    warnUnknownSubgraphs(logger, sdl, {
      headers: parseHeaderRules({ response: { set_cookie_from: "user" } }),
      subgraphErrors: parseErrorPolicies({
        subgraphs: { payments: { mode: "mask" } },
      }),
    });
    expect(lines).toMatchObject([
      { unknown: ["router.headers.response.set_cookie_from: user"] },
    ]);
    warnUnknownSubgraphs(logger, sdl, {
      headers: parseHeaderRules({ subgraphs: { users: {} } }),
      subgraphErrors: parseErrorPolicies(undefined),
    });
    expect(lines).toHaveLength(1);
  });
});
