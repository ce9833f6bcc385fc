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
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<Data>, "status">;
  return { status: response.status, ...body };
}
