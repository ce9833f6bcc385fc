import { createRemoteJWKSet, errors as joseErrors, jwtVerify } from "jose";
import { GraphQLError } from "graphql";
import { HeaderMap } from "@apollo/server";
import { codedError } from "../../platform/errors.ts";
import { isId } from "../../platform/ids.ts";
import type { Principal } from "../../platform/principal.ts";
import { createTokenCache } from "../../platform/token-cache.ts";

/** The only algorithm users signs with; `none`, HS* (key confusion) and everything else are refused. */
export const ACCEPTED_ALGORITHMS = ["ES256"];

export interface JwtVerifierOptions {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /**
   * After a JWKS fetch, how long an unknown `kid` is rejected without refetching. Without it every
   * request with a made-up `kid` would cost a fetch to users. @default 30000
   */
  cooldownMs: number;
  /** How long fetched keys are trusted before a refetch. @default 600000 */
  cacheMaxAgeMs: number;
  /** JWKS fetch timeout. @default 2000 */
  timeoutMs: number;
  /** Allowed clock skew between users and the router. @default 5 */
  clockToleranceSeconds?: number;
}

function unauthenticated(message: string, reason: string): GraphQLError {
  const error = codedError("UNAUTHENTICATED", message, { reason });
  error.extensions.http = {
    status: 401,
    headers: new HeaderMap([
      ["www-authenticate", 'Bearer error="invalid_token"'],
    ]),
  };
  return error;
}

/**
 * Verifies `Authorization: Bearer` access tokens against the users service's JWKS. jose's remote
 * key set caches the imported keys (nothing is imported per request), refetches when a token names
 * an unknown `kid` (key rotation), and rate-limits those refetches with `cooldownMs`.
 */
export function createJwtVerifier({
  jwksUrl,
  issuer,
  audience,
  cooldownMs,
  cacheMaxAgeMs,
  timeoutMs,
  clockToleranceSeconds = 5,
}: JwtVerifierOptions) {
  const jwks = createRemoteJWKSet(new URL(jwksUrl), {
    cooldownDuration: cooldownMs,
    cacheMaxAge: cacheMaxAgeMs,
    timeoutDuration: timeoutMs,
  });
  // Successful verifications only, each until its token's `exp` (and at most a minute).
  const verified = createTokenCache<VerifiedToken>();
  /** The caller and when their token expires; null without an Authorization header; a coded 401 otherwise. */
  async function verifyToken(
    authorization: string | undefined,
  ): Promise<VerifiedToken | null> {
    if (authorization === undefined || authorization === "") return null;
    const match =
      /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(
        authorization.trim(),
      );
    if (!match)
      throw unauthenticated(
        'Authorization must be "Bearer <JWT>"',
        "malformed",
      );
    const cached = verified.get(match[1]!);
    if (cached) return cached.value;
    let payload;
    try {
      ({ payload } = await jwtVerify(match[1]!, jwks, {
        issuer,
        audience,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: clockToleranceSeconds,
        requiredClaims: ["sub", "exp"],
      }));
    } catch (error) {
      if (
        error instanceof joseErrors.JWKSTimeout ||
        error instanceof joseErrors.JWKSInvalid ||
        !(error instanceof joseErrors.JOSEError)
      ) {
        // The key server is down: not the client's fault, and not a reason to let the request through.
        const unavailable = codedError(
          "SUBGRAPH_UNAVAILABLE",
          "cannot verify the token right now",
          { service: "users" },
        );
        unavailable.extensions.http = { status: 503 };
        throw unavailable;
      }
      if (error instanceof joseErrors.JWTExpired)
        throw unauthenticated("token expired", "expired");
      throw unauthenticated(
        "invalid token",
        (error as InstanceType<typeof joseErrors.JOSEError>).code,
      );
    }
    if (!isId(payload.sub)) throw unauthenticated("invalid token", "subject");
    const scopes =
      typeof payload.scope === "string" && payload.scope !== ""
        ? payload.scope.split(" ")
        : [];
    const principal: Principal = {
      id: payload.sub.toLowerCase(),
      role: payload.role === "ADMIN" ? "ADMIN" : "CUSTOMER",
      scopes,
    };
    const token = { principal, expiresAt: payload.exp! * 1000 };
    verified.set(match[1]!, token, token.expiresAt);
    return token;
  }
  return {
    verifyToken,
    /** The caller, null when the request carries no Authorization header; throws a coded 401 otherwise. */
    async verify(authorization: string | undefined): Promise<Principal | null> {
      return (await verifyToken(authorization))?.principal ?? null;
    },
  };
}

/** A verified access token: who it names, and until when (its `exp`, ms since the epoch). */
export interface VerifiedToken {
  readonly principal: Principal;
  readonly expiresAt: number;
}

export type JwtVerifier = ReturnType<typeof createJwtVerifier>;
