import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../stack.ts";
import { pgliteBackend } from "../support/storage.ts";
import { bootStack, gql } from "../support/stack.ts";

const pglite = pgliteBackend;

describe.each([false, true])("the router with production=%s", (production) => {
  let stack: Stack;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, { production });
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  it(
    production ? "refuses introspection" : "allows introspection",
    async () => {
      const response = await gql(
        stack.routerUrl,
        "{ __schema { queryType { name } } }",
      );
      if (production)
        expect(response.errors?.[0]?.extensions?.code).toBe(
          "GRAPHQL_VALIDATION_FAILED",
        );
      else
        expect(response.data).toEqual({
          __schema: { queryType: { name: "Query" } },
        });
    },
  );

  it(
    production
      ? "serves no Sandbox landing page"
      : "serves the Sandbox landing page",
    async () => {
      const response = await fetch(stack.routerUrl, {
        headers: { accept: "text/html" },
      });
      const html = await response.text();
      expect(
        html.includes("embeddable-sandbox") || html.includes("sandbox"),
      ).toBe(!production);
      const graphiql = await fetch(new URL("/graphiql", stack.routerUrl));
      expect(graphiql.status).toBe(production ? 404 : 200);
      const home = await fetch(new URL("/", stack.routerUrl));
      expect(home.status).toBe(production ? 404 : 200);
    },
  );

  it(
    production
      ? "masks unexpected errors"
      : "shows unexpected errors with INTERNAL_SERVER_ERROR",
    async () => {
      const db = stack.subgraphs.products.db;
      await db.query("ALTER TABLE products.products RENAME TO products_moved");
      try {
        const response = await gql(
          stack.routerUrl,
          "{ products(first: 1) { totalCount } }",
        );
        expect(response.errors?.[0]?.extensions?.code).toBe(
          "INTERNAL_SERVER_ERROR",
        );
        const text = JSON.stringify(response.errors);
        if (production)
          expect(text).not.toMatch(
            /products\.products|relation|SELECT|stacktrace|\.ts:\d+/,
          );
        else expect(text).toMatch(/products\.products|relation/);
      } finally {
        await db.query(
          "ALTER TABLE products.products_moved RENAME TO products",
        );
      }
    },
  );
});
