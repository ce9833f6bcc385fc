import { composeServices } from "@apollo/composition";
import { ApolloGateway, LocalGraphQLDataSource } from "@apollo/gateway";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { parse, type GraphQLSchema } from "graphql";

/**
 * A two-subgraph supergraph where fields move from `legacy` to `modern` behind override labels:
 * `Product.price` and `Product.stock` share one `percent(N)` label (a request must see both from the
 * same subgraph), `Product.rating` moves behind the custom label `new-rating`. Each resolver answers
 * with its subgraph's name, so a response says which subgraph served each field.
 */
export function overrideSupergraph({
  percent,
  labelled = true,
  urls = {
    legacy: "http://legacy.invalid/graphql",
    modern: "http://modern.invalid/graphql",
  },
}: {
  percent: number;
  /** false: the same overrides without labels (the modern subgraph always serves them). @default true */
  labelled?: boolean;
  /** Routing URLs written into the supergraph (for a router that fetches over HTTP). */
  urls?: { legacy: string; modern: string };
}): {
  supergraphSdl: string;
  schemas: ReadonlyMap<string, GraphQLSchema>;
} {
  const label = `percent(${percent})`;
  const legacy = {
    name: "legacy",
    url: urls.legacy,
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type Query { product: Product }
      type Product @key(fields: "id") {
        id: ID!
        name: String!
        price: String!
        stock: String!
        rating: String!
      }
    `),
    resolvers: {
      Query: { product: () => ({ id: "p1" }) },
      Product: {
        __resolveReference: (reference: { id: string }) => reference,
        name: () => "legacy",
        price: () => "legacy",
        stock: () => "legacy",
        rating: () => "legacy",
      },
    },
  };
  const modern = {
    name: "modern",
    url: urls.modern,
    typeDefs: parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@override"])
      type Product @key(fields: "id") {
        id: ID!
        price: String! @override(from: "legacy"${labelled ? `, label: "${label}"` : ""})
        stock: String! @override(from: "legacy"${labelled ? `, label: "${label}"` : ""})
        rating: String! @override(from: "legacy"${labelled ? ', label: "new-rating"' : ""})
      }
    `),
    resolvers: {
      Product: {
        __resolveReference: (reference: { id: string }) => reference,
        price: () => "modern",
        stock: () => "modern",
        rating: () => "modern",
      },
    },
  };
  const composed = composeServices(
    [legacy, modern].map(({ name, url, typeDefs }) => ({
      name,
      url,
      typeDefs,
    })),
  );
  if (composed.errors || !composed.supergraphSdl)
    throw new Error(
      `fixture does not compose: ${composed.errors?.map((error) => error.message).join("; ")}`,
    );
  return {
    supergraphSdl: composed.supergraphSdl,
    schemas: new Map(
      [legacy, modern].map(({ name, typeDefs, resolvers }) => [
        name,
        buildSubgraphSchema([{ typeDefs, resolvers }]),
      ]),
    ),
  };
}

/** A gateway over `overrideSupergraph`, executing each subgraph in-process (no HTTP), counting fetches. */
export function overrideGateway(
  fixture: ReturnType<typeof overrideSupergraph>,
  options: ConstructorParameters<typeof ApolloGateway>[0] = {},
): { gateway: ApolloGateway; fetches: Map<string, number> } {
  const fetches = new Map<string, number>();
  const gateway = new ApolloGateway({
    ...options,
    supergraphSdl: fixture.supergraphSdl,
    buildService({ name }) {
      const schema = fixture.schemas.get(name);
      if (!schema) throw new Error(`no fixture subgraph ${name}`);
      const local = new LocalGraphQLDataSource(schema);
      return {
        process(request) {
          fetches.set(name, (fetches.get(name) ?? 0) + 1);
          return local.process(request);
        },
      };
    },
  });
  return { gateway, fetches };
}

/**
 * A seeded PRNG (mulberry32): the same draws on every run, so share tests are not flaky. The one
 * the chaos soak's schedule draws from.
 */
export { seededRandom } from "../../scripts/chaos/schedule.ts";
