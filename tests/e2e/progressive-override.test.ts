import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { overrideSupergraph } from "../support/override-supergraph.ts";
import { gql, serveRouter, testRouterConfig } from "../support/stack.ts";

const QUERY = "{ product { name price stock rating } }";

interface Product {
  name: string;
  price: string;
  stock: string;
  rating: string;
}

/**
 * The router (createRouter, as deployed) over a supergraph whose fields move between two fixture
 * subgraphs behind override labels: tests/support/override-supergraph.ts.
 */
describe("progressive @override through the router", () => {
  const stops: Array<() => Promise<void>> = [];
  let routerUrl: string;
  let dir: string;

  beforeAll(async () => {
    const urls: Record<string, string> = {};
    for (const [name, schema] of overrideSupergraph({ percent: 50 }).schemas) {
      const server = new ApolloServer({ schema });
      const { url } = await startStandaloneServer(server, {
        listen: { port: 0, host: "127.0.0.1" },
      });
      stops.push(() => server.stop());
      urls[name] = url;
    }
    dir = mkdtempSync(join(tmpdir(), "switchyard-override-"));
    const supergraphPath = join(dir, "supergraph.graphql");
    writeFileSync(
      supergraphPath,
      overrideSupergraph({
        percent: 50,
        urls: { legacy: urls.legacy!, modern: urls.modern! },
      }).supergraphSdl,
    );
    const router = await serveRouter(
      testRouterConfig(
        { supergraphPath },
        { ROUTER_OVERRIDE_HEADER_LABELS: "new-rating" },
      ),
    );
    stops.push(router.stop);
    routerUrl = router.url;
  });
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function ask(headers: Record<string, string> = {}): Promise<Product> {
    const response = await gql<{ product: Product }>(
      routerUrl,
      QUERY,
      {},
      headers,
    );
    expect(response.errors).toBeUndefined();
    return response.data!.product;
  }

  it("serves about half the requests from the new subgraph under percent(50), each consistently", async () => {
    const samples = 100;
    let modern = 0;
    for (let i = 0; i < samples; i++) {
      const product = await ask();
      expect(product.stock).toBe(product.price);
      if (product.price === "modern") modern++;
    }
    // Unseeded draws (the router's Math.random): sd at n=100 is 0.05, so ±0.25 is 5 sd. The share
    // following N is proven with seeded draws in tests/unit/router/progressive-override.test.ts.
    expect(modern / samples).toBeGreaterThan(0.25);
    expect(modern / samples).toBeLessThan(0.75);
  });

  it("switches an allowed label on per request from the header, even among identical requests in flight", async () => {
    const answers = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        ask(i % 2 === 0 ? { "x-switchyard-override": "new-rating" } : {}),
      ),
    );
    answers.forEach((product, i) =>
      expect(product.rating).toBe(i % 2 === 0 ? "modern" : "legacy"),
    );
  });
});
