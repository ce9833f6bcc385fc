import { runSubgraph } from '../../platform/run-subgraph.ts';
import { loadPaymentsConfig } from './config.ts';
import { paymentsModule } from './server.ts';

const config = loadPaymentsConfig(process.env);
await runSubgraph(paymentsModule(), config);
