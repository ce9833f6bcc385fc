import type { Logger } from "../../platform/logger.ts";
import {
  withSubgraphSettings,
  type RouterConfig,
  type RouterSecurityConfig,
  type SubgraphSettings,
} from "../../router/config.ts";
import type { Router } from "../../router/server.ts";
import type { Stack } from "../../stack.ts";
import { serveRouter, silentLogger } from "./stack.ts";

/** The subgraphs a test's own router sends to (notifications keeps its supergraph URL). */
const ROUTED = ["users", "products", "orders", "payments"] as const;
type Routed = (typeof ROUTED)[number];

/** `base`'s security settings with what makes a test's router trusted by the stack's subgraphs. */
export function ownRouterSecurity(
  stack: Stack,
  base: RouterConfig,
  internalTokenSecret: string,
): RouterSecurityConfig {
  return {
    ...base.security,
    internalTokenSecret,
    jwksUrl: stack.subgraphs.users.url.replace(
      "/graphql",
      "/.well-known/jwks.json",
    ),
  };
}

/**
 * A router of a test's own in front of a booted stack's subgraphs, listening on port 0: `urls`
 * replaces some subgraphs' instances (proxies, gates), `settings` changes every subgraph's traffic
 * settings. Its stop is pushed onto `cleanups`.
 */
export async function startOwnRouter(
  stack: Stack,
  {
    base,
    internalTokenSecret,
    cleanups,
    urls = {},
    settings = {},
    logger = silentLogger,
  }: {
    base: RouterConfig;
    internalTokenSecret: string;
    cleanups: Array<() => Promise<void>>;
    urls?: Partial<Record<Routed, string[]>>;
    settings?: Partial<SubgraphSettings>;
    logger?: Logger;
  },
): Promise<{ url: string; base: string; router: Router }> {
  const changes: Record<string, Partial<SubgraphSettings>> = {};
  for (const name of ROUTED)
    changes[name] = {
      ...settings,
      discovery: {
        kind: "static",
        urls: urls[name] ?? [stack.subgraphs[name].url],
      },
    };
  const served = await serveRouter(
    {
      ...withSubgraphSettings(base, changes),
      security: ownRouterSecurity(stack, base, internalTokenSecret),
    },
    logger,
  );
  cleanups.push(served.stop);
  return {
    url: served.url,
    base: served.url.replace(/\/graphql$/, ""),
    router: served.router,
  };
}
