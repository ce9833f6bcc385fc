import type { SupergraphSdlHook } from "@apollo/gateway";

/**
 * Security features the subgraphs enforce themselves (platform/authorization.ts wraps every
 * resolver that carries them), so the router may serve a supergraph that declares them.
 */
const SUBGRAPH_ENFORCED = [
  "https://specs.apollo.dev/authenticated/v0.1",
  "https://specs.apollo.dev/requiresScopes/v0.1",
];

/**
 * The JS gateway refuses a supergraph that links a `for: SECURITY` feature it cannot enforce
 * ("feature https://specs.apollo.dev/authenticated/v0.1 is for: SECURITY but is unsupported") —
 * a sound default, since it does not enforce `@authenticated` / `@requiresScopes` (Apollo Router
 * does). Here enforcement lives in the subgraphs, behind the router token, so for exactly these two
 * features the purpose is dropped before the gateway sees the SDL. Any other SECURITY feature still
 * fails to load.
 */
export function acknowledgeSubgraphEnforcedSecurity(sdl: string): string {
  let result = sdl;
  for (const url of SUBGRAPH_ENFORCED) {
    result = result.replace(
      `@link(url: "${url}", for: SECURITY)`,
      `@link(url: "${url}")`,
    );
  }
  return result;
}

/** Applies acknowledgeSubgraphEnforcedSecurity to a supergraph source, initial load and hot reloads. */
export function withSubgraphEnforcedSecurity(
  hook: SupergraphSdlHook,
): SupergraphSdlHook {
  return async (options) => {
    const loaded = await hook({
      ...options,
      update: (sdl) => options.update(acknowledgeSubgraphEnforcedSecurity(sdl)),
    });
    return {
      ...loaded,
      supergraphSdl: acknowledgeSubgraphEnforcedSecurity(loaded.supergraphSdl),
    };
  };
}
