import { PASSWORD_HASH_COST } from "../../subgraphs/users/passwords.ts";
import {
  DEFAULT_USERS_OPTIONS,
  type UsersOptions,
} from "../../subgraphs/users/server.ts";

/**
 * The users service as tests run it: the declared defaults, with password hashing at the floor
 * cost (scrypt N=2^10) instead of production's 2^15. At 2^15 each sign-up or login took 4 to 16 s
 * on a loaded two-core CI machine; hashing is covered at every cost by
 * tests/unit/subgraphs/users/passwords.test.ts. Processes a test starts get the same cost through
 * PASSWORD_HASH_COST in vitest.config.ts.
 */
export const TEST_USERS_OPTIONS: UsersOptions = Object.freeze({
  ...DEFAULT_USERS_OPTIONS,
  passwordHashCost: PASSWORD_HASH_COST.floor,
});
