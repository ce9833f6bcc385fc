import { loadConfigurationOrExit } from "../../deploy/configuration.ts";
import { runSubgraph } from "../../platform/run-subgraph.ts";
import { loadPaymentsConfig, PAYMENTS_SETTINGS_READ } from "./config.ts";
import { createSimulatedProvider } from "./provider.ts";
import { paymentsModule } from "./server.ts";

const config = await loadConfigurationOrExit(
  loadPaymentsConfig,
  PAYMENTS_SETTINGS_READ,
);
await runSubgraph(
  paymentsModule({
    internalServiceSecret: config.internalServiceSecret,
    provider: createSimulatedProvider({ timeoutMs: config.providerTimeoutMs }),
  }),
  config,
);
