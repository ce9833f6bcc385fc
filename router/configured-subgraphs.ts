/**
 * Header rules and error policies name subgraphs; a name the supergraph does not have (a typo,
 * or a subgraph since removed) would silently do nothing. The router warns when a supergraph
 * loads without one of them, instead of refusing: the supergraph hot-reloads, and a rule written
 * ahead of a new subgraph is legitimate.
 */
import type { Logger } from "../platform/logger.ts";
import type { RouterConfig } from "./config.ts";

/** The subgraph names a supergraph's `join__Graph` enum declares. */
export function supergraphSubgraphs(supergraphSdl: string): Set<string> {
  return new Set(
    [...supergraphSdl.matchAll(/@join__graph\(\s*name:\s*"([^"]+)"/g)].map(
      ([, name]) => name!,
    ),
  );
}

/** `configured` names (setting → names) the supergraph lacks, as `setting: name` strings. */
export function unknownSubgraphs(
  supergraphSdl: string,
  configured: Readonly<Record<string, readonly string[]>>,
): string[] {
  const known = supergraphSubgraphs(supergraphSdl);
  return Object.entries(configured).flatMap(([setting, names]) =>
    names
      .filter((name) => !known.has(name))
      .map((name) => `${setting}: ${name}`),
  );
}

/** Logs (warn) the subgraphs `config`'s header rules and error policies name that `supergraphSdl` lacks. */
export function warnUnknownSubgraphs(
  logger: Logger,
  supergraphSdl: string,
  config: Pick<RouterConfig, "headers" | "subgraphErrors">,
): void {
  const unknown = unknownSubgraphs(supergraphSdl, {
    "router.headers.subgraphs": Object.keys(config.headers.subgraphs),
    "router.headers.response.set_cookie_from": [
      config.headers.response.setCookieFrom ?? [],
    ].flat(),
    "router.subgraph_errors.subgraphs": Object.keys(
      config.subgraphErrors.subgraphs,
    ),
  });
  if (unknown.length > 0)
    logger.warn(
      { unknown },
      "configuration names subgraphs the supergraph does not have",
    );
}
