import { loadConfigurationOrExit } from "../../deploy/configuration.ts";
import { runSubgraph } from "../../platform/run-subgraph.ts";
import { loadUsersConfig, USERS_SETTINGS_READ } from "./config.ts";
import { usersModule } from "./server.ts";

const config = await loadConfigurationOrExit(
  loadUsersConfig,
  USERS_SETTINGS_READ,
);
await runSubgraph(
  usersModule({
    jwtIssuer: config.jwtIssuer,
    jwtAudience: config.jwtAudience,
    jwtTtlSeconds: config.jwtTtlSeconds,
    demoPassword: config.demoPassword,
    passwordHashCost: config.passwordHashCost,
  }),
  config,
);
