/**
 * The list of services, once. Every other list of subgraphs or publishing domains in the code
 * (subgraph module names, port settings, the router's known subgraphs, the deployables, the
 * configuration file's sections, the outbox relays, the event topics and contracts' producers)
 * derives from these two, so a new service is added here and the compiler points at the rest.
 * supergraph.yaml, package.json and docker-compose.yml are checked against them by
 * tests/unit/deploy/deployables.test.ts.
 */

/** Every subgraph, in the order of supergraph.yaml. */
export const SUBGRAPH_NAMES = [
  "users",
  "products",
  "orders",
  "payments",
  "notifications",
] as const;
export type SubgraphName = (typeof SUBGRAPH_NAMES)[number];

/**
 * Port each subgraph listens on when its `<NAME>_PORT` is unset (ARCHITECTURE.md: 4001 onwards;
 * the router has 4000).
 */
export const DEFAULT_SUBGRAPH_PORTS: Readonly<Record<SubgraphName, number>> =
  Object.freeze({
    users: 4001,
    products: 4002,
    orders: 4003,
    payments: 4004,
    notifications: 4005,
  });

/**
 * Subgraphs that publish events: each has an `outbox` table in its schema, an outbox relay, and
 * one Kafka topic `switchyard.<name>` (events/envelope.ts). The order is the relays' and topics'.
 */
export const PUBLISHING_SUBGRAPHS = [
  "orders",
  "payments",
  "products",
  "notifications",
] as const satisfies readonly SubgraphName[];
export type PublishingSubgraph = (typeof PUBLISHING_SUBGRAPHS)[number];

/** A record with one entry per subgraph (ports, URLs, ...), so no caller writes the names out. */
export function perSubgraph<T>(
  value: (name: SubgraphName) => T,
): Record<SubgraphName, T> {
  return Object.fromEntries(
    SUBGRAPH_NAMES.map((name) => [name, value(name)]),
  ) as Record<SubgraphName, T>;
}
