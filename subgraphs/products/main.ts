import { loadConfigurationOrExit } from "../../deploy/configuration.ts";
import { runSubgraph } from "../../platform/run-subgraph.ts";
import { loadProductsConfig, PRODUCTS_SETTINGS_READ } from "./config.ts";
import { productsModule } from "./server.ts";

const config = await loadConfigurationOrExit(
  loadProductsConfig,
  PRODUCTS_SETTINGS_READ,
);
await runSubgraph(productsModule(config), config);
