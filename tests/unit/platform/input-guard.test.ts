import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import {
  createInputGuardPlugin,
  nulPathInDocument,
  nulPathInValue,
} from "../../../platform/input-guard.ts";

async function guard(query: string, variables: Record<string, unknown> = {}) {
  const hooks = await createInputGuardPlugin().requestDidStart!({} as never);
  return hooks!.didResolveOperation!({
    document: parse(query),
    request: { variables },
  } as never);
}

describe("the NUL input guard", () => {
  it("finds a NUL in any string or key of a value, however nested, and names its path", () => {
    expect(
      nulPathInValue({ name: "fine", tags: ["a", "b"] }, "$input"),
    ).toBeUndefined();
    expect(nulPathInValue("a\u0000b", "$name")).toBe("$name");
    expect(
      nulPathInValue(
        { items: [{ productId: "p1" }, { productId: "p\u0000" }] },
        "$input",
      ),
    ).toBe("$input.items.1.productId");
    expect(nulPathInValue({ ["ke\u0000y"]: 1 }, "$input")).toBe("$input");
  });

  it("finds a NUL written as an escape in a document literal, in arguments and nested input objects and lists", () => {
    expect(
      nulPathInDocument(parse('{ products(search: "fine") { totalCount } }')),
    ).toBeUndefined();
    expect(
      nulPathInDocument(
        parse('{ products(search: "a\\u0000") { totalCount } }'),
      ),
    ).toBe("search");
    expect(
      nulPathInDocument(
        parse(
          'mutation { placeOrder(input: { items: [{ productId: "\\u{0}", quantity: 1 }] }) { id } }',
        ),
      ),
    ).toBe("input.items.productId");
    expect(
      nulPathInDocument(
        parse(
          'query($s: String = "\\u0000") { products(search: $s) { totalCount } }',
        ),
      ),
    ).toBe("query");
  });

  it("refuses as BAD_USER_INPUT with HTTP 400 and lets clean operations through", async () => {
    await expect(
      guard('{ products(search: "ok") { totalCount } }', { unused: ["fine"] }),
    ).resolves.toBeUndefined();
    await expect(
      guard("query($s: String) { products(search: $s) { totalCount } }", {
        s: "x\u0000",
      }),
    ).rejects.toMatchObject({
      extensions: {
        code: "BAD_USER_INPUT",
        field: "$s",
        http: { status: 400 },
      },
    });
    await expect(
      guard('{ products(search: "\\u0000") { totalCount } }'),
    ).rejects.toMatchObject({
      extensions: { code: "BAD_USER_INPUT", field: "search" },
    });
  });
});
