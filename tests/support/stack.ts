import { randomBytes } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import type { ChannelSender } from "../../events/channels.ts";
import { createMemoryEventLog } from "../../events/event-log.ts";
import { createMemoryJobQueue } from "../../events/job-queue.ts";
import { loadRouterConfig, type RouterConfig } from "../../router/config.ts";
import type { Storage } from "../../platform/database.ts";
import { listen } from "../../platform/http-server.ts";
import { createRouter, type Router } from "../../router/server.ts";
import { startStack, type Stack, type StackOptions } from "../../stack.ts";
import type { Backend } from "./storage.ts";
import { DEMO_PASSWORD } from "../../platform/demo-data.ts";
import { gql } from "./graphql.ts";
import { silentLogger } from "./logger.ts";
import { TEST_USERS_OPTIONS } from "./users.ts";

export { memoryLogger, silentLogger } from "./logger.ts";
export { gql, type GraphQLResponse, type Json } from "./graphql.ts";

/** Router config as a deployment with only `env` set would get it, for a test to adjust. */
export function testRouterConfig(
  changes: Partial<RouterConfig> = {},
  env: Record<string, string> = {},
): RouterConfig {
  return Object.freeze({
    ...loadRouterConfig({ LOG_LEVEL: "silent", ROUTER_PORT: "0", ...env }),
    ...changes,
  });
}

/** Router defaults as an operator would get them with no environment, for tests to override. */
export function routerDefaults(env: Record<string, string> = {}): RouterConfig {
  return testRouterConfig({}, env);
}

export function bootStack(
  storage: Storage,
  {
    supergraphPath = "supergraph.graphql",
    production = false,
    routerEnv = {} as Record<string, string>,
    internalTokenSecret = randomBytes(32).toString("base64url"),
    logger = silentLogger,
    users = TEST_USERS_OPTIONS,
    ...rest
  }: {
    supergraphPath?: string;
    production?: boolean;
    routerEnv?: Record<string, string>;
    internalTokenSecret?: string;
    logger?: import("pino").Logger;
  } & Pick<
    StackOptions,
    | "internalServiceSecret"
    | "users"
    | "products"
    | "payments"
    | "orders"
    | "events"
  > = {},
): Promise<Stack> {
  return startStack({
    ...rest,
    users,
    storage,
    logger,
    production,
    internalTokenSecret,
    router: testRouterConfig({ production, supergraphPath }, routerEnv),
  });
}

/**
 * The event pipeline on the in-process log and job queue, as `npm start` runs it by default, for
 * `bootStack({ events })`: order events reach the router's live updates (subscriptions).
 * Notifications are delivered nowhere; a test that reads them passes senders of its own.
 */
export function inProcessEvents(): NonNullable<StackOptions["events"]> {
  const retry = { delaysMs: [50], maxAttempts: 2 };
  const nowhere: ChannelSender = {
    transport: "test",
    send: async () => undefined,
  };
  return {
    eventLog: createMemoryEventLog({ logger: silentLogger }),
    jobQueue: createMemoryJobQueue({ logger: silentLogger, retry }),
    senders: { email: nowhere, sms: nowhere, push: nowhere },
    retry,
    relayPollIntervalMs: 50,
  };
}

/** Router subgraph settings that send each subgraph's traffic to the stack's own instance. */
export function staticDiscoveryOf(stack: Stack) {
  return Object.fromEntries(
    Object.entries(stack.subgraphs).map(([name, entry]) => [
      name,
      { discovery: { kind: "static" as const, urls: [entry.url] } },
    ]),
  );
}

/**
 * Logs in through the router and returns the bearer header for that user; every seeded demo
 * account has the published demo password, so only other accounts name theirs.
 */
export async function bearerFor(
  routerUrl: string,
  email: string,
  password: string = DEMO_PASSWORD,
): Promise<Record<string, string>> {
  const { data, errors } = await gql<{ logIn: { token: string } }>(
    routerUrl,
    "mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }",
    { email, password },
  );
  if (!data?.logIn)
    throw new Error(`log in as ${email} failed: ${JSON.stringify(errors)}`);
  return { authorization: `Bearer ${data.logIn.token}` };
}

/**
 * A router of a test's own, started and listening on a free port; `stop` closes the listener, then
 * the router. Pass `stop` to the test's cleanups.
 */
export async function serveRouter(
  config: RouterConfig,
  logger: import("pino").Logger = silentLogger,
): Promise<{ url: string; router: Router; stop(): Promise<void> }> {
  const router = createRouter({ config, logger });
  await router.start();
  const running = await listen(router.handler, { port: 0 });
  return {
    url: `${running.url}/graphql`,
    router,
    async stop() {
      await running.close();
      await router.stop();
    },
  };
}

/** The sum of a counter over all its label sets. */
export async function counterTotal(
  registry: import("prom-client").Registry,
  name: string,
): Promise<number> {
  return Object.values(await counterValues(registry, name)).reduce(
    (sum, value) => sum + value,
    0,
  );
}

/** Reads a counter's current value per label set from a prom-client registry. */
export async function counterValues(
  registry: import("prom-client").Registry,
  name: string,
): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return Object.fromEntries(
    values.map((value) => [Object.values(value.labels).join(","), value.value]),
  );
}

/** Polls `check` until it holds, up to `attempts` times `everyMs`; throws with `what` otherwise. */
export async function waitUntil(
  what: string,
  check: () => boolean | Promise<boolean>,
  { attempts = 200, everyMs = 25 } = {},
): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting until ${what}`);
}

/**
 * One stack for the test file on `backend`, booted before its tests and stopped (its database
 * dropped) after them; call inside a `describe`. Nothing boots when the backend is unavailable:
 * the tests skip with the backend's reason.
 */
export function stackForFile(
  backend: Backend,
  options: Parameters<typeof bootStack>[1] = {},
): () => Stack {
  let stack: Stack | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    if (backend.unavailable) return;
    const opened = await backend.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, options);
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });
  return () => {
    if (!stack) throw new Error(`the stack on ${backend.name} is not running`);
    return stack;
  };
}
