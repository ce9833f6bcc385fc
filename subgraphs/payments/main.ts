import { runSubgraph } from '../../platform/run-subgraph.ts';
import { loadPaymentsConfig } from './config.ts';
import { createSimulatedProvider } from './provider.ts';
import { paymentsModule } from './server.ts';

const config = loadPaymentsConfig(process.env);
await runSubgraph(paymentsModule({ internalServiceSecret: config.internalServiceSecret, provider: createSimulatedProvider({ timeoutMs: config.providerTimeoutMs }) }), config);
