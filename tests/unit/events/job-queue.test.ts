import {
  createMemoryJobQueue,
  type RetryPolicy,
} from "../../../events/job-queue.ts";
import { jobQueueContract } from "../../support/contracts/job-queue.ts";
import { silentLogger } from "../../support/logger.ts";

const retry: RetryPolicy = { delaysMs: [100, 300], maxAttempts: 3 };

jobQueueContract({
  name: "in-process",
  unavailable: undefined,
  retry,
  create: async () => createMemoryJobQueue({ logger: silentLogger, retry }),
});
