import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { demoUsers } from "../../../../platform/demo-data.ts";
import {
  createNotificationsSubgraph,
  notificationsModule,
} from "../../../../subgraphs/notifications/server.ts";
import {
  asAdmin,
  asCustomer,
  subgraphForTests,
} from "../../../support/subgraph.ts";

const [admin, ada, grace] = [demoUsers[0]!, demoUsers[1]!, demoUsers[2]!];
const NOTIFICATIONS = `query($r: [_Any!]!, $after: String) { _entities(representations: $r) { ... on User {
  notifications(first: 2, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { channel subject eventType correlationId } } } } } }`;

describe("the notifications subgraph (createNotificationsSubgraph, in-process on PGlite)", () => {
  const notifications = subgraphForTests(notificationsModule(), (deps) =>
    createNotificationsSubgraph(deps),
  );

  /** A delivery record as a dispatcher writes it; `minute` orders them in time. */
  async function delivery(
    userId: string,
    {
      subject,
      status = "DELIVERED",
      minute,
    }: { subject: string; status?: string; minute: number },
  ): Promise<string> {
    const id = `${randomUUID()}:email`;
    await notifications.db.query(
      `INSERT INTO notifications.deliveries (notification_id, user_id, channel, subject, event_id, event_type, correlation_id, status, attempts, delivered_at)
       VALUES ($1, $2, 'email', $3, $4, 'orders.order.confirmed', $5, $6, 1, $7)`,
      [
        id,
        userId,
        subject,
        randomUUID(),
        `corr-${subject}`,
        status,
        new Date(Date.UTC(2026, 10, 1, 9, minute)).toISOString(),
      ],
    );
    return id;
  }

  const ids = {} as { first: string; sending: string };
  beforeAll(async () => {
    ids.first = await delivery(ada.id, { subject: "first", minute: 1 });
    await delivery(ada.id, { subject: "second", minute: 2 });
    await delivery(ada.id, { subject: "third", minute: 3 });
    ids.sending = await delivery(ada.id, {
      subject: "still sending",
      status: "SENDING",
      minute: 4,
    });
    await delivery(grace.id, { subject: "grace only", minute: 5 });
  });

  it("lists what was delivered to the user, newest first, in pages, leaving out what is still being sent", async () => {
    const page1 = await notifications.query(
      NOTIFICATIONS,
      { r: [{ __typename: "User", id: ada.id }] },
      asCustomer(ada.id),
    );
    expect(page1.errors).toBeUndefined();
    const first = page1.data._entities[0].notifications;
    expect(first.totalCount).toBe(3);
    expect(
      first.edges.map(
        (edge: { node: { subject: string } }) => edge.node.subject,
      ),
    ).toEqual(["third", "second"]);
    expect(first.edges[0].node).toEqual({
      channel: "EMAIL",
      subject: "third",
      eventType: "orders.order.confirmed",
      correlationId: "corr-third",
    });
    expect(first.pageInfo.hasNextPage).toBe(true);

    const page2 = await notifications.query(
      NOTIFICATIONS,
      {
        r: [{ __typename: "User", id: ada.id }],
        after: first.pageInfo.endCursor,
      },
      asCustomer(ada.id),
    );
    expect(
      page2.data._entities[0].notifications.edges.map(
        (edge: { node: { subject: string } }) => edge.node.subject,
      ),
    ).toEqual(["first"]);
    expect(page2.data._entities[0].notifications.pageInfo.hasNextPage).toBe(
      false,
    );
  });

  it("answers several users in one fetch, each with their own page, for an admin", async () => {
    const { data, errors } = await notifications.query(
      NOTIFICATIONS,
      {
        r: [
          { __typename: "User", id: grace.id },
          { __typename: "User", id: admin.id },
        ],
      },
      asAdmin(admin.id),
    );
    expect(errors).toBeUndefined();
    expect(
      data._entities.map(
        (user: { notifications: { totalCount: number } }) =>
          user.notifications.totalCount,
      ),
    ).toEqual([1, 0]);
  });

  it("keeps one user’s notifications from another customer and from anonymous callers", async () => {
    const other = await notifications.query(
      NOTIFICATIONS,
      { r: [{ __typename: "User", id: ada.id }] },
      asCustomer(grace.id),
    );
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await notifications.query(NOTIFICATIONS, {
      r: [{ __typename: "User", id: ada.id }],
    });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  const ONE = `query($id: ID!) { notification(id: $id) { id subject user { id } } }`;

  it("reads one delivered notification by id for its recipient and for an admin, with its recipient as a User reference", async () => {
    for (const principal of [asCustomer(ada.id), asAdmin(admin.id)]) {
      const { data, errors } = await notifications.query(
        ONE,
        { id: ids.first },
        principal,
      );
      expect(errors).toBeUndefined();
      expect(data.notification).toEqual({
        id: ids.first,
        subject: "first",
        user: { id: ada.id },
      });
    }
  });

  it("never gives one customer's notification to another (FORBIDDEN) or to an anonymous caller, and answers NOT_FOUND for one not delivered yet", async () => {
    const other = await notifications.query(
      ONE,
      { id: ids.first },
      asCustomer(grace.id),
    );
    expect(other.data?.notification ?? null).toBeNull();
    expect(other.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const anonymous = await notifications.query(ONE, { id: ids.first });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const sending = await notifications.query(
      ONE,
      { id: ids.sending },
      asCustomer(ada.id),
    );
    expect(sending.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
  });
});
