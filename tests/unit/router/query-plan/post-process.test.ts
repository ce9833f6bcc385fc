import { readFileSync } from "node:fs";
import {
  operationFromDocument,
  Supergraph,
} from "@apollo/federation-internals";
import { ApolloGateway } from "@apollo/gateway";
import { QueryPlanner, type QueryPlan } from "@apollo/query-planner";
import { GraphQLError, parse } from "graphql";
import { describe, expect, it } from "vitest";
import { thrownBy } from "../../../support/thrown.ts";
import {
  installPlanPostProcessing,
  postProcessPlan,
} from "../../../../router/query-plan/post-process.ts";

process.env.APOLLO_TELEMETRY_DISABLED = "true";

// The audit suite's own supergraph (tests/fixtures/federation-audit/README.md).
const sdl = readFileSync(
  new URL(
    "../../../fixtures/federation-audit/non-resolvable-interface-object.graphql",
    import.meta.url,
  ),
  "utf8",
);
const supergraph = Supergraph.build(sdl);
const planner = new QueryPlanner(supergraph);

function plan(query: string): { plan: QueryPlan; processed: () => QueryPlan } {
  const operation = operationFromDocument(supergraph.schema, parse(query), {
    validate: true,
  });
  const built = planner.buildQueryPlan(operation);
  return { plan: built, processed: () => postProcessPlan(built, operation) };
}

const failure = (run: () => unknown): GraphQLError =>
  thrownBy(GraphQLError, run, "expected a GraphQL error");

describe("postProcessPlan: root fields the planner dropped (audit non-resolvable-interface-object_1)", () => {
  it("refuses `{ a { field } }`, whose plan the planner leaves empty, with QUERY_PLAN_FAILED", () => {
    const { plan: built, processed } = plan("{ a { field } }");
    // What the planner alone answers: nothing to fetch, so `{ a: null }` and no error.
    expect(built.node).toBeUndefined();
    const error = failure(processed);
    expect(error.extensions).toEqual({ code: "QUERY_PLAN_FAILED", field: "a" });
    expect(error.message).toContain('"query.a"');
  });

  it("names the lost field under its alias when others are fetched", () => {
    const error = failure(plan("{ b { id } lost: a { field } }").processed);
    expect(error.extensions.field).toBe("lost");
  });

  it("passes plans that fetch every root field, and the audit's other cases of the suite", () => {
    for (const query of [
      "{ b { id field } }",
      "{ a { id } }",
      "{ product { id } }",
      "{ product { ... on Bread { id } } }",
      "{ __typename }",
      "{ first: b { id } second: b { field } }",
      "query ($on: Boolean!) { b @include(if: $on) { id } }",
      // A literal condition drops the field from the plan on purpose.
      "{ b { id } a @skip(if: true) { field } }",
    ]) {
      const { plan: built, processed } = plan(query);
      expect(processed(), query).toBe(built);
    }
  });

  it("is applied by the gateway's planner once installed", async () => {
    const gateway = new ApolloGateway({ supergraphSdl: sdl });
    installPlanPostProcessing(gateway);
    await gateway.load();
    try {
      const gatewayPlanner = (
        gateway as unknown as { queryPlanner: QueryPlanner }
      ).queryPlanner;
      const operation = operationFromDocument(
        supergraph.schema,
        parse("{ a { field } }"),
      );
      const error = failure(() => gatewayPlanner.buildQueryPlan(operation));
      expect(error.extensions.code).toBe("QUERY_PLAN_FAILED");
    } finally {
      await gateway.stop();
    }
  });
});
