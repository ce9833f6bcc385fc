import type { IncomingMessage } from "node:http";
import type { InternalTokenSigner } from "../platform/internal-token.ts";
import type { Principal } from "../platform/principal.ts";
import type { JwtVerifier } from "./auth/verify-jwt.ts";

/** What every router request carries from the HTTP layer into plugins and data sources. */
export interface RouterContext {
  /** The verified caller; null for anonymous requests. */
  readonly principal: Principal | null;
  /** Rate-limit identity: `user:<id>` when signed in, else `ip:<address>`. */
  readonly clientId: string;
  /** The client's address: the socket's peer, or what a trusted proxy says (router/client-address.ts). */
  readonly clientAddress: string;
  /** The router token forwarded to subgraphs, signed once per request on first use. */
  internalToken(): Promise<string>;
  /** Epoch ms by which every subgraph fetch of this client request must be over. */
  readonly deadlineAt: number;
  /** Set when the router already counted this request against the rate limits (response sharing). */
  readonly rateLimitAdmitted?: boolean;
}

/**
 * Builds the context from the request: verifies the bearer token (a bad one throws a coded 401
 * before any plan runs) and derives the client identity. The client address is the socket's peer
 * unless that peer is a configured trusted proxy (`clientAddressOf`, router/client-address.ts).
 */
export function createContextFactory({
  verifier,
  signer,
  requestDeadlineMs,
  clientAddressOf,
}: {
  verifier: JwtVerifier;
  signer: InternalTokenSigner;
  requestDeadlineMs: number;
  clientAddressOf: (req: IncomingMessage) => string;
}) {
  return async (req: IncomingMessage): Promise<RouterContext> => {
    const deadlineAt = Date.now() + requestDeadlineMs;
    const principal = await verifier.verify(req.headers.authorization);
    const clientAddress = clientAddressOf(req);
    let token: Promise<string> | undefined;
    return {
      principal,
      clientId: principal ? `user:${principal.id}` : `ip:${clientAddress}`,
      clientAddress,
      internalToken: () => (token ??= signer.sign(principal)),
      deadlineAt,
    };
  };
}
