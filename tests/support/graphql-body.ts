/**
 * Raw GraphQL-over-HTTP posts for tests that shape the request body themselves (persisted-query
 * extensions, `documentId`, `operationName`, ...), where `gql` (./graphql.ts) sends only a query and
 * its variables.
 */
import type { GraphQLResponse } from "./graphql.ts";

/** Posts `body` as JSON and returns the status with the parsed response body. */
export async function postGraphQLBody(
  url: string,
  body: object,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Omit<GraphQLResponse, "status"> }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Omit<GraphQLResponse, "status">,
  };
}
