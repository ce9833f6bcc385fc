/**
 * The one retry/dead-letter decision of the job queues: both adapters (events/job-queue.ts
 * in-process, events/rabbit-job-queue.ts on RabbitMQ) ask `decideRetry` what to do with a job whose
 * handler failed, so the two cannot drift apart.
 */

/**
 * Failed jobs wait `delaysMs[attempt - 1]` (the last entry repeats) in a delay tier and come back;
 * after `maxAttempts` failed deliveries they move to `<queue>.dlq`.
 */
export interface RetryPolicy {
  delaysMs: number[];
  maxAttempts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  delaysMs: [1000, 10_000, 60_000],
  maxAttempts: 4,
});

export type RetryDecision =
  | { action: "retry"; afterMs: number }
  | { action: "dead-letter"; reason: string };

/**
 * An error that says no retry can succeed: `retriable === false` (InvalidJobError,
 * UndeliverableError, a webhook's 4xx). Anything else — including a plain Error or a thrown
 * string — is presumed transient, because dead-lettering a job that would have succeeded later
 * loses a notification, while retrying a hopeless one only costs the delay tiers.
 */
export function isNonRetriable(error: unknown): boolean {
  return (
    typeof error === "object" &&
    error !== null &&
    "retriable" in error &&
    (error as { retriable: unknown }).retriable === false
  );
}

/** What an operator reads in the DLQ's `x-last-error` / `x-dead-letter-reason` headers. */
export function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : String(error);
}

/**
 * `attempt` is the delivery that just failed (1 for the first). A non-retriable error goes to the
 * DLQ at once, whatever the attempt; a retriable one waits in the next tier until `maxAttempts`
 * deliveries have failed.
 */
export function decideRetry(
  policy: RetryPolicy,
  attempt: number,
  error: unknown,
): RetryDecision {
  if (isNonRetriable(error))
    return {
      action: "dead-letter",
      reason: `non-retriable: ${reasonOf(error)}`,
    };
  if (attempt >= policy.maxAttempts)
    return {
      action: "dead-letter",
      reason: `gave up after ${attempt} attempts: ${reasonOf(error)}`,
    };
  const afterMs =
    policy.delaysMs[
      Math.min(Math.max(attempt, 1) - 1, policy.delaysMs.length - 1)
    ] ?? 0;
  return { action: "retry", afterMs };
}
