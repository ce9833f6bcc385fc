import { runSubgraph } from '../../platform/run-subgraph.ts';
import { loadNotificationsConfig } from './config.ts';
import { notificationsModule } from './server.ts';

const config = loadNotificationsConfig(process.env);
await runSubgraph(notificationsModule(), config);
