import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../platform/internal-token.ts";
import { DownstreamUnavailableError, type Recipient } from "./channels.ts";

/** Finds where to reach a user. The users service owns that data; nothing reads its tables. */
export interface RecipientDirectory {
  lookup(userId: string): Promise<Recipient | undefined>;
}

/**
 * Asks the users subgraph for the user's email through the federation entity resolver, the same
 * way the router does (no user table is read from here).
 */
export function createUsersSubgraphDirectory({
  usersGraphqlUrl,
  internalTokenSecret,
  timeoutMs = 3000,
}: {
  usersGraphqlUrl: string;
  internalTokenSecret: string;
  timeoutMs?: number;
}): RecipientDirectory {
  const signer = createInternalTokenSigner({ secret: internalTokenSecret });
  return {
    async lookup(userId) {
      // Subgraphs answer router-signed requests only, and show an email to its owner (or an admin):
      // the directory asks as the recipient, the least privilege that can read that one address.
      const token = await signer.sign({
        id: userId,
        role: "CUSTOMER",
        scopes: ["customer"],
      });
      let body: {
        data?: { _entities?: Array<{ email?: string } | null> };
        errors?: unknown[];
      };
      try {
        const response = await fetch(usersGraphqlUrl, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [INTERNAL_TOKEN_HEADER]: token,
          },
          body: JSON.stringify({
            query:
              "query($r: [_Any!]!) { _entities(representations: $r) { ... on User { email } } }",
            variables: { r: [{ __typename: "User", id: userId }] },
          }),
          signal: AbortSignal.timeout(timeoutMs),
        });
        body = (await response.json()) as typeof body;
      } catch (error) {
        throw new DownstreamUnavailableError(
          "users",
          `users subgraph unreachable: ${(error as Error).message}`,
          error,
        );
      }
      const email = body.data?._entities?.[0]?.email;
      return email ? { email } : undefined;
    },
  };
}

export function createStaticDirectory(
  entries: Record<string, Recipient>,
): RecipientDirectory {
  return { lookup: async (userId) => entries[userId] };
}
