import { migrationContract } from "../../support/contracts/migrate.ts";
import { postgresBackend } from "../../support/storage.ts";

migrationContract(await postgresBackend());
