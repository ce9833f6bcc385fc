import { GraphQLError, parse } from "graphql";
import { describe, expect, it } from "vitest";
import {
  entityQueryFor,
  type EntityQuery,
} from "../../../../router/live/entity-query.ts";

const plan = (
  source: string,
  variables: Record<string, unknown> = {},
  operationName?: string,
) => entityQueryFor(parse(source), operationName, variables);

describe("the per-event query of a subscription", () => {
  it("asks for the subscriber's selection on order(id), with the fragments and variables it uses", () => {
    const result = plan(
      `subscription Follow($id: ID, $withUser: Boolean!, $unused: Int) {
        live: orderUpdated(id: $id) { state: status ...Lines user @include(if: $withUser) { name } }
      }
      fragment Lines on Order { items { quantity product { ...Named } } }
      fragment Named on Product { name }
      fragment Unrelated on Order { total }`,
      { id: "o1", withUser: true, unused: 3 },
    ) as EntityQuery;
    expect(result).not.toBeInstanceOf(GraphQLError);
    expect(result.orderId).toBe("o1");
    expect(result.responseKey).toBe("live");
    expect(result.statusKeys).toEqual(["state"]);
    expect(result.variables).toEqual({ withUser: true });
    const query = parse(result.query);
    expect(
      query.definitions.map((definition) =>
        "name" in definition ? definition.name?.value : undefined,
      ),
    ).toEqual(["FollowEvent", "Lines", "Named"]);
    expect(result.query).toContain(
      "query FollowEvent($switchyardLiveOrderId: ID!, $withUser: Boolean!)",
    );
    expect(result.query).toContain("order(id: $switchyardLiveOrderId)");
  });

  it("follows every order when no id is given (literal or variable)", () => {
    expect(
      (plan("subscription { orderUpdated { id } }") as EntityQuery).orderId,
    ).toBeUndefined();
    expect(
      (plan('subscription { orderUpdated(id: "o7") { id } }') as EntityQuery)
        .orderId,
    ).toBe("o7");
  });

  it("refuses a document that uses the router's variable name or no subscription", () => {
    const reserved = plan(
      "subscription($switchyardLiveOrderId: ID) { orderUpdated(id: $switchyardLiveOrderId) { id } }",
    );
    expect(reserved).toBeInstanceOf(GraphQLError);
    expect((reserved as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
    const query = plan("query { __typename }");
    expect((query as GraphQLError).extensions.code).toBe(
      "OPERATION_RESOLUTION_FAILURE",
    );
  });
});
