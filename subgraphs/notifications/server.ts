import { fileURLToPath } from "node:url";
import {
  createSubgraphServer,
  loadSchemaFile,
  type SubgraphDeps,
  type SubgraphModule,
} from "../../platform/subgraph-server.ts";
import { createLoaders } from "./loaders.ts";
import { createNotificationRepository } from "./repository.ts";
import { resolvers, type NotificationsContext } from "./resolvers.ts";

export const typeDefs = loadSchemaFile(
  new URL("./schema.graphql", import.meta.url),
);

/**
 * The read side of the event pipeline: `User.notifications`, from the deliveries the dispatchers
 * record. The pipeline (events/) owns the `notifications` schema's migrations; this subgraph
 * applies the same files, so either may start first.
 */
export function createNotificationsSubgraph(deps: SubgraphDeps) {
  const repo = createNotificationRepository(deps.db);
  return createSubgraphServer<NotificationsContext>({
    name: "notifications",
    typeDefs,
    resolvers,
    deps,
    context: (_req, principal) => ({ loaders: createLoaders(repo), principal }),
  });
}

export function notificationsModule(): SubgraphModule {
  return {
    name: "notifications",
    migrationsDir: fileURLToPath(
      new URL("../../events/migrations", import.meta.url),
    ),
    async seed() {},
    create: (deps) => createNotificationsSubgraph(deps),
  };
}
