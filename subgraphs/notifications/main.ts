import { loadConfigurationOrExit } from "../../deploy/configuration.ts";
import { runSubgraph } from "../../platform/run-subgraph.ts";
import {
  loadNotificationsConfig,
  NOTIFICATIONS_SETTINGS_READ,
} from "./config.ts";
import { notificationsModule } from "./server.ts";

const config = await loadConfigurationOrExit(
  loadNotificationsConfig,
  NOTIFICATIONS_SETTINGS_READ,
);
await runSubgraph(notificationsModule(), config);
