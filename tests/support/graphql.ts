/** GraphQL over HTTP for tests, with no import of the stack (a subgraph test needs only this). */

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  data?: Data | null;
  errors?: Array<{
    message: string;
    path?: Array<string | number>;
    extensions?: Record<string, unknown>;
  }>;
  /** The response's own extensions (e.g. `planDebug`, router/plan-debug/recorder.ts). */
  extensions?: Record<string, unknown>;
}

/** Test responses are asserted field by field against expected values, so they stay untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function gql<Data = Json>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<Data>> {
  const { status, body } = await postGraphQLBody<Data>(
    url,
    { query, variables },
    headers,
  );
  return { status, ...body };
}

/**
 * Posts `body` as JSON and returns the status with the parsed response body: for tests that shape
 * the request body themselves (persisted-query extensions, `documentId`, `operationName`, ...),
 * where `gql` sends only a query and its variables.
 */
export async function postGraphQLBody<Data = Json>(
  url: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Omit<GraphQLResponse<Data>, "status"> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Omit<GraphQLResponse<Data>, "status">,
  };
}
