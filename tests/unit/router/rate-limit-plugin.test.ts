import { describe, expect, it } from "vitest";
import { SweepingMemoryStore } from "../../../router/rate-limit-plugin.ts";

describe("the in-process rate-limit store", () => {
  it("forgets clients whose calls have all left the window, so memory does not grow with every address seen", () => {
    let now = 0;
    const store = new SweepingMemoryStore({ now: () => now, sweepEvery: 3 });
    store.setForIdentity(
      { contextIdentity: "ip:10.0.0.1", fieldIdentity: "Query.products" },
      [0],
      1000,
    );
    store.setForIdentity(
      { contextIdentity: "ip:10.0.0.2", fieldIdentity: "Query.products" },
      [0, 500],
      1000,
    );
    expect(
      store.getForIdentity({
        contextIdentity: "ip:10.0.0.2",
        fieldIdentity: "Query.products",
      }),
    ).toEqual([0, 500]);
    now = 1200;
    // 10.0.0.2's newest call (500) is still inside its window; 10.0.0.1's is not.
    store.setForIdentity(
      { contextIdentity: "ip:10.0.0.3", fieldIdentity: "Query.products" },
      [1200],
      1000,
    );
    expect(store.size).toBe(2);
    expect(
      store.getForIdentity({
        contextIdentity: "ip:10.0.0.1",
        fieldIdentity: "Query.products",
      }),
    ).toEqual([]);
    now = 1500;
    expect(
      store.getForIdentity({
        contextIdentity: "ip:10.0.0.2",
        fieldIdentity: "Query.products",
      }),
    ).toEqual([]);
    expect(store.size).toBe(1);
  });
});
