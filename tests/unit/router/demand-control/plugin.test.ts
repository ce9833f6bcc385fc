import { buildSchema, parse, type OperationDefinitionNode } from "graphql";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import {
  costFiguresOf,
  createDemandControl,
  type DemandControlSettings,
} from "../../../../router/demand-control/plugin.ts";

// The shape of the public API's paginated fields: `first` defaults to 20, as in the supergraph.
const SDL = `
  type Product { name: String, price: String }
  type ProductEdge { node: Product }
  type ProductConnection { edges: [ProductEdge], totalCount: Int }
  type Order { id: ID, user: User }
  type OrderEdge { node: Order }
  type OrderConnection { edges: [OrderEdge], totalCount: Int }
  type User { id: ID, orders(first: Int = 20): OrderConnection }
  type Query { products(first: Int = 20): ProductConnection, me: User }
`;
const schema = buildSchema(SDL);
const enforce: DemandControlSettings = {
  mode: "enforce",
  maxCost: 1000,
  defaultListSize: 10,
  maxPageSize: 1000,
};

async function run(
  query: string,
  {
    variables = {},
    settings = enforce,
    extensions,
    data,
    registry,
  }: {
    variables?: Record<string, unknown>;
    settings?: DemandControlSettings;
    extensions?: Record<string, unknown>;
    data?: Record<string, unknown>;
    registry?: Registry;
  } = {},
) {
  const control = createDemandControl({ settings, registry });
  control.useSupergraph(SDL);
  const document = parse(query);
  const operation = document.definitions[0] as OperationDefinitionNode;
  const contextValue = {};
  const request = { variables, extensions };
  const hooks = await control.plugin.requestDidStart!({} as never);
  const requestContext = {
    operation,
    document,
    schema,
    request,
    contextValue,
    response: {
      body: { kind: "single", singleResult: { data } },
    },
  };
  await hooks!.didResolveOperation!(requestContext as never);
  await hooks!.willSendResponse!(requestContext as never);
  return {
    figures: costFiguresOf(contextValue),
    body: requestContext.response.body,
  };
}

const refusedForCost = {
  extensions: { code: "QUERY_TOO_COMPLEX", limit: "cost" },
};
const PRODUCTS = "edges { node { name price } }";
const NESTED =
  "me { orders(first: $f) { edges { node { user { orders(first: $f) { edges { node { id } } } } } } } }";

describe("demand control measures page sizes as execution will see them (the variable-default bypass stays closed)", () => {
  it("refuses a page size given as a variable default exactly like the same literal", async () => {
    // products 1 + 1000 × (edge 1 + node 1) = 2001.
    const literal = run(`{ products(first: 1000) { ${PRODUCTS} } }`);
    const viaDefault = run(
      `query($f: Int = 1000) { products(first: $f) { ${PRODUCTS} } }`,
    );
    const refused = {
      extensions: { ...refusedForCost.extensions, actual: 2001, max: 1000 },
    };
    await expect(literal).rejects.toMatchObject(refused);
    await expect(viaDefault).rejects.toMatchObject(refused);
  });

  it("multiplies nested lists sized by a variable default (me.orders … user.orders grows with the square)", async () => {
    await expect(
      run(`query($f: Int = 50) { ${NESTED} }`),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      run(`query($f: Int = 2) { ${NESTED} }`),
    ).resolves.toBeDefined();
  });

  it("still measures a variable passed explicitly, over its default", async () => {
    await expect(
      run(`query($f: Int = 1) { ${NESTED} }`, { variables: { f: 50 } }),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      run(`query($f: Int = 50) { ${NESTED} }`, { variables: { f: 2 } }),
    ).resolves.toBeDefined();
  });

  it("uses the field default when the variable has no value and no default", async () => {
    // me 1 + orders 1 + 20 × (edge 1 + node 1 + user 1 + orders 1 + 20 × 2) = 882.
    const { figures } = await run(`query($f: Int) { ${NESTED} }`);
    expect(figures?.estimated).toBe(882);
  });

  it("assumes the maximum page size where the size is unknown: an explicit null, or variables that do not coerce", async () => {
    await expect(
      run(`query($f: Int) { products(first: $f) { ${PRODUCTS} } }`, {
        variables: { f: null },
      }),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      run(`{ products(first: null) { ${PRODUCTS} } }`),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      run(`query($f: Int) { products(first: $f) { ${PRODUCTS} } }`, {
        variables: { f: "1000" },
      }),
    ).rejects.toMatchObject(refusedForCost);
  });
});

describe("demand control modes and figures", () => {
  const heavy = `{ products(first: 1000) { ${PRODUCTS} } }`;

  it("measure mode lets an over-limit operation run and records it", async () => {
    const registry = new Registry();
    const { figures } = await run(heavy, {
      settings: { ...enforce, mode: "measure" },
      registry,
    });
    expect(figures).toMatchObject({
      mode: "measure",
      estimated: 2001,
      result: "COST_ESTIMATED_TOO_EXPENSIVE",
    });
    const text = await registry.metrics();
    expect(text).toContain(
      'router_demand_control_operations_total{mode="measure",result="COST_ESTIMATED_TOO_EXPENSIVE"} 1',
    );
    expect(text).toContain('router_operation_cost_count{stage="estimated"} 1');
  });

  it("computes the actual cost from the response and adds the figures to extensions only when asked", async () => {
    const query = `{ products(first: 10) { ${PRODUCTS} } }`;
    const data = {
      products: {
        edges: [{ node: { name: "a", price: "1" } }, { node: null }],
      },
    };
    const silent = await run(query, { data });
    expect(silent.figures).toMatchObject({ estimated: 21, actual: 5 });
    expect(silent.body).toEqual({ kind: "single", singleResult: { data } });
    const asked = await run(query, { data, extensions: { cost: true } });
    expect(asked.body).toMatchObject({
      singleResult: {
        data,
        extensions: {
          cost: {
            mode: "enforce",
            max: 1000,
            estimated: 21,
            actual: 5,
            result: "COST_OK",
          },
        },
      },
    });
  });
});
