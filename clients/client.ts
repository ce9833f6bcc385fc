/**
 * A small typed GraphQL client for Switchyard: `fetch` plus the documents `npm run codegen` generates
 * from clients/operations/*.graphql. It depends on nothing but the generated file and, for
 * `subscribe`, the zero-dependency `graphql-sse` client, so a storefront or an admin tool can copy
 * clients/ as it is.
 *
 * ```ts
 * const client = createClient({ url: 'http://localhost:4000/graphql' });
 * const { logIn } = await client.request(LogInDocument, { email, password });
 * client.setToken(logIn.token);
 * const { placeOrder } = await client.request(PlaceOrderDocument, { input });
 * for await (const { data } of client.subscribe(FollowOrderDocument, { id })) console.log(data);
 * ```
 *
 * Trusted documents (docs/trusted-documents.md): for a document `npm run codegen` generated, the
 * client sends its id in Apollo's shape — `{"extensions": {"persistedQuery": {"version": 1,
 * "sha256Hash": "<id>"}}, "variables": …}`, no `query` — so a router in `enforce` mode runs it and
 * no router parses a request body full of text. A router without the manifest answers
 * PERSISTED_QUERY_NOT_FOUND; the client then sends that document's text, now and for the rest of
 * its life, so it works against any router at the price of one extra round trip per document.
 */
import { createClient as createSseClient } from "graphql-sse";
import type { TypedDocumentString } from "./generated/graphql.ts";
import { PERSISTED_DOCUMENT_IDS } from "./generated/persisted-documents.ts";

/** One entry of a GraphQL response's `errors`; `extensions.code` is one of docs/errors.md. */
export interface GraphQLErrorEntry {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string; [key: string]: unknown };
}

/** What the server answered, partial data included (a field can fail while the others arrive). */
export interface ExecutionResult<TResult> {
  data: TResult | null;
  errors: GraphQLErrorEntry[];
  status: number;
}

/**
 * Codes the client itself raises, besides the server's: NETWORK_ERROR (no HTTP response: refused,
 * reset, aborted by `timeoutMs`) and BAD_RESPONSE (an HTTP answer that is not a GraphQL response).
 */
export type ClientErrorCode = "NETWORK_ERROR" | "BAD_RESPONSE";

/** Thrown by `request` when the response has errors, or when no usable response came back. */
export class ClientError extends Error {
  /** The first error's `extensions.code` (e.g. `INSUFFICIENT_STOCK`), or a ClientErrorCode. */
  readonly code: string;
  readonly status: number | undefined;
  readonly errors: readonly GraphQLErrorEntry[];
  /** Whatever data arrived alongside the errors. */
  readonly data: unknown;
  constructor(
    message: string,
    {
      code,
      status,
      errors = [],
      data = null,
      cause,
    }: {
      code: string;
      status?: number;
      errors?: GraphQLErrorEntry[];
      data?: unknown;
      cause?: unknown;
    },
  ) {
    super(message, { cause });
    this.name = "ClientError";
    this.code = code;
    this.status = status;
    this.errors = errors;
    this.data = data;
  }
}

export interface ClientOptions {
  /** The router's GraphQL endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; `setToken` changes it later. */
  token?: string;
  /** Extra headers on every request (e.g. a correlation id). */
  headers?: Record<string, string>;
  /**
   * Aborts a request that has not answered after this long (NETWORK_ERROR).
   * @default 15000
   */
  timeoutMs?: number;
  /** @default globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * Send generated documents by id (trusted documents) instead of their text.
   * @default true
   */
  persistedDocuments?: boolean;
}

/** Operations without variables take none; the others take exactly their generated variables type. */
type VariablesArgument<TVariables> =
  TVariables extends Record<string, never>
    ? [variables?: TVariables]
    : [variables: TVariables];

export function createClient({
  url,
  token: initialToken,
  headers = {},
  timeoutMs = 15_000,
  fetch: fetchImpl = globalThis.fetch,
  persistedDocuments = true,
}: ClientOptions) {
  let token = initialToken;
  /** Ids this router did not know (PERSISTED_QUERY_NOT_FOUND): their text is sent instead. */
  const unknownIds = new Set<string>();

  async function execute<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...[variables]: VariablesArgument<TVariables>
  ): Promise<ExecutionResult<TResult>> {
    const id = persistedDocuments
      ? PERSISTED_DOCUMENT_IDS.get(document)
      : undefined;
    if (id !== undefined && !unknownIds.has(id)) {
      const byId = await send<TResult>({
        extensions: { persistedQuery: { version: 1, sha256Hash: id } },
        variables: variables ?? {},
      });
      if (
        !byId.errors.some(
          (error) => error.extensions?.code === "PERSISTED_QUERY_NOT_FOUND",
        )
      )
        return byId;
      unknownIds.add(id);
    }
    return send<TResult>({
      query: document.toString(),
      variables: variables ?? {},
    });
  }

  async function send<TResult>(
    payload: Record<string, unknown>,
  ): Promise<ExecutionResult<TResult>> {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        method: "POST",
        // A JSON content type also satisfies the router's CSRF prevention.
        headers: {
          "content-type": "application/json",
          accept: "application/graphql-response+json, application/json",
          ...headers,
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ClientError(
        `request to ${url} failed: ${(error as Error).message}`,
        { code: "NETWORK_ERROR", cause: error },
      );
    }
    const text = await response.text();
    let body: { data?: TResult | null; errors?: GraphQLErrorEntry[] };
    try {
      body = JSON.parse(text) as typeof body;
    } catch (error) {
      throw new ClientError(
        `HTTP ${response.status} from ${url} is not a GraphQL response: ${text.slice(0, 200)}`,
        { code: "BAD_RESPONSE", status: response.status, cause: error },
      );
    }
    if (
      typeof body !== "object" ||
      body === null ||
      (!("data" in body) && !Array.isArray(body.errors))
    ) {
      throw new ClientError(
        `HTTP ${response.status} from ${url} has neither data nor errors`,
        { code: "BAD_RESPONSE", status: response.status },
      );
    }
    return {
      data: body.data ?? null,
      errors: body.errors ?? [],
      status: response.status,
    };
  }

  /**
   * Follows a subscription over GraphQL-over-SSE (`<url>/stream`, the graphql-sse protocol): each
   * result as the router resolves it, until the caller stops iterating (`break`) or the router ends
   * the stream (a last message with SUBSCRIPTION_CLOSED or SUBSCRIBER_TOO_SLOW, then done).
   */
  async function* subscribe<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    variables: TVariables,
    {
      onConnected,
    }: {
      /** Called once the router holds the subscription: events from then on reach this stream. */
      onConnected?: () => void;
    } = {},
  ): AsyncGenerator<ExecutionResult<TResult>, void, undefined> {
    const sse = createSseClient({
      url: `${url}/stream`,
      headers: () => ({
        ...headers,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      }),
      fetchFn: fetchImpl,
      retryAttempts: 0,
    });
    try {
      for await (const result of sse.iterate<TResult>(
        {
          query: document.toString(),
          variables: (variables ?? {}) as Record<string, unknown>,
        },
        { connected: () => onConnected?.() },
      ))
        yield {
          data: result.data ?? null,
          // graphql-sse types them as GraphQLError; on the wire they are the same JSON entries.
          errors: (result.errors ?? []) as unknown as GraphQLErrorEntry[],
          status: 200,
        };
    } finally {
      sse.dispose();
    }
  }

  return {
    subscribe,
    /** Runs an operation and returns its data; throws ClientError when the response carries errors. */
    async request<TResult, TVariables>(
      document: TypedDocumentString<TResult, TVariables>,
      ...variables: VariablesArgument<TVariables>
    ): Promise<TResult> {
      const result = await execute(document, ...variables);
      const [first] = result.errors;
      if (first || result.data === null) {
        const code = first?.extensions?.code ?? "BAD_RESPONSE";
        throw new ClientError(first?.message ?? "response has no data", {
          code,
          status: result.status,
          errors: result.errors,
          data: result.data,
        });
      }
      return result.data;
    },
    /** Runs an operation and returns data and errors as they came (for partial results). */
    execute,
    /** Signs later requests in (a token from `logIn`/`signUp`), or out with `undefined`. */
    setToken(next: string | undefined): void {
      token = next;
    },
  };
}

export type SwitchyardClient = ReturnType<typeof createClient>;
