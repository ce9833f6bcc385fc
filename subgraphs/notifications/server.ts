import { fileURLToPath } from "node:url";
import {
  contextWithLoaders,
  subgraphFolder,
  type SubgraphDeps,
} from "../../platform/subgraph-server.ts";
import { createLoaders } from "./loaders.ts";
import { createNotificationRepository } from "./repository.ts";
import { resolvers, type NotificationsContext } from "./resolvers.ts";

const folder = subgraphFolder(
  "notifications",
  { schema: new URL("./schema.graphql", import.meta.url) },
  resolvers,
);

/**
 * The read side of the event pipeline: `User.notifications`, from the deliveries the dispatchers
 * record. The pipeline (events/) owns the `notifications` schema's migrations; this subgraph
 * applies the same files, so either may start first.
 */
export function createNotificationsSubgraph(deps: SubgraphDeps) {
  const repo = createNotificationRepository(deps.db);
  return folder.server<NotificationsContext>(deps, {
    context: contextWithLoaders(repo, createLoaders, {}),
  });
}

export function notificationsModule() {
  return folder.module({
    migrationsDir: fileURLToPath(
      new URL("../../events/migrations", import.meta.url),
    ),
    async seed() {},
    create: (deps) => createNotificationsSubgraph(deps),
  });
}
