import {
  COMMON_SETTINGS,
  COMMON_SETTINGS_READ,
  readCommonConfig,
  SUBGRAPH_PORT_SETTINGS,
  type CommonConfig,
  type Env,
} from "../../platform/config.ts";
import { readSetting, type Setting } from "../../platform/settings.ts";

export const NOTIFICATIONS_SETTINGS = Object.freeze({
  port: SUBGRAPH_PORT_SETTINGS.notifications,
});

export const NOTIFICATIONS_SETTINGS_READ: readonly Setting<unknown>[] = [
  ...COMMON_SETTINGS_READ,
  ...Object.values(NOTIFICATIONS_SETTINGS),
];

export interface NotificationsConfig extends CommonConfig {
  /** NOTIFICATIONS_SETTINGS.port */
  readonly port: number;
  /** COMMON_SETTINGS.host */
  readonly host: string;
}

export function loadNotificationsConfig(env: Env): NotificationsConfig {
  return Object.freeze({
    ...readCommonConfig(env),
    port: readSetting(env, NOTIFICATIONS_SETTINGS.port),
    host: readSetting(env, COMMON_SETTINGS.host),
  });
}
