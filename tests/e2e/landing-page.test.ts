import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../platform/database.ts";
import { scratchPglite } from "../support/pglite.ts";
import { DOCS, FIRST_QUERY, GRAPHIQL_PATH } from "../../router/landing-page.ts";
import type { Stack } from "../../stack.ts";
import { bootStack, gql } from "../support/stack.ts";

describe("the router landing page outside production", () => {
  let storage: Storage;
  let stack: Stack;
  let origin: string;
  beforeAll(async () => {
    storage = await scratchPglite();
    stack = await bootStack(storage);
    origin = new URL(stack.routerUrl).origin;
  });
  afterAll(async () => {
    await stack?.stop();
    await storage?.close();
  });

  it("opens Sandbox on the README's first query with an Authorization header and links to the docs and GraphiQL", async () => {
    const response = await fetch(stack.routerUrl, {
      headers: { accept: "text/html" },
    });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/embeddable-sandbox/);
    // Apollo passes the initial state to the embed as JSON in the page.
    expect(html).toContain(JSON.stringify(FIRST_QUERY).slice(1, -1));
    expect(html).toMatch(
      /"headers":\{"Authorization":"","x-switchyard-debug":"plan"\}/,
    );
    expect(html).toMatch(
      /<div id="switchyard-help">[\s\S]*href="\/docs\/README\.md"[\s\S]*href="\/docs\/clients\.md"[\s\S]*href="\/graphiql"/,
    );
    // Our watchdog and styles carry the page's CSP nonce, or the browser would drop them; they come
    // right after the CSP, before anything that could block (tests/e2e/browser.test.ts runs them).
    const nonce = /script-src 'self' 'nonce-([0-9a-f]+)'/.exec(html)?.[1];
    expect(html).toMatch(
      new RegExp(
        `<meta http-equiv="Content-Security-Policy"[^>]*>\\n<script nonce="${nonce}">[\\s\\S]*?</script>\\n<style nonce=${nonce}>`,
      ),
    );
    expect(html).toContain(`<style nonce=${nonce}>`);
    expect(html).toContain(
      '<div class="fallback" id="switchyard-sandbox-status">',
    );
    // Nothing from a CDN but Sandbox itself: no render-blocking web-font stylesheet.
    expect(html).not.toMatch(/fonts\.googleapis\.com\/css/);
    expect(html).not.toMatch(/might be offline/);
  });

  it("serves a landing page at / that links the explorer, GraphiQL, the docs, health, readiness and metrics", async () => {
    const response = await fetch(`${origin}/`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    const links = [...(await response.text()).matchAll(/href="([^"]+)"/g)].map(
      (match) => match[1],
    );
    for (const path of [
      "/graphql",
      GRAPHIQL_PATH,
      ...Object.keys(DOCS),
      "/health",
      "/ready",
      "/metrics",
    ])
      expect(links, path).toContain(path);
  });

  it("the first query is the README's, and runs as is with the empty Authorization header Sandbox sends", async () => {
    const readme = readFileSync("README.md", "utf8");
    const firstBlock = /```graphql\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(firstBlock).toBe(FIRST_QUERY);
    const { status, data, errors } = await gql(
      stack.routerUrl,
      FIRST_QUERY,
      {},
      { authorization: "" },
    );
    expect(errors).toBeUndefined();
    expect(status).toBe(200);
    expect(data.products.edges).toHaveLength(5);
  });

  it("serves an offline GraphiQL whose scripts and styles all come from the router, not a CDN", async () => {
    const page = await fetch(`${origin}${GRAPHIQL_PATH}`);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    const assets = [
      ...html.matchAll(/<(?:script src|link rel="stylesheet" href)="([^"]+)"/g),
    ].map((match) => match[1]!);
    expect(assets.length).toBe(5);
    for (const asset of assets) {
      expect(asset.startsWith(`${GRAPHIQL_PATH}/`), asset).toBe(true);
      const response = await fetch(`${origin}${asset}`);
      expect(response.status, asset).toBe(200);
      expect((await response.arrayBuffer()).byteLength, asset).toBeGreaterThan(
        1000,
      );
    }
    expect(html).toContain(JSON.stringify(FIRST_QUERY).slice(1, -1));
  });

  it("serves the docs it links", async () => {
    for (const [path, file] of [
      ["/docs/README.md", "README.md"],
      ["/docs/clients.md", "docs/clients.md"],
    ] as const) {
      const response = await fetch(`${origin}${path}`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe(readFileSync(file, "utf8"));
    }
  });
});
