import { createSecretKey, type KeyObject } from "node:crypto";
import { SignJWT, errors as joseErrors, jwtVerify } from "jose";
import {
  DEV_INTERNAL_TOKEN_SECRET,
  readInternalTokenSecret,
} from "./config.ts";
import type { Principal } from "./principal.ts";
import { createTokenCache } from "./token-cache.ts";

/**
 * The router → subgraph identity token. The router verifies the client's ES256 token and forwards
 * the principal as a short-lived HS256 token signed with INTERNAL_TOKEN_SECRET, which only the
 * router and the subgraphs know. Subgraphs trust nothing else: no token (or a bad one) is a 401,
 * so a client that reaches a subgraph directly, with or without a forged `x-user-id`, gets nothing.
 * HS256 keeps verification to one HMAC per subgraph request; the price is that a subgraph could mint
 * router tokens, which is acceptable while every subgraph is ours (an asymmetric router key would
 * remove that, at ~30x the verification cost).
 */
export const INTERNAL_TOKEN_HEADER = "x-switchyard-internal-token";
const ISSUER = "switchyard-router";
const AUDIENCE = "switchyard-subgraphs";
const ALGORITHM = "HS256";
/** Long enough for one plan's fetches (retries included), short enough to be useless if logged. */
const TTL_SECONDS = 60;

export { DEV_INTERNAL_TOKEN_SECRET, readInternalTokenSecret };

function keyFor(secret: string): KeyObject {
  return createSecretKey(Buffer.from(secret, "utf8"));
}

export function createInternalTokenSigner({ secret }: { secret: string }) {
  const key = keyFor(secret);
  // A caller's token is reused for the first half of its lifetime: a subgraph always receives one
  // with at least TTL/2 left, and the router signs once per caller per 30 s instead of per request.
  const issued = createTokenCache<Promise<string>>({
    maxAgeMs: (TTL_SECONDS * 1000) / 2,
  });
  return {
    /** A token for `principal`; `null` is an anonymous caller (the token still proves the router sent it). */
    sign(principal: Principal | null): Promise<string> {
      const cacheKey = principal
        ? `${principal.id}|${principal.role}|${principal.scopes.join(" ")}`
        : "";
      const cached = issued.get(cacheKey);
      if (cached) return cached.value;
      const token = signFresh(principal);
      issued.set(cacheKey, token, Date.now() + (TTL_SECONDS * 1000) / 2);
      return token;
    },
  };

  function signFresh(principal: Principal | null): Promise<string> {
    const jwt = new SignJWT(
      principal
        ? { role: principal.role, scope: principal.scopes.join(" ") }
        : {},
    )
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(`${TTL_SECONDS}s`);
    if (principal) jwt.setSubject(principal.id);
    return jwt.sign(key);
  }
}

export type InternalTokenSigner = ReturnType<typeof createInternalTokenSigner>;

export class InternalTokenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "InternalTokenError";
  }
}

export function createInternalTokenVerifier({ secret }: { secret: string }) {
  const key = keyFor(secret);
  const verified = createTokenCache<Principal | null>();
  return {
    /** The principal the router vouches for (null = anonymous); throws InternalTokenError otherwise. */
    async verify(token: string | undefined): Promise<Principal | null> {
      if (!token) throw new InternalTokenError("missing router token");
      const cached = verified.get(token);
      if (cached) return cached.value;
      try {
        const { payload } = await jwtVerify(token, key, {
          issuer: ISSUER,
          audience: AUDIENCE,
          algorithms: [ALGORITHM],
          requiredClaims: ["exp", "iat"],
        });
        const role = payload.role === "ADMIN" ? "ADMIN" : "CUSTOMER";
        const scopes =
          typeof payload.scope === "string" && payload.scope !== ""
            ? payload.scope.split(" ")
            : [];
        const principal: Principal | null =
          payload.sub === undefined ? null : { id: payload.sub, role, scopes };
        verified.set(token, principal, payload.exp! * 1000);
        return principal;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError)
          throw new InternalTokenError(`invalid router token: ${error.code}`, {
            cause: error,
          });
        throw error;
      }
    },
  };
}

export type InternalTokenVerifier = ReturnType<
  typeof createInternalTokenVerifier
>;
