import { createClient as createSseClient } from "graphql-sse";
import { createClient as createWsClient, type Client } from "graphql-ws";
import WebSocket from "ws";

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
