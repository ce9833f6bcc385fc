import { buildSchema, parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import {
  createOperationLimitsPlugin,
  operationShape,
} from "../../../router/operation-limits-plugin.ts";

// The shape of the public API's paginated fields: `first` defaults to 20, as in the supergraph.
const schema = buildSchema(`
  type Product { name: String, price: String }
  type ProductEdge { node: Product }
  type ProductConnection { edges: [ProductEdge], totalCount: Int }
  type Order { id: ID, user: User }
  type OrderEdge { node: Order }
  type OrderConnection { edges: [OrderEdge], totalCount: Int }
  type User { id: ID, orders(first: Int = 20): OrderConnection }
  type Query { products(first: Int = 20): ProductConnection, me: User }
`);
const limits = {
  maxDepth: 12,
  maxAliases: 30,
  maxRootFields: 20,
  maxCost: 2000,
  maxPageSize: 1000,
};

async function check(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  const hooks = await createOperationLimitsPlugin(limits).requestDidStart!(
    {} as never,
  );
  const operation = document.definitions[0] as OperationDefinitionNode;
  return hooks!.didResolveOperation!({
    operation,
    document,
    schema,
    request: { variables },
  } as never);
}

const refusedForCost = {
  extensions: { code: "QUERY_TOO_COMPLEX", limit: "cost" },
};
const PRODUCTS = "edges { node { name price } }";
const NESTED =
  "me { orders(first: $f) { edges { node { user { orders(first: $f) { edges { node { id } } } } } } } }";

describe("the cost limit measures page sizes as execution will see them", () => {
  it("refuses a page size given as a variable default exactly like the same literal", async () => {
    const literal = check(`{ products(first: 1000) { ${PRODUCTS} } }`);
    const viaDefault = check(
      `query($f: Int = 1000) { products(first: $f) { ${PRODUCTS} } }`,
    );
    await expect(literal).rejects.toMatchObject({
      ...refusedForCost,
      extensions: { ...refusedForCost.extensions, actual: 4001 },
    });
    await expect(viaDefault).rejects.toMatchObject({
      ...refusedForCost,
      extensions: { ...refusedForCost.extensions, actual: 4001 },
    });
  });

  it("multiplies nested lists sized by a variable default (me.orders … user.orders grows with the square)", async () => {
    await expect(
      check(`query($f: Int = 50) { ${NESTED} }`),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      check(`query($f: Int = 2) { ${NESTED} }`),
    ).resolves.toBeUndefined();
  });

  it("still measures a variable passed explicitly, over its default", async () => {
    await expect(
      check(`query($f: Int = 1) { ${NESTED} }`, { f: 50 }),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      check(`query($f: Int = 50) { ${NESTED} }`, { f: 2 }),
    ).resolves.toBeUndefined();
  });

  it("uses the field default when the variable has no value and no default", async () => {
    // 20 × 20 nested: 2 + 4·20 + 3·400 = 1282, under 2000.
    await expect(
      check(`query($f: Int) { ${NESTED} }`),
    ).resolves.toBeUndefined();
  });

  it("assumes the maximum page size where the size is unknown: an explicit null, or variables that do not coerce", async () => {
    await expect(
      check(`query($f: Int) { products(first: $f) { ${PRODUCTS} } }`, {
        f: null,
      }),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      check(`{ products(first: null) { ${PRODUCTS} } }`),
    ).rejects.toMatchObject(refusedForCost);
    await expect(
      check(`query($f: Int) { products(first: $f) { ${PRODUCTS} } }`, {
        f: "1000",
      }),
    ).rejects.toMatchObject(refusedForCost);
  });
});

// The operation shape and the depth, alias and root-field limits, on a schema of its own.
const shapeSchema = buildSchema(`
  type Product { name: String, related(first: Int = 5): [Product] }
  type Query { products(first: Int = 20): [Product], product: Product }
`);
const shapeLimits = {
  maxDepth: 12,
  maxAliases: 30,
  maxRootFields: 20,
  maxCost: 1000,
};

async function checkShape(
  query: ReturnType<typeof parse>,
  variables: Record<string, unknown> = {},
) {
  const hooks = await createOperationLimitsPlugin(shapeLimits).requestDidStart!(
    {} as never,
  );
  const operation = query.definitions[0] as OperationDefinitionNode;
  return hooks!.didResolveOperation!({
    operation,
    document: query,
    schema: shapeSchema,
    request: { variables },
  } as never);
}

describe("the operation shape the router plugins share", () => {
  it("is computed once per parsed document and operation", () => {
    const document = parse(
      "query A { products { name } product { name } } query B { product { name } }",
    );
    const [a, b] = document.definitions as OperationDefinitionNode[];
    expect(operationShape(document, a!)).toBe(operationShape(document, a!));
    expect(operationShape(document, a!).rootFields).toEqual([
      "products",
      "product",
    ]);
    expect(operationShape(document, b!).rootFields).toEqual(["product"]);
  });

  it("never reuses a cost that depends on variables: the same document passes or fails by its `first`", async () => {
    const document = parse(
      "query($n: Int) { products(first: $n) { name related { name } } }",
    );
    await expect(checkShape(document, { n: 10 })).resolves.toBeUndefined();
    await expect(checkShape(document, { n: 500 })).rejects.toMatchObject({
      extensions: { code: "QUERY_TOO_COMPLEX", limit: "cost" },
    });
    await expect(checkShape(document, { n: 10 })).resolves.toBeUndefined();
  });

  it("reuses a variable-free measurement, with the same verdict every time", async () => {
    const heavy = parse("{ products(first: 500) { name related { name } } }");
    for (let attempt = 0; attempt < 3; attempt += 1)
      await expect(checkShape(heavy)).rejects.toMatchObject({
        extensions: { code: "QUERY_TOO_COMPLEX" },
      });
    expect(
      operationShape(heavy, heavy.definitions[0] as OperationDefinitionNode)
        .measured?.measure.cost,
    ).toBeGreaterThan(1000);
  });
});
