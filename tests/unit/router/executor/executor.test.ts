import { composeServices } from "@apollo/composition";
import {
  ApolloGateway,
  LocalGraphQLDataSource,
  type GraphQLDataSource,
} from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { buildSubgraphSchema } from "@apollo/subgraph";
import { GraphQLError, parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withPlanExecutor } from "../../../../router/executor/index.ts";
import type { GraphQLResponse } from "../../../support/graphql.ts";
import { silentLogger } from "../../../support/logger.ts";

/**
 * The executor against @apollo/gateway's own, on a small supergraph built for the cases that matter:
 * entities across subgraphs (keys, @requires), lists of entities, an interface and a union, non-null
 * fields, a subgraph that fails. Every query runs through both executors in Apollo Server and the
 * two responses must be the same, byte for byte; the expectations name what the response must hold.
 */

const ACCOUNTS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
  type Query {
    me: User
    users: [User!]!
    looseUsers: [User]
    node(id: ID!): Node
    things: [Thing]
    strictMe: User!
  }
  interface Node { id: ID! }
  type User implements Node @key(fields: "id") { id: ID! name: String! nickname: String }
  type Admin implements Node { id: ID! level: Int! }
  union Thing = User | Admin
`;

const REVIEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@external", "@requires"])
  type User @key(fields: "id") {
    id: ID!
    name: String! @external
    greeting: String @requires(fields: "name")
    reviews: [Review!]!
    score: Int!
  }
  type Review { body: String! stars: Int }
`;

const USERS = [
  { id: "1", name: "Ada", nickname: "ada" },
  { id: "2", name: "Grace", nickname: null },
  { id: "3", name: "Edsger", nickname: "ewd" },
];

const accountsSchema = buildSubgraphSchema({
  typeDefs: parse(ACCOUNTS),
  resolvers: {
    Query: {
      me: () => USERS[0],
      users: () => USERS,
      looseUsers: () => [USERS[0], null, USERS[2]],
      strictMe: () => USERS[0],
      node: (_: unknown, { id }: { id: string }) =>
        id === "a1"
          ? { __typename: "Admin", id, level: 3 }
          : { __typename: "User", ...USERS.find((user) => user.id === id) },
      things: () => [
        { __typename: "User", ...USERS[1] },
        { __typename: "Admin", id: "a1", level: 7 },
      ],
    },
    User: {
      __resolveReference: (ref: { id: string }) =>
        USERS.find((user) => user.id === ref.id),
    },
  },
});

const reviewsSchema = buildSubgraphSchema({
  typeDefs: parse(REVIEWS),
  resolvers: {
    User: {
      __resolveReference: (ref: { id: string; name?: string }) => ref,
      greeting: (user: { id: string; name: string }) => {
        // User 2's greeting fails: an `_entities` error inside a list of entities.
        if (user.id === "2") throw new GraphQLError("no greeting for 2");
        return `Hello, ${user.name}`;
      },
      reviews: (user: { id: string }) =>
        user.id === "3"
          ? [{ body: null, stars: 1 }] // body is non-null: the review, then reviews, bubble
          : [{ body: `by ${user.id}`, stars: 5 }],
      score: (user: { id: string }) =>
        user.id === "2" ? null : Number(user.id) * 10,
    },
  },
});

/** The reviews subgraph, or an outage answered the way the resilient data source answers one. */
let reviewsDown = false;
const reviews: GraphQLDataSource = {
  process(options) {
    if (reviewsDown)
      return Promise.resolve({
        errors: [
          {
            message: "The reviews service is unavailable",
            extensions: { code: "SUBGRAPH_UNAVAILABLE", service: "reviews" },
          },
        ],
      });
    return new LocalGraphQLDataSource(reviewsSchema).process(options);
  },
};

function supergraph(): string {
  const composed = composeServices([
    { name: "accounts", typeDefs: parse(ACCOUNTS), url: "http://accounts" },
    { name: "reviews", typeDefs: parse(REVIEWS), url: "http://reviews" },
  ]);
  if (!composed.supergraphSdl)
    throw new Error(composed.errors?.map((e) => e.message).join("\n"));
  return composed.supergraphSdl;
}

function newGateway(sdl: string) {
  return new ApolloGateway({
    supergraphSdl: sdl,
    logger: silentLogger,
    buildService: ({ name }) =>
      name === "reviews" ? reviews : new LocalGraphQLDataSource(accountsSchema),
  });
}

describe("the switchyard executor, against the gateway's", () => {
  let ours: ApolloServer;
  let theirs: ApolloServer;
  let delegated: string[];

  beforeAll(async () => {
    const sdl = supergraph();
    delegated = [];
    const executor = withPlanExecutor(newGateway(sdl), {
      logger: silentLogger,
      onDelegate: (reason) => delegated.push(reason),
    });
    const options = { includeStacktraceInErrorResponses: false } as const;
    ours = new ApolloServer({ gateway: executor.gateway, ...options });
    theirs = new ApolloServer({ gateway: newGateway(sdl), ...options });
    await Promise.all([ours.start(), theirs.start()]);
  });
  afterAll(async () => {
    await Promise.all([ours?.stop(), theirs?.stop()]);
  });

  /** Runs `query` through both; they must answer the same. Returns ours. */
  async function both(
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<Omit<GraphQLResponse, "status">> {
    const [a, b] = await Promise.all(
      [ours, theirs].map(async (server) => {
        const response = await server.executeOperation({ query, variables });
        if (response.body.kind !== "single") throw new Error("not single");
        return JSON.parse(
          JSON.stringify(response.body.singleResult),
        ) as Awaited<ReturnType<typeof both>>;
      }),
    );
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    return a!;
  }

  it("joins entities across subgraphs, with aliases and @requires", async () => {
    const result = await both(`{
      me { id who: name greeting reviews { body stars } }
    }`);
    expect(result).toEqual({
      data: {
        me: {
          id: "1",
          who: "Ada",
          greeting: "Hello, Ada",
          reviews: [{ body: "by 1", stars: 5 }],
        },
      },
    });
    expect(delegated).toEqual([]);
  });

  it("maps an _entities error inside a list of entities to that entity's path", async () => {
    const result = await both(`{ users { id greeting } }`);
    expect(result.data).toEqual({
      users: [
        { id: "1", greeting: "Hello, Ada" },
        { id: "2", greeting: null },
        { id: "3", greeting: "Hello, Edsger" },
      ],
    });
    expect(result.errors?.map((error) => error.path)).toEqual([
      ["users", 1, "greeting"],
    ]);
    expect(result.errors?.[0]?.extensions?.serviceName).toBe("reviews");
  });

  it("bubbles a null through non-null fields up to the nearest nullable one", async () => {
    // User 3's review has a null body (Review.body: String!): the subgraph nulls the entity.
    const strict = await both(`{ users { id reviews { body } } }`);
    expect(strict.data).toBeNull();
    const loose = await both(`{ looseUsers { id score } }`);
    // User 2 is absent (null in the list); nothing else bubbles.
    expect(loose.data).toEqual({
      looseUsers: [{ id: "1", score: 10 }, null, { id: "3", score: 30 }],
    });
  });

  it("keeps the fields of a working subgraph when another fails (partial results)", async () => {
    reviewsDown = true;
    try {
      const result = await both(`{ me { id name greeting } }`);
      expect(result.data).toEqual({
        me: { id: "1", name: "Ada", greeting: null },
      });
      expect(result.errors).toEqual([
        expect.objectContaining({
          // The outage has no path of its own: the gateway adds none either.
          message: "The reviews service is unavailable",
          extensions: expect.objectContaining({
            code: "SUBGRAPH_UNAVAILABLE",
            serviceName: "reviews",
          }),
        }),
      ]);
      const strict = await both(`{ strictMe { id score } }`);
      expect(strict.data).toBeNull();
    } finally {
      reviewsDown = false;
    }
  });

  it("resolves fragments on abstract types by __typename", async () => {
    const result = await both(`
      fragment U on User { name greeting }
      {
        things { __typename ... on Admin { level } ...U }
        admin: node(id: "a1") { id ... on Admin { level } ... on User { name } kind: __typename }
        user: node(id: "3") { id ...U }
      }`);
    expect(result.data).toEqual({
      things: [
        { __typename: "User", name: "Grace", greeting: null },
        { __typename: "Admin", level: 7 },
      ],
      admin: { id: "a1", level: 3, kind: "Admin" },
      user: { id: "3", name: "Edsger", greeting: "Hello, Edsger" },
    });
  });

  it("applies @skip and @include from variables and defaults", async () => {
    const query = `query Q($withName: Boolean!, $skipReviews: Boolean = true) {
      me { id name @include(if: $withName) reviews @skip(if: $skipReviews) { stars } nickname @skip(if: false) }
    }`;
    expect((await both(query, { withName: false })).data).toEqual({
      me: { id: "1", nickname: "ada" },
    });
    expect(
      (await both(query, { withName: true, skipReviews: false })).data,
    ).toEqual({
      me: { id: "1", name: "Ada", reviews: [{ stars: 5 }], nickname: "ada" },
    });
  });

  it("answers variable errors as the gateway does, and leaves introspection to it", async () => {
    const bad = await both(`query Q($id: ID!) { node(id: $id) { id } }`, {});
    expect(bad.errors?.[0]?.message).toMatch(/\$id/);
    await both(`{ __schema { queryType { name } } me { id } }`);
    expect(delegated).toContain("introspection");
  });

  it("reads the gateway state it relies on", async () => {
    const gateway = newGateway(supergraph());
    await gateway.load();
    try {
      // Private members of ApolloGateway 2.14.4 the executor reads; an upgrade that renames one fails here.
      const state = gateway as unknown as Record<string, unknown>;
      for (const member of [
        "queryPlanner",
        "apiSchema",
        "schema",
        "supergraphSchema",
        "serviceMap",
        "recursiveSelectionsLimitDisabled",
        "nonLocalSelectionsLimitDisabled",
      ])
        expect(state[member], member).toBeDefined();
    } finally {
      await gateway.stop();
    }
  });
});
