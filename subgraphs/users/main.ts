import { runSubgraph } from '../../platform/run-subgraph.ts';
import { loadUsersConfig } from './config.ts';
import { usersModule } from './server.ts';

const config = loadUsersConfig(process.env);
await runSubgraph(usersModule({ jwtIssuer: config.jwtIssuer, jwtAudience: config.jwtAudience, jwtTtlSeconds: config.jwtTtlSeconds, demoPassword: config.demoPassword }), config);
