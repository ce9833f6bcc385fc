import { describe, expect, it } from "vitest";
import { entryOf, formatTimeline } from "../../../scripts/trace.ts";

const ID = "req-42";
const line = (fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 30,
    pid: 1,
    time: Date.parse("2026-01-01T12:00:00.000Z"),
    ...fields,
  });

describe("the trace timeline (scripts/trace.ts)", () => {
  it("matches on the correlationId field, not on text that merely mentions the id", () => {
    expect(
      entryOf(line({ correlationId: "other", msg: `about ${ID}` }), ID),
    ).toBeUndefined();
    expect(
      entryOf(
        line({ correlationId: ID, service: "router", msg: "request served" }),
        ID,
      ),
    ).toBeDefined();
    expect(formatTimeline(ID, [])).toBe(
      `no log lines for correlation id ${ID}\n`,
    );
  });
});
