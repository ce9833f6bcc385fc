import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import type { ChannelSender } from "../../events/channels.ts";
import type { EventLog } from "../../events/event-log.ts";
import { createMemoryJobQueue } from "../../events/job-queue.ts";
import type { StackOptions } from "../../stack.ts";
import { silentLogger } from "./stack.ts";

/** One message a live client received: a result, or how the stream ended. */
export type LiveMessage =
  | {
      kind: "next";
      data: unknown;
      errors?: Array<{
        message: string;
        extensions?: { code?: string };
        path?: unknown[];
      }>;
    }
  | { kind: "error"; error: unknown }
  | { kind: "complete" };

/** A subscription held by a test: what arrived so far, and how to stop it. */
export interface HeldSubscription {
  readonly messages: LiveMessage[];
  /** The `data` payloads received, in order. */
  results(): unknown[];
  codes(): string[];
  readonly done: boolean;
  stop(): void;
}

function hold(
  start: (sink: {
    next(value: { data?: unknown; errors?: unknown }): void;
    error(error: unknown): void;
    complete(): void;
  }) => () => void,
): HeldSubscription {
  const messages: LiveMessage[] = [];
  let done = false;
  const stop = start({
    next: (value) =>
      messages.push({
        kind: "next",
        data: value.data ?? null,
        ...(value.errors
          ? {
              errors: value.errors as Extract<
                LiveMessage,
                { kind: "next" }
              >["errors"],
            }
          : {}),
      }),
    error: (error) => {
      done = true;
      messages.push({ kind: "error", error });
    },
    complete: () => {
      done = true;
      messages.push({ kind: "complete" });
    },
  });
  return {
    messages,
    results: () =>
      messages.flatMap((message) =>
        message.kind === "next" && message.data ? [message.data] : [],
      ),
    codes: () =>
      messages.flatMap((message) => {
        if (message.kind === "next")
          return (message.errors ?? []).map(
            (error) => error.extensions?.code ?? "",
          );
        if (message.kind === "error" && Array.isArray(message.error))
          return (
            message.error as Array<{ extensions?: { code?: string } }>
          ).map((error) => error.extensions?.code ?? "");
        return [];
      }),
    get done() {
      return done;
    },
    stop,
  };
}

/** A graphql-transport-ws client on the router's `/graphql`, the token in `connection_init`. */
export function wsClient(
  routerUrl: string,
  headers: Record<string, string> = {},
): Client & { closedWith: () => number | undefined } {
  let closeCode: number | undefined;
  const client = createWsClient({
    url: routerUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: headers.authorization
      ? { authorization: headers.authorization }
      : {},
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => (closeCode = (event as { code?: number }).code) },
  });
  return Object.assign(client, { closedWith: () => closeCode });
}

export function subscribeWs(
  client: Client,
  query: string,
  variables: Record<string, unknown> = {},
): HeldSubscription {
  return hold((sink) => client.subscribe({ query, variables }, sink));
}

/** A graphql-sse client (distinct connections) on the router's `/graphql/stream`. */
export function subscribeSse(
  routerUrl: string,
  headers: Record<string, string>,
  query: string,
  variables: Record<string, unknown> = {},
): HeldSubscription {
  const client = createSseClient({
    url: `${routerUrl}/stream`,
    headers,
    retryAttempts: 0,
  });
  return hold((sink) => {
    const stop = client.subscribe({ query, variables }, sink);
    return () => {
      stop();
      client.dispose();
    };
  });
}

const quiet: ChannelSender = { transport: "test", send: async () => undefined };
const retry = { delaysMs: [50], maxAttempts: 2 };

/**
 * The event pipeline live-update tests run in their stack: order events on `eventLog` (under
 * `topicPrefix`, which also names the worker's group), jobs in process, deliveries dropped.
 */
export function livePipeline(
  eventLog: EventLog,
  topicPrefix?: string,
): NonNullable<StackOptions["events"]> {
  return {
    eventLog,
    jobQueue: createMemoryJobQueue({ logger: silentLogger, retry }),
    senders: { email: quiet, sms: quiet, push: quiet },
    retry,
    relayPollIntervalMs: 50,
    ...(topicPrefix ? { topicPrefix, groupId: topicPrefix } : {}),
  };
}

/** Fields from four subgraphs: orders (status), users (name), products (name), payments (status). */
export const FOLLOW = `subscription Follow($id: ID) {
  orderUpdated(id: $id) {
    id status
    user { name }
    items { quantity product { name } }
    payment { status }
  }
}`;

/** One result of FOLLOW. */
export interface Followed {
  orderUpdated: {
    id: string;
    status: string;
    user: { name: string } | null;
    items: Array<{ quantity: number; product: { name: string } | null }>;
    payment: { status: string } | null;
  };
}

/** myNotifications with its own fields and the recipient's name from the users subgraph. */
export const NOTIFIED = `subscription Notified {
  myNotifications { id channel subject eventType correlationId deliveredAt user { name } }
}`;

/** One result of NOTIFIED. */
export interface Notified {
  myNotifications: {
    id: string;
    channel: string;
    subject: string;
    eventType: string;
    correlationId: string;
    deliveredAt: string;
    user: { name: string } | null;
  };
}
