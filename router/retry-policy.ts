import type { RetrySettings } from "./config.ts";

export interface RetryBudget {
  /** Records one fetch; every fetch earns `budgetPercent / 100` of a retry. */
  recordRequest(): void;
  /** Takes one retry from the budget; false when none is left (the caller must not retry). */
  tryRetry(): boolean;
  /** Retries currently available (for `/ready` and tests). */
  available(): number;
}

/**
 * A token bucket: it starts with `budgetReserve` retries, each fetch adds `budgetPercent`% of a
 * retry, and it never holds more than the reserve (at least one). So over any stretch of traffic,
 * retries ≤ reserve + percent·fetches: when a subgraph fails wholesale, retries stop adding load
 * once the banked share is spent, instead of multiplying it by `maxAttempts`.
 */
export function createRetryBudget({
  budgetPercent,
  budgetReserve,
}: Pick<RetrySettings, "budgetPercent" | "budgetReserve">): RetryBudget {
  // Counted in hundredths of a retry: integer arithmetic, so 10% of 200 fetches is exactly 20.
  const capacity = Math.max(1, budgetReserve) * 100;
  let tokens = budgetReserve * 100;
  return {
    recordRequest() {
      tokens = Math.min(capacity, tokens + budgetPercent);
    },
    tryRetry() {
      if (tokens < 100) return false;
      tokens -= 100;
      return true;
    },
    available: () => Math.floor(tokens / 100),
  };
}
