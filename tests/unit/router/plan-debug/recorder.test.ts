import { ApolloServer, HeaderMap } from "@apollo/server";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../../../../platform/principal.ts";
import { recordQueryPlan } from "../../../../router/plan-debug/plan.ts";
import {
  asksForPlanDebug,
  createPlanDebugPlugin,
  debugRecorder,
  isDebugging,
  type PlanDebugMode,
} from "../../../../router/plan-debug/recorder.ts";
import { createProgressiveOverride } from "../../../../router/progressive-override.ts";
import {
  overrideGateway,
  overrideSupergraph,
} from "../../../support/override-supergraph.ts";

interface Context {
  principal: Principal | null;
}

const ADMIN: Principal = { id: "u-admin", role: "ADMIN", scopes: ["admin"] };
const CUSTOMER: Principal = {
  id: "u-ada",
  role: "CUSTOMER",
  scopes: ["customer"],
};

const servers: ApolloServer<Context>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop()));
});

/** A gateway-backed server with the plan-debug plugin; another plugin records a section of its own. */
async function serverWith(mode: PlanDebugMode) {
  const { gateway } = overrideGateway(overrideSupergraph({ percent: 0 }), {
    experimental_didResolveQueryPlan: recordQueryPlan,
  });
  const override = createProgressiveOverride({
    settings: { labels: ["new-rating"], header: "x-o", headerLabels: [] },
  });
  override.install(gateway);
  const server = new ApolloServer<Context>({
    gateway: override.wrap(gateway),
    plugins: [
      createPlanDebugPlugin<Context>({ mode }),
      {
        async requestDidStart({ contextValue }) {
          debugRecorder(contextValue)?.record("cost", { estimated: 3 });
          debugRecorder(contextValue)?.append("headers", { a: 1 });
          debugRecorder(contextValue)?.append("headers", { b: 2 });
        },
      },
    ],
  });
  servers.push(server);
  await server.start();
  return async (
    principal: Principal | null,
    headers: ReadonlyArray<readonly [string, string]>,
  ) => {
    const contextValue: Context = { principal };
    const response = await server.executeOperation(
      {
        query: "{ product { price rating } }",
        http: {
          method: "POST",
          headers: new HeaderMap(headers.map(([name, value]) => [name, value])),
          search: "",
          body: {},
        },
      },
      { contextValue },
    );
    if (response.body.kind !== "single") throw new Error("not single");
    return response.body.singleResult;
  };
}

describe("the plan-debug recorder", () => {
  it("reads the header's list", () => {
    expect(asksForPlanDebug("plan")).toBe(true);
    expect(asksForPlanDebug("timings, PLAN")).toBe(true);
    expect(asksForPlanDebug("planned")).toBe(false);
    expect(asksForPlanDebug(undefined)).toBe(false);
  });

  it("is a no-op outside a debugged request", () => {
    expect(debugRecorder({})).toBeUndefined();
    expect(debugRecorder(undefined)).toBeUndefined();
    expect(isDebugging({})).toBe(false);
  });

  it("gives an admin who asks the plan, the labels and what other modules recorded", async () => {
    const ask = await serverWith("admin");
    const result = await ask(ADMIN, [["x-switchyard-debug", "plan"]]);
    expect(result.data).toEqual({
      product: { price: "legacy", rating: "modern" },
    });
    const debug = result.extensions?.planDebug as Record<string, unknown>;
    expect((debug.plan as { text: string }).text).toContain(
      'Fetch(service: "modern")',
    );
    expect(debug.overrideLabels).toEqual({
      known: ["new-rating", "percent(0)"],
      on: ["new-rating"],
    });
    expect(debug.cost).toEqual({ estimated: 3 });
    expect(debug.headers).toEqual([{ a: 1 }, { b: 2 }]);
    expect(debug.totalMs).toEqual(expect.any(Number));
  });

  it("gives a customer with the header, an admin without it, and anyone when off nothing extra", async () => {
    const ask = await serverWith("admin");
    for (const [principal, headers] of [
      [CUSTOMER, [["x-switchyard-debug", "plan"]]],
      [null, [["x-switchyard-debug", "plan"]]],
      [ADMIN, []],
    ] as const) {
      const result = await ask(principal, headers);
      expect(result.extensions).toBeUndefined();
    }
    const off = await serverWith("off");
    expect(
      (await off(ADMIN, [["x-switchyard-debug", "plan"]])).extensions,
    ).toBeUndefined();
  });
});

describe("sections other modules keep on the request", () => {
  it("are read when the response is ready, and an empty or missing one is left out", async () => {
    const server = new ApolloServer<Context>({
      typeDefs: "type Query { hello: String }",
      resolvers: { Query: { hello: () => "hi" } },
      plugins: [
        createPlanDebugPlugin<Context>({
          mode: "admin",
          collect: () => ({
            cost: { estimated: 3, actual: 1 },
            headers: [],
            maskedErrors: undefined,
          }),
        }),
      ],
    });
    servers.push(server);
    const response = await server.executeOperation(
      {
        query: "{ hello }",
        http: {
          method: "POST",
          headers: new HeaderMap([["x-switchyard-debug", "plan"]]),
          search: "",
          body: {},
        },
      },
      { contextValue: { principal: ADMIN } },
    );
    if (response.body.kind !== "single") throw new Error("single result");
    const debug = response.body.singleResult.extensions?.planDebug as Record<
      string,
      unknown
    >;
    expect(debug.cost).toEqual({ estimated: 3, actual: 1 });
    expect(debug).not.toHaveProperty("headers");
    expect(debug).not.toHaveProperty("maskedErrors");
  });
});
