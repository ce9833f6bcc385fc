import { describe, expect, it } from "vitest";
import {
  checkRun,
  formatTable,
  type Observed,
} from "../../../../scripts/chaos/check.ts";

const confirmed = [
  { correlationId: "a1", userId: "a", seq: 0 },
  { correlationId: "a2", userId: "a", seq: 1 },
  { correlationId: "b1", userId: "b", seq: 0 },
];
const clean: Observed = {
  confirmed,
  notConfirmed: 1,
  mails: ["a1", "b1", "a2"],
  deliveries: [
    { correlationId: "a1", userId: "a" },
    { correlationId: "b1", userId: "b" },
    { correlationId: "a2", userId: "a" },
  ],
  outboxUnpublished: 0,
  consumerLag: 0,
  queued: 0,
  deadLettered: ["job-2", "job-1"],
  injectedPoisonJobs: ["job-1", "job-2"],
  rejectedPoison: ["event-1"],
  injectedPoisonEvents: ["event-1"],
  unready: [],
};
const failed = (observed: Observed) =>
  checkRun(observed)
    .filter((check) => !check.ok)
    .map((check) => check.check);

describe("the chaos checker", () => {
  it("passes a clean run", () => {
    expect(failed(clean)).toEqual([]);
  });

  it("fails on a lost notification, and waits on it (it may still arrive)", () => {
    const checks = checkRun({
      ...clean,
      mails: ["a1", "b1"],
      deliveries: clean.deliveries.slice(0, 2),
    });
    expect(
      checks.filter((check) => !check.ok).map((check) => check.check),
    ).toEqual([
      "confirmed orders emailed exactly once (SMTP sink)",
      "lost (confirmed, never emailed)",
      "DELIVERED records for confirmed orders",
    ]);
    expect(
      checks.find((check) => check.check.startsWith("lost")),
    ).toMatchObject({ actual: "1", draining: true });
  });

  it("fails on a duplicate email, which no wait can fix", () => {
    const checks = checkRun({ ...clean, mails: [...clean.mails, "a2"] });
    expect(
      checks.find((check) => check.check.startsWith("user-visible duplicates")),
    ).toMatchObject({ actual: "1", ok: false, draining: false });
  });

  it("fails when a customer’s delivery records are out of their order", () => {
    expect(
      failed({
        ...clean,
        deliveries: [
          clean.deliveries[2]!,
          clean.deliveries[1]!,
          clean.deliveries[0]!,
        ],
      }),
    ).toEqual(["customers whose records are out of order"]);
  });

  it("fails when the DLQ holds anything but the injected poison, or misses some", () => {
    expect(
      failed({ ...clean, deadLettered: ["job-1", "job-2", "real-job"] }),
    ).toEqual(["DLQ = the injected poison jobs"]);
    expect(failed({ ...clean, deadLettered: ["job-1"] })).toEqual([
      "DLQ = the injected poison jobs",
    ]);
    expect(failed({ ...clean, rejectedPoison: [] })).toEqual([
      "rejected events = the injected poison events",
    ]);
  });

  it("fails on anything left behind: outbox rows, consumer lag, queued jobs", () => {
    expect(
      failed({ ...clean, outboxUnpublished: 2, consumerLag: 1, queued: 3 }),
    ).toEqual([
      "outbox rows unpublished",
      "worker consumer lag",
      "jobs left in queues and retry tiers",
    ]);
  });

  it("fails while a pipeline instance answers /ready with anything but 200 (a dead consumer must show)", () => {
    const checks = checkRun({
      ...clean,
      unready: ["worker.2: 503 consumer crashed"],
    });
    expect(checks.filter((check) => !check.ok)).toEqual([
      expect.objectContaining({
        check: "pipeline instances not ready (/ready)",
        actual: "worker.2: 503 consumer crashed",
        draining: true,
      }),
    ]);
  });

  it("prints one table row per check, failures marked", () => {
    const table = formatTable(checkRun({ ...clean, consumerLag: 4 }));
    expect(table.split("\n")).toHaveLength(2 + checkRun(clean).length);
    expect(table).toMatch(
      /\| worker consumer lag\s+\| 0\s+\| 4\s+\| FAIL\s+\|/,
    );
  });
});
