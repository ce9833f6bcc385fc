import { composeServices } from "@apollo/composition";
import { ApolloGateway, LocalGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withPlanExecutor } from "../../../../router/executor/index.ts";
import { installPlanPostProcessing } from "../../../../router/query-plan/post-process.ts";
import { requiresConflictsOf } from "../../../../router/query-plan/requires-conflicts.ts";
import {
  auditPlanner,
  expectPlansUnchanged,
  planFetches as all,
} from "../../../support/query-plans.ts";
import { silentLogger } from "../../../support/stack.ts";

process.env.APOLLO_TELEMETRY_DISABLED = "true";

// federation-gateway-audit requires-with-argument-conflict: in `a`, `shippingEstimate` @requires
// `price(currency: "USD") weight` and `shippingEstimateEUR` @requires `price(currency: "EUR")
// weight`; `price` lives in `b`, which doubles it in EUR.
const A = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
  type Product @key(fields: "upc") {
    upc: String!
    weight: Int @external
    price(currency: String!): Int @external
    shippingEstimate: Int @requires(fields: "price(currency: \\"USD\\") weight")
    shippingEstimateEUR: Int @requires(fields: "price(currency: \\"EUR\\") weight")
    category: Category @external
    isExpensiveCategory: Boolean @requires(fields: "category { averagePrice(currency: \\"USD\\") }")
  }
  type Category @external { averagePrice(currency: String!): Int }
`;

const B = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { products: [Product] }
  type Product @key(fields: "upc") {
    upc: String!
    name: String
    price(currency: String!): Int
    weight: Int
    category: Category
  }
  type Category { averagePrice(currency: String!): Int }
`;

const PRODUCTS = [
  {
    upc: "p1",
    name: "p-name-1",
    price: 11,
    weight: 1,
    category: { averagePrice: 11 },
  },
  {
    upc: "p2",
    name: "p-name-2",
    price: 22,
    weight: 2,
    category: { averagePrice: 22 },
  },
];

interface Representation {
  upc: string;
  price?: number;
  weight?: number;
  category?: { averagePrice: number };
}

const aSchema = buildSubgraphSchema({
  typeDefs: parse(A),
  resolvers: {
    Product: {
      __resolveReference: (ref: Representation) => ref,
      shippingEstimate: (p: Representation) => p.price! * p.weight! * 10,
      shippingEstimateEUR: (p: Representation) => p.price! * p.weight! * 10,
      isExpensiveCategory: (p: Representation) => p.category!.averagePrice > 11,
    },
  },
});

const bSchema = buildSubgraphSchema({
  typeDefs: parse(B),
  resolvers: {
    Query: { products: () => PRODUCTS },
    Product: {
      __resolveReference: (ref: { upc: string }) =>
        PRODUCTS.find((p) => p.upc === ref.upc),
      price: (p: { price: number }, { currency }: { currency: string }) =>
        currency === "EUR" ? p.price * 2 : p.price,
    },
  },
});

const QUERY =
  "{ products { upc name shippingEstimate shippingEstimateEUR isExpensiveCategory } }";

// The audit's expected answer.
const EXPECTED = {
  products: [
    {
      upc: "p1",
      name: "p-name-1",
      shippingEstimate: 110,
      shippingEstimateEUR: 220,
      isExpensiveCategory: false,
    },
    {
      upc: "p2",
      name: "p-name-2",
      shippingEstimate: 440,
      shippingEstimateEUR: 880,
      isExpensiveCategory: true,
    },
  ],
};

describe("fields of one subgraph that @require one field with different arguments (audit requires-with-argument-conflict_0)", () => {
  // The audit suite's own supergraph (tests/fixtures/federation-audit/README.md).
  const { sdl, plans } = auditPlanner("requires-with-argument-conflict");

  it("reads the clashing variants from the supergraph", () => {
    const product = requiresConflictsOf(sdl).get("a")?.get("Product");
    expect(
      [...product!].map(([field, required]) => [
        field,
        required.get("price")?.key,
      ]),
    ).toEqual([
      ["shippingEstimate", 'currency:"USD"'],
      ["shippingEstimateEUR", 'currency:"EUR"'],
    ]);
  });

  it("fetches every variant and sends each to its own entity fetch", () => {
    const { plain, fixed } = plans(QUERY);
    // The planner alone: one `price`, one entity fetch for both estimates.
    expect(all(plain).filter((f) => f.fetch.serviceName === "a")).toHaveLength(
      1,
    );

    const products = all(fixed).find((f) => f.fetch.serviceName === "b")!;
    expect(products.fetch.operation).toContain(
      'price__sy_requires_Product_currency_USD_:price(currency:"USD")',
    );
    expect(products.fetch.operation).toContain(
      'price__sy_requires_Product_currency_EUR_:price(currency:"EUR")',
    );
    const entities = all(fixed).filter((f) => f.fetch.serviceName === "a");
    expect(entities.map((f) => [f.path, f.fetch.operation])).toEqual([
      [
        "products.@",
        "query($representations:[_Any!]!){_entities(representations:$representations){...on Product{shippingEstimate isExpensiveCategory}}}",
      ],
      [
        "products.@",
        "query($representations:[_Any!]!){_entities(representations:$representations){...on Product{shippingEstimateEUR}}}",
      ],
    ]);
    // Each reads its variant and sends it as `price`.
    expect(entities.map((f) => f.fetch.inputRewrites)).toEqual(
      ["USD", "EUR"].map((currency) => [
        {
          kind: "KeyRenamer",
          path: [
            "... on Product",
            `price__sy_requires_Product_currency_${currency}_`,
          ],
          renameKeyTo: "price",
        },
      ]),
    );
  });

  it("leaves plans alone when one variant is asked", () => {
    expectPlansUnchanged(plans, [
      "{ products { upc shippingEstimate isExpensiveCategory } }",
      "{ products { upc shippingEstimateEUR } }",
      '{ products { name price(currency: "EUR") } }',
    ]);
  });
});

describe("requires-with-argument-conflict_0, executed", () => {
  let servers: ApolloServer[];

  beforeAll(async () => {
    const composed = composeServices([
      { name: "a", typeDefs: parse(A), url: "http://a" },
      { name: "b", typeDefs: parse(B), url: "http://b" },
    ]);
    if (!composed.supergraphSdl) {
      throw new Error(composed.errors?.map((e) => e.message).join("\n"));
    }
    const newGateway = () => {
      const gateway = new ApolloGateway({
        supergraphSdl: composed.supergraphSdl,
        logger: silentLogger,
        buildService: ({ name }) =>
          new LocalGraphQLDataSource(name === "a" ? aSchema : bSchema),
      });
      installPlanPostProcessing(gateway);
      return gateway;
    };
    servers = [
      new ApolloServer({ gateway: newGateway() }),
      new ApolloServer({
        gateway: withPlanExecutor(newGateway(), { logger: silentLogger })
          .gateway,
      }),
    ];
    await Promise.all(servers.map((server) => server.start()));
  });
  afterAll(async () => {
    await Promise.all(servers?.map((server) => server.stop()) ?? []);
  });

  it.each([
    ["gateway", 0],
    ["switchyard", 1],
  ])(
    "computes each estimate from its own currency (%s executor)",
    async (_name, index) => {
      const response = await servers[index]!.executeOperation({
        query: QUERY,
      });
      if (response.body.kind !== "single") throw new Error("not single");
      expect(response.body.singleResult).toEqual({ data: EXPECTED });
    },
  );
});
