import {
  readSubgraphProcessConfig,
  SUBGRAPH_PORT_SETTINGS,
  subgraphSettingsRead,
  type Env,
  type SubgraphProcessConfig,
} from "../../platform/config.ts";
import type { Setting } from "../../platform/settings.ts";

export const NOTIFICATIONS_SETTINGS = Object.freeze({
  port: SUBGRAPH_PORT_SETTINGS.notifications,
});

export const NOTIFICATIONS_SETTINGS_READ: readonly Setting<unknown>[] =
  subgraphSettingsRead(NOTIFICATIONS_SETTINGS);

export type NotificationsConfig = SubgraphProcessConfig;

export function loadNotificationsConfig(env: Env): NotificationsConfig {
  return Object.freeze(readSubgraphProcessConfig(env, "notifications"));
}
