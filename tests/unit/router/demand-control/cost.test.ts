import { readFileSync } from "node:fs";
import {
  buildSchema,
  parse,
  type DocumentNode,
  type OperationDefinitionNode,
} from "graphql";
import { describe, expect, it } from "vitest";
import {
  actualCost,
  estimateCost,
  fragmentsOf,
  readCostDirectives,
} from "../../../../router/demand-control/cost.ts";

const SDL = `
  directive @cost(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | INPUT_FIELD_DEFINITION | OBJECT | SCALAR
  directive @listSize(assumedSize: Int, slicingArguments: [String!], sizedFields: [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION
  enum Status { A B }
  scalar Money @cost(weight: 2)
  type Review { text: String }
  type Book @cost(weight: 3) { title: String, price: Money, status: Status, reviews: [Review] @listSize(assumedSize: 4) }
  type Edge { node: Book }
  type Page { items: [Edge], total: Int }
  type Author { name: String, books(limit: Int, top: Int): [Book] @listSize(slicingArguments: ["limit", "top"]) }
  type Query {
    page(first: Int = 5, search: String @cost(weight: 7)): Page @listSize(slicingArguments: ["first"], sizedFields: ["items"], requireOneSlicingArgument: false)
    author: Author
    tags: [String]
    slow: Author @cost(weight: 20)
  }
  type Mutation { buy(id: ID!): Book, free: Book @cost(weight: 1) }
`;
const schema = buildSchema(SDL);
const options = {
  directives: readCostDirectives(SDL),
  defaultListSize: 10,
  maxPageSize: 1000,
};

function estimate(query: string, variables: Record<string, unknown> = {}) {
  const document = parse(query);
  return estimateCost({
    schema,
    operation: document.definitions[0] as OperationDefinitionNode,
    fragments: fragmentsOf(document),
    variables,
    options,
  });
}

describe("estimated cost by the IBM cost spec", () => {
  it.each([
    ["a scalar or enum field costs 0, an object 1", "{ author { name } }", 1],
    [
      "@cost on a type weighs every field of that type",
      "{ author { books(limit: 1) { title } } }",
      1 + 3,
    ],
    [
      "@cost on a scalar weighs its fields",
      "{ author { books(limit: 1) { price } } }",
      1 + (3 + 2),
    ],
    ["@cost on a field replaces the default", "{ slow { name } }", 20],
    ["a list without @listSize takes the default list size", "{ tags }", 0],
    [
      "assumedSize sizes a list",
      "{ author { books(limit: 2) { reviews { text } } } }",
      1 + 2 * (3 + 4 * 1),
    ],
    [
      "the largest slicing argument given sizes the list",
      "{ author { books(limit: 2, top: 6) { title } } }",
      1 + 6 * 3,
    ],
    [
      "sizedFields carry the size to the connection's list",
      "{ page(first: 8) { items { node { title } } total } }",
      1 + 8 * (1 + 3),
    ],
    [
      "the field default of a slicing argument applies",
      "{ page { items { node { title } } } }",
      1 + 5 * (1 + 3),
    ],
    [
      "@cost on an argument adds its weight when given",
      '{ page(first: 1, search: "x") { total } }',
      1 + 7,
    ],
    [
      "a mutation root field costs 10 unless @cost says otherwise",
      "mutation { buy(id: 1) { title } free { title } }",
      10 + 1,
    ],
    [
      "introspection costs nothing",
      "{ __typename author { __typename name } }",
      1,
    ],
    [
      "a field selected twice (fragments, repeats) counts once",
      "{ author { name } ... on Query { author { name } } }",
      1,
    ],
  ])("%s", (_rule, query, expected) => {
    expect(estimate(query)).toBe(expected);
  });

  it("a list of objects without @listSize is multiplied by the default list size", () => {
    const local = buildSchema("type T { a: Int } type Query { ts: [T] }");
    const document = parse("{ ts { a } }");
    expect(
      estimateCost({
        schema: local,
        operation: document.definitions[0] as OperationDefinitionNode,
        fragments: {},
        variables: {},
        options: { ...options, defaultListSize: 7 },
      }),
    ).toBe(7);
  });
});

describe("actual cost", () => {
  it("counts what the response holds: lists by their real length, null objects by their weight only", () => {
    const document = parse(
      "{ author { books(limit: 50) { title reviews { text } } } }",
    );
    const data = {
      author: {
        books: [{ title: "a", reviews: [{ text: "x" }] }, null],
      },
    };
    expect(
      actualCost({
        schema,
        operation: document.definitions[0] as OperationDefinitionNode,
        fragments: {},
        variables: {},
        options,
        data,
      }),
    ).toBe(1 + 2 * 3 + 1);
  });

  it("costs each element of a list by its own fields, through aliases and a fragment merged with the selection", () => {
    const document = parse(
      "{ author { books(limit: 50) { ...B t: title reviews { text } } } } fragment B on Book { price reviews { text } }",
    );
    const data = {
      author: {
        books: [
          { price: "1", t: "a", reviews: [{ text: "x" }, { text: "y" }] },
          { price: "2", t: "b", reviews: [] },
          { t: "c" },
          null,
        ],
      },
    };
    expect(
      actualCost({
        schema,
        operation: document.definitions[0] as OperationDefinitionNode,
        fragments: fragmentsOf(document),
        variables: {},
        options,
        data,
      }),
      // author 1, four books at 3, then per book: price 2 and one per review (2 + 2, 2 + 0, 0, 0).
    ).toBe(1 + 4 * 3 + (2 + 2) + 2);
  });
});

describe("the composed supergraph keeps @cost and @listSize", () => {
  it("the router reads them from supergraph.graphql (composition with federation 2.9)", () => {
    const directives = readCostDirectives(
      parse(readFileSync("supergraph.graphql", "utf8")) as DocumentNode,
    );
    expect(directives.listSizes.get("Query.products")).toEqual({
      assumedSize: undefined,
      slicingArguments: ["first"],
      sizedFields: ["edges"],
    });
    expect(directives.listSizes.get("Order.items")?.assumedSize).toBe(5);
    expect(directives.fields.get("Mutation.placeOrder")).toBe(50);
    expect(directives.arguments.get("Query.products(search:)")).toBe(5);
  });
});
