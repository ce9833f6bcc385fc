import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChannelSender } from "../../events/channels.ts";
import { createMemoryEventLog } from "../../events/event-log.ts";
import { createMemoryJobQueue } from "../../events/job-queue.ts";
import type { Storage } from "../../platform/database.ts";
import type { Stack } from "../../stack.ts";
import { waitFor } from "../support/wait.ts";
import { newProduct, ordersOf } from "../support/saga.ts";
import { demoUsers } from "../../platform/demo-data.ts";
import { bearerFor, bootStack, gql, silentLogger } from "../support/stack.ts";
import { pgliteBackend } from "../support/storage.ts";

const pglite = pgliteBackend;
const retry = { delaysMs: [50], maxAttempts: 2 };

describe("User.notifications through the router, fed by the in-process pipeline", () => {
  let storage: Storage;
  let drop: () => Promise<void>;
  let stack: Stack;
  const delivered: string[] = [];
  let admin: Record<string, string>;

  beforeAll(async () => {
    ({ storage, drop } = await pglite.open());
    const sender = (channel: string): ChannelSender => ({
      transport: "test",
      send: async (job, recipient) =>
        void delivered.push(
          `${channel}:${recipient.email ?? ""}:${job.subject}`,
        ),
    });
    stack = await bootStack(storage, {
      // The test polls the router while deliveries land; the per-client limit is not under test here.
      routerEnv: { ROUTER_RATE_LIMIT: "100000/1m" },
      payments: { providerTimeoutMs: 50 },
      events: {
        eventLog: createMemoryEventLog({ logger: silentLogger }),
        jobQueue: createMemoryJobQueue({ logger: silentLogger, retry }),
        senders: {
          email: sender("email"),
          sms: sender("sms"),
          push: sender("push"),
        },
        retry,
        relayPollIntervalMs: 50,
      },
    });
    admin = await bearerFor(stack.routerUrl, demoUsers[0]!.email);
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  const newCustomer = async (name: string) => {
    const id = randomUUID();
    const email = `${name}-${id.slice(0, 6)}@example.test`;
    await stack.subgraphs.users.db.query(
      `INSERT INTO users.users (id, email, name, role, password_hash) VALUES ($1, $2, $3, 'CUSTOMER', 'unused')`,
      [id, email, name],
    );
    return { id, email };
  };
  const notificationsOf = (
    id: string,
    first: number,
    after?: string,
    headers?: Record<string, string>,
  ) =>
    gql(
      stack.routerUrl,
      `query($id: ID!, $first: Int, $after: String) { user(id: $id) { name notifications(first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { id channel subject eventType correlationId deliveredAt } } } } }`,
      { id, first, after },
      headers ?? admin,
    );

  it("lists what was delivered for a confirmed and a declined order, newest first, with the orders’ correlation ids, page by page", async () => {
    const { id, email } = await newCustomer("reader");
    const product = await newProduct(stack, 10, 500);
    const place = (paymentToken: string) =>
      ordersOf(stack).orders.placeOrder(id, {
        items: [{ productId: product, quantity: 1 }],
        idempotencyKey: randomUUID(),
        paymentToken,
      });
    const confirmed = await place("tok_visa");
    await waitFor(
      () =>
        delivered.some(
          (entry) =>
            entry.startsWith(`email:${email}:Order`) &&
            entry.includes("confirmed"),
        )
          ? true
          : undefined,
      { what: "the confirmation" },
    );
    const declined = await place("tok_declined");
    expect([confirmed.status, declined.status]).toEqual([
      "CONFIRMED",
      "FAILED",
    ]);
    // declined payment: email + sms; failed order: email.
    await waitFor(
      async () => {
        const { data } = await notificationsOf(id, 10);
        return data?.user?.notifications.totalCount === 4 ? true : undefined;
      },
      { what: "four delivered notifications" },
    );

    const first = await notificationsOf(id, 3);
    expect(first.errors).toBeUndefined();
    const page = first.data.user.notifications;
    expect(first.data.user.name).toBe("reader");
    expect(page.totalCount).toBe(4);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const second = await notificationsOf(id, 3, page.pageInfo.endCursor);
    const all = [...page.edges, ...second.data.user.notifications.edges].map(
      (edge: { node: Record<string, string> }) => edge.node,
    );
    expect(second.data.user.notifications.pageInfo.hasNextPage).toBe(false);
    expect(all).toHaveLength(4);
    expect(all.map((node) => node.deliveredAt)).toEqual(
      [...all.map((node) => node.deliveredAt)].sort().reverse(),
    );
    const confirmedNode = all.find(
      (node) => node.eventType === "orders.order.confirmed",
    )!;
    expect(confirmedNode).toMatchObject({
      channel: "EMAIL",
      correlationId: confirmed.id,
    });
    expect(
      all
        .filter((node) => node.eventType === "payments.payment.declined")
        .map((node) => node.channel)
        .sort(),
    ).toEqual(["EMAIL", "SMS"]);
    expect(
      all.find((node) => node.eventType === "orders.order.failed"),
    ).toMatchObject({ channel: "EMAIL", correlationId: declined.id });
  });

  it("answers an empty list for a user with no notifications", async () => {
    const { id } = await newCustomer("quiet");
    const { data, errors } = await notificationsOf(id, 5);
    expect(errors).toBeUndefined();
    expect(data.user.notifications).toEqual({
      totalCount: 0,
      pageInfo: { hasNextPage: false, endCursor: null },
      edges: [],
    });
  });

  it("shows a user's notifications to that user and admins only", async () => {
    const ada = demoUsers.find((user) => user.email === "ada@switchyard.dev")!;
    const adaToken = await bearerFor(stack.routerUrl, ada.email);
    expect(
      (await notificationsOf(ada.id, 5, undefined, adaToken)).errors,
    ).toBeUndefined();
    const anonymous = await notificationsOf(ada.id, 5, undefined, {});
    expect(anonymous.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const someoneElse = await notificationsOf(
      demoUsers.find((user) => user.email === "grace@switchyard.dev")!.id,
      5,
      undefined,
      adaToken,
    );
    expect(
      someoneElse.errors?.map((error) => error.extensions?.code),
    ).toContain("FORBIDDEN");
  });
});
