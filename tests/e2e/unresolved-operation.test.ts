import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStorage, type Storage } from "../../platform/database.ts";
import type { Stack } from "../../stack.ts";
import { bootStack } from "../support/stack.ts";
import { postGraphQLBody } from "../support/graphql.ts";

/**
 * A document without the operation the request names is the client's mistake (GraphiQL makes it
 * when run right after an edit): a 400 with Apollo's code, never an internal error with a stack.
 */
describe("an operation name the document does not resolve", () => {
  let storage: Storage;
  let stack: Stack;
  beforeAll(async () => {
    storage = await openStorage({ dataDir: "memory://" });
    stack = await bootStack(storage);
  });
  afterAll(async () => {
    await stack?.stop();
    await storage?.close();
  });

  const send = (body: Record<string, unknown>) =>
    postGraphQLBody(stack.routerUrl, body);

  it("a name no operation has is a 400 OPERATION_RESOLUTION_FAILURE", async () => {
    const { status, body } = await send({
      query: "query Me { me { name } }",
      operationName: "FirstLook",
    });
    expect(status).toBe(400);
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: 'Unknown operation named "FirstLook".',
        extensions: expect.objectContaining({
          code: "OPERATION_RESOLUTION_FAILURE",
        }),
      }),
    ]);
  });

  it("two operations and no name is a 400 OPERATION_RESOLUTION_FAILURE", async () => {
    const { status, body } = await send({
      query:
        "query A { products(first: 1) { totalCount } } query B { products(first: 2) { totalCount } }",
    });
    expect(status).toBe(400);
    expect(body.errors?.[0]).toMatchObject({
      message:
        "Must provide operation name if query contains multiple operations.",
      extensions: { code: "OPERATION_RESOLUTION_FAILURE" },
    });
  });

  it("the named operation of several still runs", async () => {
    const { status, body } = await send({
      query:
        "query A { products(first: 1) { totalCount } } query B { products(first: 2) { totalCount } }",
      operationName: "B",
    });
    expect(status).toBe(200);
    expect(body).toEqual({ data: { products: { totalCount: 50 } } });
  });
});
