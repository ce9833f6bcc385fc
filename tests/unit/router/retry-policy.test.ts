import { describe, expect, it } from "vitest";
import { backoffDelayMs, parseRetryAfterMs } from "../../../platform/retry.ts";
import { createRetryBudget } from "../../../router/retry-policy.ts";

describe("retry policy", () => {
  it("draws backoff uniformly below an exponentially growing, capped ceiling (full jitter)", () => {
    const settings = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect(
      [1, 2, 3, 4, 5].map((retry) =>
        backoffDelayMs(retry, settings, () => 0.999999),
      ),
    ).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelayMs(3, settings, () => 0)).toBe(0);
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    expect(parseRetryAfterMs("2")).toBe(2000);
    expect(
      parseRetryAfterMs(
        new Date(Date.UTC(2030, 0, 1, 0, 0, 5)).toUTCString(),
        Date.UTC(2030, 0, 1),
      ),
    ).toBe(5000);
    expect(parseRetryAfterMs("soon")).toBeUndefined();
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });

  it("never grants more retries than the reserve plus the configured share of traffic", () => {
    const budget = createRetryBudget({ budgetPercent: 10, budgetReserve: 3 });
    let granted = 0;
    // Spend everything before each fetch, so no share is lost to the cap: the bound is reached exactly.
    for (let request = 0; request < 200; request++) {
      while (budget.tryRetry()) granted += 1;
      budget.recordRequest();
    }
    while (budget.tryRetry()) granted += 1;
    expect(granted).toBe(3 + 20);
  });
});
