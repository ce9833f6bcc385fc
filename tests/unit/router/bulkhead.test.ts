import { afterEach, describe, expect, it, vi } from "vitest";
import { BulkheadFullError, createBulkhead } from "../../../router/bulkhead.ts";

afterEach(() => {
  vi.useRealTimers();
});

describe("bulkhead", () => {
  it("queues past the cap, hands slots over in order, and fails fast past the queue", async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const far = Date.now() + 60_000;
    const first = await bulkhead.acquire(far);
    const order: string[] = [];
    const second = bulkhead.acquire(far).then((release) => {
      order.push("second");
      return release;
    });
    await expect(bulkhead.acquire(far)).rejects.toBeInstanceOf(
      BulkheadFullError,
    );
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([1, 1]);
    first();
    first();
    (await second)();
    expect(order).toEqual(["second"]);
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([0, 0]);
  });

  it("gives up waiting at the deadline", async () => {
    vi.useFakeTimers();
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 5 });
    await bulkhead.acquire(Date.now() + 1000);
    const waiting = bulkhead.acquire(Date.now() + 1000);
    const settled = expect(waiting).rejects.toMatchObject({
      reason: "wait timed out",
    });
    await vi.advanceTimersByTimeAsync(1000);
    await settled;
    expect(bulkhead.queued).toBe(0);
  });

  it("without a deadline, waits with no timer until a slot frees up", async () => {
    vi.useFakeTimers();
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const first = await bulkhead.acquire();
    let got = false;
    const waiting = bulkhead.acquire().then((release) => {
      got = true;
      return release;
    });
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(30 * 24 * 3600 * 1000);
    expect([got, bulkhead.queued]).toEqual([false, 1]);
    first();
    (await waiting)();
    expect([got, bulkhead.inFlight, bulkhead.queued]).toEqual([true, 0, 0]);
  });
});
