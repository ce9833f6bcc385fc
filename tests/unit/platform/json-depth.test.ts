import { describe, expect, it } from "vitest";
import {
  exceedsJsonDepth,
  MAX_JSON_DEPTH,
} from "../../../platform/json-depth.ts";

/** `depth` levels of alternating arrays and objects around a string. */
function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let level = 0; level < depth; level += 1)
    value = level % 2 === 0 ? [value] : { key: value };
  return value;
}

describe("the JSON nesting cap", () => {
  it("counts containers, not scalars, and accepts exactly the cap", () => {
    expect(exceedsJsonDepth("text")).toBe(false);
    expect(exceedsJsonDepth(null)).toBe(false);
    expect(exceedsJsonDepth({}, 1)).toBe(false);
    expect(exceedsJsonDepth({ a: [] }, 1)).toBe(true);
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH))).toBe(false);
    expect(exceedsJsonDepth(nested(MAX_JSON_DEPTH + 1))).toBe(true);
  });

  it("finds a deep branch beside shallow ones", () => {
    expect(
      exceedsJsonDepth({
        a: 1,
        b: [1, 2, { c: "x" }],
        d: nested(MAX_JSON_DEPTH),
      }),
    ).toBe(true);
  });

  it("walks a million levels without overflowing the stack (what JSON.stringify cannot)", () => {
    const deep = JSON.parse(
      "[".repeat(1_000_000) + "]".repeat(1_000_000),
    ) as unknown;
    expect(() => JSON.stringify(deep)).toThrow(RangeError);
    expect(exceedsJsonDepth(deep)).toBe(true);
  });
});
