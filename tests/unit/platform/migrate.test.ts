import { migrationContract } from "../../support/contracts/migrate.ts";
import { pgliteBackend } from "../../support/storage.ts";

migrationContract(pgliteBackend);
