import { readFileSync } from "node:fs";
import { buildSchema, GraphQLError, parse, validate } from "graphql";
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

  it("builds, for every subscription the clients ship, a query the composed API schema validates", () => {
    // The contract between the schema and router/live: Subscription.orderUpdated returns the Order
    // entity, and Query.order(id: ID!) reads it; a change to either breaks this test.
    const api = buildSchema(readFileSync("schema/api.graphql", "utf8"));
    const operations = parse(
      readFileSync("clients/operations/orders.graphql", "utf8"),
    );
    const subscription = api.getSubscriptionType()?.getFields().orderUpdated;
    expect(String(subscription?.type)).toBe("Order!");
    const result = entityQueryFor(operations, "FollowOrder", {
      id: "o1",
    }) as EntityQuery;
    expect(validate(api, parse(result.query))).toEqual([]);
  });
});
