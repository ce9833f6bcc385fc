import { readCommonConfig, readPort, readString, type CommonConfig, type Env } from '../../platform/config.ts';

export interface NotificationsConfig extends CommonConfig {
  /** @default 4005 */
  readonly port: number;
  /** @default "127.0.0.1" */
  readonly host: string;
}

export function loadNotificationsConfig(env: Env): NotificationsConfig {
  return Object.freeze({
    ...readCommonConfig(env),
    port: readPort(env, 'NOTIFICATIONS_PORT', 4005),
    host: readString(env, 'HOST', '127.0.0.1'),
  });
}
