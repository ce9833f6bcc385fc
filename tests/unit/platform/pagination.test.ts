import { describe, expect, it } from "vitest";
import {
  pagesByParent,
  parsePage,
  toConnection,
} from "../../../platform/pagination.ts";

describe("Relay pagination arguments", () => {
  const isString = (value: unknown): value is string =>
    typeof value === "string";

  it("defaults first to 20 and bounds it to 0..1000", () => {
    expect(parsePage({}, isString).limit).toBe(20);
    expect(parsePage({ first: 0 }, isString).limit).toBe(0);
    expect(() => parsePage({ first: 1001 }, isString)).toThrow(
      "first must be between 0 and 1000",
    );
    expect(() => parsePage({ first: -1 }, isString)).toThrow(
      expect.objectContaining({
        extensions: { code: "BAD_USER_INPUT", field: "first" },
      }),
    );
  });

  it("round-trips its own cursors and rejects anything else", () => {
    const connection = toConnection(["a", "b", "c"], {
      limit: 2,
      hasAfter: false,
      totalCount: 3,
      cursorOf: (node) => node,
    });
    expect(connection.pageInfo).toMatchObject({
      hasNextPage: true,
      hasPreviousPage: false,
    });
    expect(connection.edges.map((edge) => edge.node)).toEqual(["a", "b"]);
    expect(
      parsePage({ after: connection.pageInfo.endCursor }, isString).after,
    ).toBe("b");
    expect(() => parsePage({ after: "%%%" }, isString)).toThrow(
      expect.objectContaining({
        extensions: { code: "BAD_USER_INPUT", field: "after" },
      }),
    );
  });
});

describe("pages for many parents from one windowed query", () => {
  const rows = [
    { user_id: "b", total_count: 3, id: 1 },
    { user_id: "b", total_count: 3, id: 2 },
  ];

  it("returns a page per parent in the order asked, empty with total 0 for a parent without rows", async () => {
    const countMissing = async () => {
      throw new Error("no count query without a cursor");
    };
    const pages = await pagesByParent(["a", "b"], rows, {
      hasAfter: false,
      countMissing,
    });
    expect(pages).toEqual([
      { rows: [], totalCount: 0 },
      { rows, totalCount: 3 },
    ]);
  });

  it("past the end of a list, counts only the parents with no row, in one query", async () => {
    const calls: string[][] = [];
    const pages = await pagesByParent(["a", "b", "c"], rows, {
      hasAfter: true,
      countMissing: async (missing) => {
        calls.push(missing);
        return [{ user_id: "a", total_count: 7 }];
      },
    });
    expect(calls).toEqual([["a", "c"]]);
    expect(pages.map((page) => page.totalCount)).toEqual([7, 3, 0]);
    expect(pages[0]!.rows).toEqual([]);
  });
});
