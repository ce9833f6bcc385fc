import { describe, expect, it } from "vitest";
import {
  chaosSchedule,
  FAULT_KINDS,
} from "../../../../scripts/chaos/schedule.ts";

describe("the chaos schedule", () => {
  const options = {
    seed: 1234,
    orders: 2000,
    faults: 13,
    poisonEvents: 2,
    poisonJobs: 3,
  };

  it("is the same for the same seed and size (a printed seed replays the run)", () => {
    expect(chaosSchedule(options)).toEqual(chaosSchedule({ ...options }));
  });

  it("differs between seeds", () => {
    expect(chaosSchedule(options)).not.toEqual(
      chaosSchedule({ ...options, seed: 1235 }),
    );
  });

  it("hits every fault kind at least once, injects the poison asked for, and lands among the orders in order", () => {
    const steps = chaosSchedule({ ...options, faults: 5 });
    expect(
      new Set(
        steps
          .filter((step) => !step.kind.startsWith("poison"))
          .map((step) => step.kind),
      ),
    ).toEqual(new Set(FAULT_KINDS));
    expect(steps.filter((step) => step.kind === "poison-event")).toHaveLength(
      2,
    );
    expect(steps.filter((step) => step.kind === "poison-job")).toHaveLength(3);
    expect(steps.map((step) => step.atOrder)).toEqual(
      [...steps.map((step) => step.atOrder)].sort((a, b) => a - b),
    );
    for (const step of steps) {
      expect(step.atOrder).toBeGreaterThanOrEqual(100);
      expect(step.atOrder).toBeLessThan(1700);
      expect([0, 1]).toContain(step.instance);
    }
  });

  it("keeps brokers down long enough to outlast the 10 s session timeout sometimes, and never past 15 s", () => {
    const downs = Array.from({ length: 20 }, (_, seed) =>
      chaosSchedule({ ...options, seed }),
    )
      .flat()
      .filter((step) => step.kind.startsWith("restart"))
      .map((step) => step.downMs);
    expect(Math.max(...downs)).toBeGreaterThan(10_000);
    expect(Math.max(...downs)).toBeLessThanOrEqual(15_000);
    expect(Math.min(...downs)).toBeGreaterThanOrEqual(3000);
  });
});
