import { describe, expect, it } from "vitest";
import { UndeliverableError } from "../../../events/channels.ts";
import { InvalidJobError } from "../../../events/notification-job.ts";
import {
  decideRetry,
  isNonRetriable,
  type RetryPolicy,
} from "../../../events/retry-policy.ts";
import { InfrastructureError } from "../../../platform/errors.ts";

const policy: RetryPolicy = { delaysMs: [100, 1000], maxAttempts: 4 };

describe("decideRetry", () => {
  it("sends a retriable failure to the tier of its attempt, the last tier repeating", () => {
    const smtpDown = new InfrastructureError("smtp down", { retriable: true });
    expect(decideRetry(policy, 1, smtpDown)).toEqual({
      action: "retry",
      afterMs: 100,
    });
    expect(decideRetry(policy, 2, smtpDown)).toEqual({
      action: "retry",
      afterMs: 1000,
    });
    expect(decideRetry(policy, 3, smtpDown)).toEqual({
      action: "retry",
      afterMs: 1000,
    });
  });

  it("dead-letters a retriable failure once the last attempt failed, with the attempts and the error in the reason", () => {
    const decision = decideRetry(policy, 4, new Error("smtp down"));
    expect(decision).toEqual({
      action: "dead-letter",
      reason: "gave up after 4 attempts: smtp down",
    });
  });

  it.each([
    ["InvalidJobError", new InvalidJobError("field userId")],
    [
      "UndeliverableError",
      new UndeliverableError("no recipient known for user u-1"),
    ],
    [
      "a non-retriable InfrastructureError (a webhook 4xx)",
      new InfrastructureError("sms webhook answered 400", { retriable: false }),
    ],
  ])(
    "dead-letters %s on the first attempt without walking the tiers",
    (_name, error) => {
      const decision = decideRetry(policy, 1, error);
      expect(decision).toEqual({
        action: "dead-letter",
        reason: `non-retriable: ${error.message}`,
      });
    },
  );

  it("treats errors without a retriable field, and thrown non-errors, as transient", () => {
    expect(isNonRetriable(new Error("boom"))).toBe(false);
    expect(isNonRetriable("boom")).toBe(false);
    expect(isNonRetriable(undefined)).toBe(false);
    expect(isNonRetriable({ retriable: true })).toBe(false);
    expect(decideRetry(policy, 1, "boom")).toEqual({
      action: "retry",
      afterMs: 100,
    });
  });

  it("dead-letters at once with a single-attempt policy, and falls back to no delay with no tiers", () => {
    expect(
      decideRetry({ delaysMs: [], maxAttempts: 1 }, 1, new Error("x")),
    ).toEqual({ action: "dead-letter", reason: "gave up after 1 attempts: x" });
    expect(
      decideRetry({ delaysMs: [], maxAttempts: 3 }, 1, new Error("x")),
    ).toEqual({ action: "retry", afterMs: 0 });
  });
});
