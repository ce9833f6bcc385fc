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
    expect(result.entityId).toBe("o1");
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
      "query FollowEvent($switchyardLiveId: ID!, $withUser: Boolean!)",
    );
    expect(result.query).toContain("order(id: $switchyardLiveId)");
  });

  it("follows every order when no id is given (literal or variable)", () => {
    expect(
      (plan("subscription { orderUpdated { id } }") as EntityQuery).entityId,
    ).toBeUndefined();
    expect(
      (plan('subscription { orderUpdated(id: "o7") { id } }') as EntityQuery)
        .entityId,
    ).toBe("o7");
  });

  it("refuses a document that uses the router's variable name or no subscription", () => {
    const reserved = plan(
      "subscription($switchyardLiveId: ID) { orderUpdated(id: $switchyardLiveId) { id } }",
    );
    expect(reserved).toBeInstanceOf(GraphQLError);
    expect((reserved as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
    const query = plan("query { __typename }");
    expect((query as GraphQLError).extensions.code).toBe(
      "OPERATION_RESOLUTION_FAILURE",
    );
  });

  // The contract between the schema and router/live: each live Subscription field returns an
  // entity that a Query field reads by id (Subscription.orderUpdated returns the Order entity and
  // Query.order(id: ID!) reads it; Subscription.myNotifications returns Notification and
  // Query.notification(id: ID!) reads it); a change to either side breaks this test.
  it.each([
    ["orderUpdated", "Order!", "orders.graphql", "FollowOrder", { id: "o1" }],
    [
      "myNotifications",
      "Notification!",
      "account.graphql",
      "FollowMyNotifications",
      {},
    ],
  ])(
    "builds, for the %s subscription the clients ship, a query the composed API schema validates",
    (field, type, file, operationName, variables) => {
      const api = buildSchema(readFileSync("schema/api.graphql", "utf8"));
      const operations = parse(
        readFileSync(`clients/operations/${file}`, "utf8"),
      );
      const subscription = api.getSubscriptionType()?.getFields()[field];
      expect(String(subscription?.type)).toBe(type);
      const result = entityQueryFor(
        operations,
        operationName,
        variables,
      ) as EntityQuery;
      expect(validate(api, parse(result.query))).toEqual([]);
    },
  );

  it("reads a myNotifications event back through notification(id), with no id filter and no status override", () => {
    const result = plan(
      `subscription Mine($withUser: Boolean!) {
        inbox: myNotifications { id subject status: channel user @include(if: $withUser) { name } }
      }`,
      { withUser: false },
    ) as EntityQuery;
    expect(result).not.toBeInstanceOf(GraphQLError);
    expect(result.field).toBe("myNotifications");
    expect(result.kind).toBe("notification");
    expect(result.entityId).toBeUndefined();
    expect(result.responseKey).toBe("inbox");
    // `status` here is an alias of another field: only orderUpdated's status is the event's.
    expect(result.statusKeys).toEqual([]);
    expect(result.query).toContain(
      "query MineEvent($switchyardLiveId: ID!, $withUser: Boolean!)",
    );
    expect(result.query).toContain("notification(id: $switchyardLiveId)");
  });

  it("refuses a root field that is not a live field, or two live fields at once", () => {
    for (const source of [
      "subscription { myNotifications { id } orderUpdated { id } }",
      "subscription { __typename }",
    ]) {
      const refused = plan(source);
      expect(refused).toBeInstanceOf(GraphQLError);
      expect((refused as GraphQLError).extensions.code).toBe("BAD_USER_INPUT");
    }
  });
});
