import { loadConfigurationOrExit } from "../../deploy/configuration.ts";
import { runSubgraph } from "../../platform/run-subgraph.ts";
import { loadOrdersConfig, ORDERS_SETTINGS_READ } from "./config.ts";
import { ordersModule } from "./server.ts";

const config = await loadConfigurationOrExit(
  loadOrdersConfig,
  ORDERS_SETTINGS_READ,
);
await runSubgraph(ordersModule(config), config);
