import { randomBytes, randomUUID } from "node:crypto";
import amqp from "amqplib";
import { Kafka, logLevel } from "kafkajs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDatabase,
  dropDatabase,
  startDistributed,
  type Distributed,
} from "../../deploy/distributed.ts";
import {
  AMQP_URL,
  deleteQueues,
  KAFKA_BROKERS,
  probeKafka,
  probeRabbit,
  unique,
  waitFor,
} from "../support/brokers.ts";
import { EVENT_TOPICS } from "../../events/envelope.ts";
import { PLACE_ORDER, placeOrderVariables } from "../support/place-order.ts";
import { freePort } from "../support/process.ts";
import { startSmtpSink } from "../support/smtp-sink.ts";
import { gql as supportGql } from "../support/stack.ts";
import { postgresBackend } from "../support/storage.ts";

const kafkaReason = await probeKafka();
const rabbitReason = await probeRabbit();

/**
 * docker-compose.yml as separate processes (deploy/distributed.ts): every service its own Node
 * process with the compose environment, on the local PostgreSQL, Kafka and RabbitMQ, two products
 * instances behind the router. Mandatory with CI=true (brokers.ts and storage.ts fail the run when
 * a server is missing); skipped with the reason printed otherwise.
 */
const ADMIN_URL =
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";
const skipReason =
  kafkaReason ?? rabbitReason ?? (await postgresBackend()).unavailable;
if (skipReason)
  console.error(`[tests] skipping the distributed e2e test: ${skipReason}`);

const README_ORDER = "014c20ce-504f-52e5-81c7-b2cd47f9c330";

describe.skipIf(skipReason !== undefined)(
  "the compose topology as separate processes on real PostgreSQL, Kafka and RabbitMQ",
  () => {
    const database = `switchyard_dist_${randomBytes(5).toString("hex")}`;
    const prefix = unique("dist");
    const logs: string[] = [];
    let distributed: Distributed | undefined;
    let sink: Awaited<ReturnType<typeof startSmtpSink>>;
    let db: pg.Client;
    let routerUrl: string;
    /** The router's admin listener (production serves /metrics there, not on the public port). */
    let routerAdminUrl: string;
    let adminToken: string;
    let buyer: { token: string; id: string; email: string };
    let productId: string;
    const demoPassword = `demo-${randomBytes(12).toString("hex")}`;

    /** Through the router; `requestId` becomes the request's correlation id, which its events and notifications carry. */
    async function gql(
      query: string,
      variables: Record<string, unknown> = {},
      token?: string,
      requestId?: string,
    ) {
      const { status, ...body } = await supportGql(
        `${routerUrl}/graphql`,
        query,
        variables,
        {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(requestId ? { "x-request-id": requestId } : {}),
        },
      );
      return { status, body };
    }

    beforeAll(async () => {
      sink = await startSmtpSink();
      const databaseUrl = await createDatabase(ADMIN_URL, database);
      db = new pg.Client({ connectionString: databaseUrl });
      await db.connect();
      const routerAdminPort = await freePort();
      routerAdminUrl = `http://127.0.0.1:${routerAdminPort}`;
      try {
        distributed = await startDistributed({
          infrastructure: {
            databaseUrl,
            kafkaBrokers: KAFKA_BROKERS.join(","),
            amqpUrl: AMQP_URL,
            smtpUrl: sink.url,
          },
          port: () => freePort(),
          scale: { products: 2 },
          // Variables the config modules read: this run's own topics, group and queues; a rate limit
          // the load below does not trip; a fast relay; the router's admin port; quieter logs.
          // The demo accounts, which production seeds only when asked and with a password of its own.
          extraEnv: {
            KAFKA_TOPIC_PREFIX: `${prefix}.`,
            KAFKA_GROUP_ID: prefix,
            AMQP_QUEUE_PREFIX: prefix,
            RELAY_POLL_INTERVAL_MS: "50",
            ROUTER_RATE_LIMIT: "100000/1m",
            ROUTER_ADMIN_PORT: String(routerAdminPort),
            LOG_LEVEL: "warn",
            SEED_DEMO_DATA: "true",
            DEMO_PASSWORD: demoPassword,
          },
          log: (line) => logs.push(line),
          readyTimeoutMs: 120_000,
        });
      } catch (error) {
        console.error(logs.slice(-80).join("\n"));
        throw error;
      }
      routerUrl = distributed.instance("router").url;
      adminToken = (
        await gql(
          'mutation($password: String!) { logIn(email: "admin@switchyard.dev", password: $password) { token } }',
          { password: demoPassword },
        )
      ).body.data!.logIn.token;
      const email = `buyer-${randomUUID().slice(0, 8)}@example.test`;
      const signUp = await gql(
        "mutation($input: SignUpInput!) { signUp(input: $input) { token user { id } } }",
        { input: { email, name: "Buyer", password: "correct horse battery" } },
      );
      buyer = {
        token: signUp.body.data!.signUp.token,
        id: signUp.body.data!.signUp.user.id,
        email,
      };
      const created = await gql(
        "mutation($input: CreateProductInput!) { createProduct(input: $input) { id } }",
        {
          input: {
            sku: `D-${randomBytes(4).toString("hex")}`,
            name: "Distributed widget",
            price: "3.50",
            inventory: 100_000,
          },
        },
        adminToken,
      );
      expect(created.body.errors).toBeUndefined();
      productId = created.body.data!.createProduct.id;
    }, 240_000);

    afterAll(async () => {
      await distributed?.stop();
      await db?.end().catch(() => undefined);
      await sink?.close();
      await dropDatabase(ADMIN_URL, database).catch(() => undefined);
      await deleteQueues(
        ["email", "sms", "push"].flatMap((channel) => [
          `${prefix}.${channel}`,
          `${prefix}.${channel}.dlq`,
          ...[1000, 10_000, 60_000].map(
            (delay) => `${prefix}.${channel}.retry.${delay}ms`,
          ),
        ]),
      );
    }, 60_000);

    it("runs every service of the compose file as its own process", () => {
      const instances = distributed!.instances;
      expect(instances.map((instance) => instance.name).sort()).toEqual([
        "analytics.1",
        "dispatcher.1",
        "notifications.1",
        "orders.1",
        "payments.1",
        "products.1",
        "products.2",
        "relay.1",
        "router.1",
        "users.1",
        "worker.1",
      ]);
      expect(
        new Set(instances.map((instance) => instance.child.pid)).size,
      ).toBe(instances.length);
      expect(distributed!.instance("router").env.NODE_ENV).toBe("production");
    });

    it("declares its own topics and queues, under this run’s names (KAFKA_TOPIC_PREFIX, AMQP_QUEUE_PREFIX)", async () => {
      const admin = new Kafka({
        clientId: `${prefix}-check`,
        brokers: KAFKA_BROKERS,
        logLevel: logLevel.NOTHING,
      }).admin();
      await admin.connect();
      try {
        expect(await admin.listTopics()).toEqual(
          expect.arrayContaining(
            EVENT_TOPICS.map((topic) => `${prefix}.${topic}`),
          ),
        );
        expect((await admin.describeGroups([prefix])).groups[0]?.state).toBe(
          "Stable",
        );
      } finally {
        await admin.disconnect();
      }
      const connection = await amqp.connect(AMQP_URL);
      try {
        const channel = await connection.createChannel();
        for (const channelName of ["email", "sms", "push"])
          expect(
            (await channel.checkQueue(`${prefix}.${channelName}`))
              .consumerCount,
          ).toBeGreaterThan(0);
      } finally {
        await connection.close();
      }
    });

    it("answers the README’s order query across four subgraphs through the router", async () => {
      const { status, body } = await gql(
        `query { order(id: "${README_ORDER}") { id user { name email } items { product { name price } quantity } payment { status } } }`,
        {},
        adminToken,
      );
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data!.order).toMatchObject({
        id: README_ORDER,
        user: { name: "Ada Lovelace", email: "ada@switchyard.dev" },
        payment: { status: "CAPTURED" },
      });
      expect(body.data!.order.items.length).toBeGreaterThan(0);
    });

    it("turns a placeOrder through the router into an email and a notification the customer reads back", async () => {
      const requestId = randomUUID();
      const placed = await gql(
        PLACE_ORDER,
        placeOrderVariables(productId),
        buyer.token,
        requestId,
      );
      expect(placed.body.errors).toBeUndefined();
      const order = placed.body.data!.placeOrder as {
        id: string;
        status: string;
      };
      expect(order.status).toBe("CONFIRMED");
      const mail = await waitFor(
        () =>
          sink.mails.find(
            (received) => received.header("X-Correlation-Id") === requestId,
          ),
        { timeoutMs: 45_000, what: "the confirmation email" },
      );
      expect(mail.to).toEqual([buyer.email]);
      const mine = await waitFor(
        async () => {
          const { body } = await gql(
            "{ me { notifications(first: 10) { edges { node { eventType correlationId } } } } }",
            {},
            buyer.token,
          );
          const edges = body.data?.me?.notifications?.edges as
            | Array<{ node: { eventType: string; correlationId: string } }>
            | undefined;
          return edges?.find((edge) => edge.node.correlationId === requestId);
        },
        { what: "the notification in me { notifications }" },
      );
      expect(mine.node.eventType).toBe("orders.order.confirmed");
    }, 60_000);

    it("SIGTERM to one of two products instances and to the worker under load: no accepted request fails, and every confirmed order is notified exactly once", async () => {
      const doomed = distributed!.instance("products", 1);
      const outcomes: Array<{
        kind: "query" | "order";
        ok: boolean;
        detail?: string;
        orderId?: string;
        requestId?: string;
      }> = [];
      let running = true;
      const loop = async (worker: number) => {
        for (let i = 0; running; i += 1) {
          const isOrder = i % 4 === worker % 4;
          const requestId = randomUUID();
          try {
            const { status, body } = isOrder
              ? await gql(
                  "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id status items { product { name } } } }",
                  placeOrderVariables(productId),
                  buyer.token,
                  requestId,
                )
              : await gql(
                  "{ products(first: 5) { totalCount edges { node { id name price inStock } } } }",
                );
            const order = body.data?.placeOrder as
              { id: string; status: string } | undefined;
            const ok =
              status === 200 &&
              body.errors === undefined &&
              (!isOrder || order?.status === "CONFIRMED");
            outcomes.push({
              kind: isOrder ? "order" : "query",
              ok,
              detail: ok
                ? undefined
                : JSON.stringify({ status, body }).slice(0, 500),
              orderId: order?.id,
              requestId: order ? requestId : undefined,
            });
          } catch (error) {
            // A reset or refused connection surfaces here as a fetch failure.
            outcomes.push({
              kind: isOrder ? "order" : "query",
              ok: false,
              detail: String((error as Error).cause ?? error),
            });
          }
        }
      };
      const load = Promise.all([0, 1, 2, 3].map(loop));
      // The router spreads products fetches over both instances: wait until the doomed one has served some.
      const served = await waitFor(
        async () => {
          const metrics = await (await fetch(`${doomed.url}/metrics`)).text();
          const count = [
            ...metrics.matchAll(
              /^http_request_duration_seconds_count\{[^}]*route="\/graphql"[^}]*\} (\d+)/gm,
            ),
          ].reduce((sum, match) => sum + Number(match[1]), 0);
          return count > 0 ? count : undefined;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 100,
          what: "the doomed products instance to serve router fetches",
        },
      );
      expect(served).toBeGreaterThan(0);
      const ordersSoFar = () =>
        outcomes.filter((outcome) => outcome.kind === "order").length;
      await waitFor(() => (ordersSoFar() >= 4 ? true : undefined), {
        timeoutMs: 60_000,
        what: "four orders placed before the stops",
      });
      // The worker too, while events flow: it finishes the event in hand, commits, leaves its group;
      // its replacement resumes from the committed offsets.
      const [exitCode, workerExit] = await Promise.all([
        doomed.stop("SIGTERM"),
        distributed!.instance("worker").stop("SIGTERM"),
      ]);
      // Keep the load on after the stops: the requests that follow (four more orders among them, whose
      // events the restarted worker must pick up) are served by what is left.
      const [outcomesAtStop, ordersAtStop] = [outcomes.length, ordersSoFar()];
      await waitFor(
        () =>
          outcomes.length >= outcomesAtStop + 8 &&
          ordersSoFar() >= ordersAtStop + 4
            ? true
            : undefined,
        {
          timeoutMs: 60_000,
          what: "eight more requests, four of them orders, after the products instance and the worker stopped",
        },
      );
      running = false;
      await load;
      expect(workerExit, "the worker stops gracefully").toBe(0);
      await distributed!.restart("worker");

      const routerMetrics = await (
        await fetch(`${routerAdminUrl}/metrics`)
      ).text();
      const retries =
        /^router_subgraph_retries_total\{subgraph="products"\} (\d+)/m.exec(
          routerMetrics,
        )?.[1] ?? "0";
      console.error(
        `[distributed] ${outcomes.length} requests (${outcomes.filter((outcome) => outcome.kind === "order").length} orders), ${served} served by the terminated instance before SIGTERM, ${retries} products fetches retried by the router`,
      );
      expect(exitCode, "a graceful stop exits 0").toBe(0);
      const failures = outcomes.filter((outcome) => !outcome.ok);
      expect(failures, JSON.stringify(failures.slice(0, 3))).toEqual([]);
      // Each order's events and notifications carry the correlation id of the request that placed it.
      const placed = outcomes.filter((outcome) => outcome.kind === "order");
      const orders = placed.map((outcome) => outcome.requestId!);
      const orderIds = placed.map((outcome) => outcome.orderId!);
      expect(orders.length).toBeGreaterThan(5);
      expect(outcomes.length).toBeGreaterThan(orders.length * 2);

      // No message lost: each confirmed order is one delivered email, counted at the sink and in the table.
      await waitFor(
        () =>
          orders.every((id) =>
            sink.mails.some((mail) => mail.header("X-Correlation-Id") === id),
          )
            ? true
            : undefined,
        { timeoutMs: 60_000, what: `emails for ${orders.length} orders` },
      );
      for (const id of orders)
        expect(
          sink.mails.filter((mail) => mail.header("X-Correlation-Id") === id),
          id,
        ).toHaveLength(1);
      const { rows } = await db.query<{ confirmed: number; delivered: number }>(
        `SELECT (SELECT count(*)::int FROM orders.orders WHERE id = ANY($1::uuid[]) AND status = 'CONFIRMED') AS confirmed,
              (SELECT count(*)::int FROM notifications.deliveries WHERE correlation_id = ANY($2::text[]) AND event_type = 'orders.order.confirmed' AND status = 'DELIVERED') AS delivered`,
        [orderIds, orders],
      );
      expect(rows[0]).toEqual({
        confirmed: orders.length,
        delivered: orders.length,
      });
    }, 150_000);
  },
);
