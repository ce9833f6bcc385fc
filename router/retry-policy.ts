import type { RetrySettings } from './config.ts';

/**
 * Full-jitter exponential backoff: attempt n (the first retry is 1) waits a uniformly random time
 * in [0, min(maxDelay, base·2^(n-1))]. Jitter spreads retries from many requests that failed
 * together, so they do not hit a recovering subgraph in one wave.
 */
export function backoffDelayMs(retry: number, { baseDelayMs, maxDelayMs }: Pick<RetrySettings, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date); undefined when absent or unusable. */
export function parseRetryAfterMs(header: string | null | undefined, now: number = Date.now()): number | undefined {
  if (header === null || header === undefined || header.trim() === '') return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

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
export function createRetryBudget({ budgetPercent, budgetReserve }: Pick<RetrySettings, 'budgetPercent' | 'budgetReserve'>): RetryBudget {
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
