import { runSubgraph } from '../../platform/run-subgraph.ts';
import { loadProductsConfig } from './config.ts';
import { productsModule } from './server.ts';

const config = loadProductsConfig(process.env);
await runSubgraph(productsModule(config), config);
