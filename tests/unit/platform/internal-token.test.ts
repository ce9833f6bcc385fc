import { describe, expect, it } from "vitest";
import { ConfigError, readCommonConfig } from "../../../platform/config.ts";
import {
  DEV_INTERNAL_TOKEN_SECRET,
  readInternalTokenSecret,
} from "../../../platform/internal-token.ts";
import { loadRouterConfig } from "../../../router/config.ts";

const SECRET = "k".repeat(48);

describe("security configuration", () => {
  it("refuses to start in production without INTERNAL_TOKEN_SECRET, naming the variable", () => {
    expect(() => readInternalTokenSecret({}, { production: true })).toThrow(
      /INTERNAL_TOKEN_SECRET must be set/,
    );
    expect(() => loadRouterConfig({ NODE_ENV: "production" })).toThrow(
      ConfigError,
    );
    expect(() => readCommonConfig({ NODE_ENV: "production" })).toThrow(
      /INTERNAL_TOKEN_SECRET/,
    );
  });

  it("refuses the development default and short secrets in production", () => {
    expect(() =>
      readInternalTokenSecret(
        { INTERNAL_TOKEN_SECRET: DEV_INTERNAL_TOKEN_SECRET },
        { production: true },
      ),
    ).toThrow(/development default/);
    expect(() =>
      readInternalTokenSecret(
        { INTERNAL_TOKEN_SECRET: "short" },
        { production: false },
      ),
    ).toThrow(/at least 32/);
    expect(
      readInternalTokenSecret(
        { INTERNAL_TOKEN_SECRET: SECRET },
        { production: true },
      ),
    ).toBe(SECRET);
  });

  it("uses the fixed development secret outside production so separately started services agree", () => {
    expect(readInternalTokenSecret({}, { production: false })).toBe(
      DEV_INTERNAL_TOKEN_SECRET,
    );
  });

  it("derives JWKS_URL from USERS_URL, defaults to the local users port, and lets JWKS_URL win", () => {
    expect(loadRouterConfig({}).security.jwksUrl).toBe(
      "http://localhost:4001/.well-known/jwks.json",
    );
    expect(
      loadRouterConfig({ USERS_URL: "http://users.internal:4101/graphql" })
        .security.jwksUrl,
    ).toBe("http://users.internal:4101/.well-known/jwks.json");
    expect(
      loadRouterConfig({
        USERS_URL: "http://users.internal:4101/graphql",
        JWKS_URL: "https://keys.example/jwks.json",
      }).security.jwksUrl,
    ).toBe("https://keys.example/jwks.json");
  });

  it("parses rate limits and operation limits, rejecting malformed values by name", () => {
    const { rateLimit, operationLimits } = loadRouterConfig({
      ROUTER_RATE_LIMIT: "50/10s",
      ROUTER_RATE_LIMIT_FIELDS: "Mutation.logIn=5/1m, Query.products=100/1h",
      ROUTER_MAX_DEPTH: "8",
    }).security;
    expect(rateLimit.default).toEqual({ max: 50, windowMs: 10_000 });
    expect(rateLimit.fields).toEqual({
      "Mutation.logIn": { max: 5, windowMs: 60_000 },
      "Query.products": { max: 100, windowMs: 3_600_000 },
    });
    expect(rateLimit.redisUrl).toBeUndefined();
    expect(operationLimits.maxDepth).toBe(8);
    expect(
      loadRouterConfig({}).security.rateLimit.fields["Mutation.logIn"],
    ).toEqual({ max: 30, windowMs: 60_000 });
    expect(() => loadRouterConfig({ ROUTER_RATE_LIMIT: "lots" })).toThrow(
      /ROUTER_RATE_LIMIT/,
    );
    expect(() =>
      loadRouterConfig({ ROUTER_RATE_LIMIT_FIELDS: "logIn=5/1m" }),
    ).toThrow(/ROUTER_RATE_LIMIT_FIELDS/);
    expect(() => loadRouterConfig({ ROUTER_RATE_LIMIT: "5/0s" })).toThrow(
      /ROUTER_RATE_LIMIT/,
    );
    expect(() => loadRouterConfig({ REDIS_URL: "not a url" })).toThrow(
      /REDIS_URL/,
    );
  });
});
