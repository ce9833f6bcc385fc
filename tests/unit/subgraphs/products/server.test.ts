import { describe, expect, it } from "vitest";
import { demoProducts, demoUsers } from "../../../../platform/demo-data.ts";
import {
  createProductsSubgraph,
  productsModule,
  type ProductsOptions,
} from "../../../../subgraphs/products/server.ts";
import {
  asAdmin,
  asCustomer,
  subgraphForTests,
} from "../../../support/subgraph.ts";

const OPTIONS: ProductsOptions = {
  internalServiceSecret: "products-unit-test-secret",
  reservationTtlSeconds: 900,
  reservationSweepIntervalMs: 3_600_000,
};
const admin = asAdmin(demoUsers[0]!.id);
const ada = asCustomer(demoUsers[1]!.id);
const PRODUCT_FIELDS = "id sku name price currency inventory inStock";

describe("the products subgraph (createProductsSubgraph, in-process on PGlite)", () => {
  const products = subgraphForTests(productsModule(OPTIONS), (deps) =>
    createProductsSubgraph(deps, OPTIONS),
  );

  it("answers product(id) with its price as a Decimal string and inStock from the inventory", async () => {
    const first = demoProducts[0]!;
    const { data, errors } = await products.query(
      `query($id: ID!) { product(id: $id) { ${PRODUCT_FIELDS} } }`,
      { id: first.id },
    );
    expect(errors).toBeUndefined();
    expect(data.product).toEqual({
      id: first.id,
      sku: first.sku,
      name: first.name,
      price: (first.priceMinor / 100).toFixed(2),
      currency: "USD",
      inventory: first.inventory,
      inStock: first.inventory > 0,
    });
  });

  it("answers NOT_FOUND for an unknown product and BAD_USER_INPUT for a malformed id", async () => {
    const unknown = await products.query(
      '{ product(id: "00000000-0000-4000-8000-000000000000") { id } }',
    );
    expect(unknown.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    const malformed = await products.query(
      '{ product(id: "not-a-uuid") { id } }',
    );
    expect(malformed.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  });

  it("pages the catalogue in SKU order with a total, and searches names with LIKE wildcards taken literally", async () => {
    const skus = [...demoProducts].map((product) => product.sku).sort();
    const page1 = await products.query(
      "{ products(first: 3) { totalCount pageInfo { hasNextPage endCursor } edges { node { sku } } } }",
    );
    expect(page1.errors).toBeUndefined();
    expect(page1.data.products.totalCount).toBe(demoProducts.length);
    expect(
      page1.data.products.edges.map(
        (edge: { node: { sku: string } }) => edge.node.sku,
      ),
    ).toEqual(skus.slice(0, 3));
    expect(page1.data.products.pageInfo.hasNextPage).toBe(true);
    const page2 = await products.query(
      "query($after: String) { products(first: 3, after: $after) { edges { node { sku } } } }",
      { after: page1.data.products.pageInfo.endCursor },
    );
    expect(
      page2.data.products.edges.map(
        (edge: { node: { sku: string } }) => edge.node.sku,
      ),
    ).toEqual(skus.slice(3, 6));

    const lamp = await products.query(
      '{ products(first: 100, search: "lamp") { totalCount } }',
    );
    expect(lamp.data.products.totalCount).toBe(
      demoProducts.filter((product) => /lamp/i.test(product.name)).length,
    );
    const wildcard = await products.query(
      '{ products(first: 100, search: "%") { totalCount edges { node { sku } } } }',
    );
    expect(wildcard.data.products).toEqual({ totalCount: 0, edges: [] });
  });

  it("resolves Product entities for the router, null for an id it does not know", async () => {
    const { data, errors } = await products.query(
      "query($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { id sku } } }",
      {
        representations: [
          { __typename: "Product", id: demoProducts[1]!.id },
          { __typename: "Product", id: "00000000-0000-4000-8000-000000000000" },
          { __typename: "Product", id: demoProducts[0]!.id.toUpperCase() },
        ],
      },
    );
    expect(errors).toBeUndefined();
    expect(data._entities).toEqual([
      { id: demoProducts[1]!.id, sku: demoProducts[1]!.sku },
      null,
      { id: demoProducts[0]!.id, sku: demoProducts[0]!.sku },
    ]);
  });

  it("lets only an admin create and restock products, validating input", async () => {
    const create =
      "mutation($input: CreateProductInput!) { createProduct(input: $input) { id sku price inventory inStock } }";
    const input = {
      sku: "UNIT-1",
      name: "Unit Test Kettle",
      price: "12.50",
      inventory: 0,
    };
    expect(
      (await products.query(create, { input }, ada)).errors?.[0]?.extensions
        ?.code,
    ).toBe("FORBIDDEN");
    expect(
      (await products.query(create, { input }, null)).errors?.[0]?.extensions
        ?.code,
    ).toMatch(/^(UNAUTHENTICATED|FORBIDDEN)$/);
    expect(
      (
        await products.query(
          create,
          { input: { ...input, price: "-1.00" } },
          admin,
        )
      ).errors?.[0]?.extensions,
    ).toMatchObject({ code: "BAD_USER_INPUT", field: "input.price" });

    const created = await products.query(create, { input }, admin);
    expect(created.errors).toBeUndefined();
    expect(created.data.createProduct).toMatchObject({
      sku: "UNIT-1",
      price: "12.50",
      inventory: 0,
      inStock: false,
    });
    expect(
      (await products.query(create, { input }, admin)).errors?.[0]?.extensions,
    ).toMatchObject({ code: "BAD_USER_INPUT", field: "input.sku" });

    const restock =
      "mutation($id: ID!, $quantity: Int!) { restockProduct(id: $id, quantity: $quantity) { inventory inStock } }";
    const id = created.data.createProduct.id;
    expect(
      (await products.query(restock, { id, quantity: 5 }, ada)).errors?.[0]
        ?.extensions?.code,
    ).toBe("FORBIDDEN");
    expect(
      (await products.query(restock, { id, quantity: 0 }, admin)).errors?.[0]
        ?.extensions?.code,
    ).toBe("BAD_USER_INPUT");
    expect(
      (await products.query(restock, { id, quantity: 5 }, admin)).data
        .restockProduct,
    ).toEqual({ inventory: 5, inStock: true });
  });

  it("refuses a request that does not carry the router’s token", async () => {
    const response = await fetch(`${products.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ products(first: 1) { totalCount } }" }),
    });
    expect(response.status).toBe(401);
  });
});
