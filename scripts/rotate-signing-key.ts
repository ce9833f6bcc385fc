/**
 * `npm run users:rotate-key`: retires the users service's signing key and creates a new one in the
 * configured database (DATABASE_URL, else the PGlite data directory). Tokens signed by the old key
 * stay valid until they expire; the router picks the new key up on the first token that names it.
 */
import { openStorage } from "../platform/database.ts";
import { loadConfigurationOrExit } from "../deploy/configuration.ts";
import {
  loadUsersConfig,
  USERS_SETTINGS_READ,
} from "../subgraphs/users/config.ts";
import { rotateSigningKey } from "../subgraphs/users/tokens.ts";

const config = await loadConfigurationOrExit(
  loadUsersConfig,
  USERS_SETTINGS_READ,
);
const storage = await openStorage({
  databaseUrl: config.databaseUrl,
  dataDir: config.dataDir,
});
try {
  const kid = await rotateSigningKey(storage.forService("users"));
  console.log(
    `New signing key ${kid}; the previous key stays in the JWKS for ${config.jwtTtlSeconds}s.`,
  );
} finally {
  await storage.close();
}
