/**
 * `npm run bench:subgraph-fetch`: the router's CPU per subgraph fetch, its own HTTP exchange
 * (router/subgraph-http.ts, undici's dispatch handler) against what the subgraph pool did before
 * (undici's `request()` with an AbortController and a timer, then `body.text()`), on one undici
 * Agent, 16 fetches in flight, rounds alternating. The subgraph is a child process answering every
 * POST with the same 6 KB JSON, so only the client's work is counted (process.cpuUsage). Prints the
 * median CPU µs per fetch of each; the Guild query makes about 17 fetches per request. Loopback only.
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Agent } from "undici";
import { postToSubgraph } from "../router/subgraph-http.ts";

const FETCHES_PER_ROUND = 3000;
const IN_FLIGHT = 16;
const ROUNDS = 10;

if (process.argv[2] === "--subgraph") {
  const payload = JSON.stringify({
    data: { product: { text: "x".repeat(6000) } },
  });
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, {
        "content-type": "application/json",
        "cache-control": "no-store",
      });
      res.end(payload);
    });
  });
  server.listen(0, "127.0.0.1", () =>
    process.send!((server.address() as AddressInfo).port),
  );
  process.on("disconnect", () => process.exit(0));
} else {
  const child = fork(new URL(import.meta.url).pathname, ["--subgraph"], {
    execArgv: ["--import", "tsx"],
  });
  const port = await new Promise<number>((resolve) =>
    child.once("message", (message) => resolve(message as number)),
  );
  const origin = `http://127.0.0.1:${port}`;
  const agent = new Agent({ connections: 64, pipelining: 1 });
  const headers = { "content-type": "application/json" };
  const body = JSON.stringify({
    query:
      "query Op__products__1($representations: [_Any!]!) { _entities(representations: $representations) { ... on Product { text } } }",
    variables: { representations: [{ __typename: "Product", upc: "1" }] },
  });
  const exchanges = {
    "undici request() + body.text()": async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      try {
        const response = await agent.request({
          origin,
          path: "/graphql",
          method: "POST",
          headers,
          body,
          signal: controller.signal,
        });
        const text = await response.body.text();
        return text.length + (response.headers["content-type"] ? 1 : 0);
      } finally {
        clearTimeout(timer);
      }
    },
    "postToSubgraph (dispatch handler)": async () => {
      const response = await postToSubgraph(agent, {
        origin,
        path: "/graphql",
        headers,
        body,
        timeoutMs: 30_000,
      });
      return response.text.length + (response.headers.contentType ? 1 : 0);
    },
  };
  const perFetch = new Map<string, number[]>();
  for (let round = 0; round < ROUNDS + 1; round++)
    for (const [name, exchange] of Object.entries(exchanges)) {
      let started = 0;
      const before = process.cpuUsage();
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async () => {
          while (started++ < FETCHES_PER_ROUND) await exchange();
        }),
      );
      const used = process.cpuUsage(before);
      // The first round warms both up (JIT, connections) and is not counted.
      if (round > 0)
        perFetch.set(name, [
          ...(perFetch.get(name) ?? []),
          (used.user + used.system) / FETCHES_PER_ROUND,
        ]);
    }
  for (const [name, values] of perFetch) {
    const sorted = [...values].sort((a, b) => a - b);
    console.log(
      `${name.padEnd(36)} median ${sorted[sorted.length >> 1]!.toFixed(1)} CPU µs/fetch (rounds: ${values.map((value) => value.toFixed(0)).join(" ")})`,
    );
  }
  await agent.close();
  child.disconnect();
}
