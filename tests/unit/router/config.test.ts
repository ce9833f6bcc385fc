import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../platform/config.ts";
import {
  DEFAULT_ADMIN_PORT,
  loadRouterConfig,
  subgraphSettings,
} from "../../../router/config.ts";

describe("router config", () => {
  it("reads a comma-separated instance list and per-subgraph overrides of router-wide settings", () => {
    const config = loadRouterConfig({
      PRODUCTS_URL: "http://a:4002/graphql, http://b:4002/graphql",
      ROUTER_SUBGRAPH_TIMEOUT_MS: "2000",
      PAYMENTS_TIMEOUT_MS: "500",
      PAYMENTS_BREAKER_VOLUME_THRESHOLD: "9",
    });
    expect(subgraphSettings(config, "products").discovery).toEqual({
      kind: "static",
      urls: ["http://a:4002/graphql", "http://b:4002/graphql"],
    });
    expect(subgraphSettings(config, "products").timeoutMs).toBe(2000);
    expect(subgraphSettings(config, "payments").timeoutMs).toBe(500);
    expect(subgraphSettings(config, "payments").breaker.volumeThreshold).toBe(
      9,
    );
    expect(subgraphSettings(config, "users").breaker.volumeThreshold).toBe(5);
    expect(subgraphSettings(config, "inventory")).toBe(config.subgraphDefaults);
  });

  it("selects DNS discovery for one URL and refuses it for a list", () => {
    expect(
      subgraphSettings(
        loadRouterConfig({
          ORDERS_URL: "http://orders.internal:4003/graphql",
          ORDERS_DISCOVERY: "dns",
        }),
        "orders",
      ).discovery,
    ).toMatchObject({ kind: "dns", refreshMs: 10_000 });
    expect(() =>
      loadRouterConfig({
        ORDERS_URL: "http://a/graphql,http://b/graphql",
        ORDERS_DISCOVERY: "dns",
      }),
    ).toThrow(/ORDERS_URL/);
  });

  it.each([
    [{ PRODUCTS_URL: "http://ok/graphql,not a url" }, "PRODUCTS_URL"],
    [{ USERS_TIMEOUT_MS: "soon" }, "USERS_TIMEOUT_MS"],
    [{ ROUTER_BREAKER_ERROR_PERCENT: "0" }, "ROUTER_BREAKER_ERROR_PERCENT"],
    [{ ROUTER_LOAD_BALANCER: "random" }, "ROUTER_LOAD_BALANCER"],
    [{ PAYMENTS_DISCOVERY: "consul" }, "PAYMENTS_DISCOVERY"],
    [
      { ROUTER_RETRY_BASE_DELAY_MS: "500", ROUTER_RETRY_MAX_DELAY_MS: "100" },
      "ROUTER_RETRY_MAX_DELAY_MS",
    ],
  ])("fails fast naming the variable for %j", (env, variable) => {
    expect(() => loadRouterConfig(env)).toThrow(ConfigError);
    expect(() => loadRouterConfig(env)).toThrow(variable);
  });
});

const production = {
  NODE_ENV: "production",
  INTERNAL_TOKEN_SECRET: "s".repeat(40),
};

describe("the router admin listener settings", () => {
  it("default to a loopback admin port in production and to none in development", () => {
    expect(loadRouterConfig(production)).toMatchObject({
      adminPort: DEFAULT_ADMIN_PORT,
      adminHost: "127.0.0.1",
    });
    expect(loadRouterConfig({})).toMatchObject({
      adminPort: undefined,
      adminHost: "127.0.0.1",
    });
  });

  it("take ROUTER_ADMIN_PORT (0 = any free port) and ROUTER_ADMIN_HOST, and refuse a bad port by name", () => {
    expect(
      loadRouterConfig({
        ...production,
        ROUTER_ADMIN_PORT: "9400",
        ROUTER_ADMIN_HOST: "0.0.0.0",
      }),
    ).toMatchObject({ adminPort: 9400, adminHost: "0.0.0.0" });
    expect(loadRouterConfig({ ROUTER_ADMIN_PORT: "0" }).adminPort).toBe(0);
    expect(() => loadRouterConfig({ ROUTER_ADMIN_PORT: "70000" })).toThrow(
      /ROUTER_ADMIN_PORT/,
    );
  });
});
