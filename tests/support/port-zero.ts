import { SUBGRAPH_NAMES } from "../../platform/services.ts";

/**
 * `ROUTER_PORT` and every subgraph's `<NAME>_PORT` at 0, for a whole `npm start` in one process:
 * each listens wherever the OS says and the router prints its URL. No test binds a default port
 * (a Switchyard may already run here). Derived from SUBGRAPH_NAMES, so a new service is covered.
 */
export const ALL_PORTS_ZERO: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    ["router", ...SUBGRAPH_NAMES].map((name) => [
      `${name.toUpperCase()}_PORT`,
      "0",
    ]),
  ),
);
