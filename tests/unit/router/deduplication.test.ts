import { describe, expect, it } from "vitest";
import { InFlight } from "../../../router/deduplication.ts";

describe("in-flight deduplication (InFlight)", () => {
  it("joins a run in flight, shares its failure, and forgets the key once it settles", async () => {
    const inFlight = new InFlight<number>();
    let runs = 0;
    let joins = 0;
    let finish!: (value: number) => void;
    const first = inFlight.run(
      "k",
      () => new Promise<number>((resolve) => ((runs += 1), (finish = resolve))),
      () => (joins += 1),
    );
    const second = inFlight.run(
      "k",
      async () => ((runs += 1), 2),
      () => (joins += 1),
    );
    const other = inFlight.run("other", async () => ((runs += 1), 3));
    finish(1);
    expect(await Promise.all([first, second, other])).toEqual([1, 1, 3]);
    expect({ runs, joins, size: inFlight.size }).toEqual({
      runs: 2,
      joins: 1,
      size: 0,
    });

    // Nothing is cached: the next call runs again; a failure reaches every joiner, then is forgotten.
    expect(await inFlight.run("k", async () => 4)).toBe(4);
    const failing = inFlight.run("k", () => Promise.reject(new Error("boom")));
    const joiner = inFlight.run("k", async () => 5);
    await expect(failing).rejects.toThrow("boom");
    await expect(joiner).rejects.toThrow("boom");
    expect(await inFlight.run("k", async () => 6)).toBe(6);
  });
});
