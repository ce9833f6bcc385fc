import { runSubgraph } from '../../platform/run-subgraph.ts';
import { loadOrdersConfig } from './config.ts';
import { ordersModule } from './server.ts';

const config = loadOrdersConfig(process.env);
await runSubgraph(ordersModule(config), config);
