import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectedResponse,
  startGuildSubgraphs,
  testQuery,
  type GuildSubgraphs,
} from "../../bench/guild/subgraphs.ts";
import { listen, type RunningServer } from "../../platform/http-server.ts";
import { createRouter, type Router } from "../../router/server.ts";
import { gql, silentLogger, testRouterConfig } from "../support/stack.ts";

describe("the Guild federation benchmark workload, served through Switchyard's router", () => {
  let subgraphs: GuildSubgraphs;
  let router: Router;
  let running: RunningServer;

  beforeAll(async () => {
    subgraphs = await startGuildSubgraphs();
    const path = join(
      mkdtempSync(join(tmpdir(), "guild-")),
      "supergraph.graphql",
    );
    writeFileSync(path, subgraphs.supergraphSdl);
    // The workload's subgraphs are not ours: they take any caller, so only the routing matters here.
    router = createRouter({
      config: testRouterConfig({ supergraphPath: path }),
      logger: silentLogger,
    });
    await router.start();
    running = await listen(router.handler, { port: 0 });
  });
  afterAll(async () => {
    await running?.close();
    await router?.stop();
    await subgraphs?.close();
  });

  it("answers the deep TestQuery with exactly the expected response", async () => {
    const before = { ...subgraphs.requests };
    const response = await gql(`${running.url}/graphql`, testQuery);
    expect({ data: response.data }).toEqual(expectedResponse);
    expect(response.errors).toBeUndefined();
    const fetches =
      Object.values(subgraphs.requests).reduce((sum, count) => sum + count, 0) -
      Object.values(before).reduce((sum, count) => sum + count, 0);
    // The benchmark's plan: 16 subgraph fetches per request with @apollo/gateway's query planner.
    expect(fetches).toBe(16);
  });
});
