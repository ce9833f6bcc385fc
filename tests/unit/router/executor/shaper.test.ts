import {
  buildSchema,
  operationFromDocument,
} from "@apollo/federation-internals";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import {
  compileShaper,
  type ResponseShaper,
} from "../../../../router/executor/shaper.ts";

const schema = buildSchema(`
  type Query { shop: Shop, items: [Item!], strict: Shop!, pet: Pet, node: Node }
  type Shop { name: String! open: Boolean, rating: Int, tags: [String!]! }
  type Item { sku: ID!, kind: Kind }
  enum Kind { BOOK TOY }
  interface Node { id: ID! }
  type Dog implements Node { id: ID!, barks: Boolean }
  type Cat implements Node { id: ID!, lives: Int }
  union Pet = Dog | Cat
`);

function shaperOf(query: string): ResponseShaper {
  const shaper = compileShaper(operationFromDocument(schema, parse(query)));
  if (typeof shaper === "string") throw new Error(shaper);
  return shaper;
}

describe("the compiled response shaper", () => {
  it("writes aliases, drops fields the client did not ask for, keeps the client's order", () => {
    const shaper = shaperOf(`{ shop { title: name open name } }`);
    const { data, errors } = shaper.shape(
      // Merged data is keyed by response name: subgraph fetches carry the client's aliases.
      {
        shop: {
          open: true,
          title: "Corner",
          name: "Corner",
          rating: 4,
          __typename: "Shop",
        },
      },
      undefined,
    );
    expect(JSON.stringify(data)).toBe(
      '{"shop":{"title":"Corner","open":true,"name":"Corner"}}',
    );
    expect(errors).toEqual([]);
  });

  it("bubbles a missing non-null field to the nearest nullable parent with one error and its path", () => {
    const shaper = shaperOf(`{ shop { name } items { sku } }`);
    const { data, errors } = shaper.shape(
      { shop: { name: null }, items: [{ sku: "a" }, { sku: null }] },
      undefined,
    );
    // Item.sku is ID!, items is [Item!]: the element nulls the list, which is nullable.
    expect(data).toEqual({ shop: null, items: null });
    expect(errors.map((error) => [error.message, error.path])).toEqual([
      [
        "Cannot return null for non-nullable field Shop.name.",
        ["shop", "name"],
      ],
      [
        "Cannot return null for non-nullable field Item.sku.",
        ["items", 1, "sku"],
      ],
    ]);
  });

  it("nulls the whole data when a non-null root field is null", () => {
    const { data } = shaperOf(`{ strict { name } }`).shape(
      { strict: null },
      undefined,
    );
    expect(data).toBeNull();
  });

  it("rejects leaf values of the wrong type and unknown enum values", () => {
    const { data, errors } = shaperOf(
      `{ shop { rating open } items { kind } }`,
    ).shape(
      {
        shop: { rating: 2.5, open: "yes" },
        items: [{ kind: "BOOK" }, { kind: "GAME" }],
      },
      undefined,
    );
    expect(data).toEqual({
      shop: { rating: null, open: null },
      items: [{ kind: "BOOK" }, { kind: null }],
    });
    expect(errors.map((error) => error.message)).toEqual([
      "Invalid value found for field Shop.rating.",
      "Invalid value found for field Shop.open.",
      "Invalid value found for field Item.kind.",
    ]);
  });

  it("picks fragments on abstract types by __typename and answers __typename", () => {
    const shaper = shaperOf(`{
      pet { kind: __typename ... on Dog { barks } ... on Cat { lives } }
      node { id ... on Cat { lives } }
    }`);
    const { data } = shaper.shape(
      {
        pet: { __typename: "Cat", lives: 9, barks: true },
        node: { __typename: "Dog", id: "d1", lives: 3 },
      },
      undefined,
    );
    expect(data).toEqual({
      pet: { kind: "Cat", lives: 9 },
      node: { id: "d1" },
    });
  });

  it("reports an unknown __typename at its path and nulls the object", () => {
    const { data, errors } = shaperOf(`{ pet { __typename } }`).shape(
      { pet: { __typename: "Parrot" } },
      undefined,
    );
    expect(data).toEqual({ pet: null });
    expect(errors[0]?.message).toBe(
      "Invalid __typename found for object at field Query.pet.",
    );
  });

  it("applies @skip and @include from variables, their defaults and constants", () => {
    const shaper = shaperOf(`query ($a: Boolean!, $b: Boolean = false) {
      shop { name @include(if: $a) open @skip(if: $b) rating @skip(if: true) }
    }`);
    const input = { shop: { name: "N", open: false, rating: 1 } };
    expect(shaper.shape(input, { a: false }).data).toEqual({
      shop: { open: false },
    });
    expect(shaper.shape(input, { a: true, b: true }).data).toEqual({
      shop: { name: "N" },
    });
  });

  it("leaves introspection to the gateway's executor", () => {
    expect(
      compileShaper(
        operationFromDocument(schema, parse(`{ __schema { types { name } } }`)),
      ),
    ).toBe("introspection");
  });
});
