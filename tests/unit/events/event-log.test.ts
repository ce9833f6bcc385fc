import { createMemoryEventLog } from "../../../events/event-log.ts";
import { eventLogContract } from "../../support/contracts/event-log.ts";
import { silentLogger } from "../../support/logger.ts";

eventLogContract({
  name: "in-process",
  unavailable: undefined,
  create: () =>
    createMemoryEventLog({ logger: silentLogger, backoff: { initialMs: 20 } }),
});
