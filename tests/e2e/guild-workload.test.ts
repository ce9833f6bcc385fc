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
import { gql, serveRouter, testRouterConfig } from "../support/stack.ts";

describe("the Guild federation benchmark workload, served through Switchyard's router", () => {
  let subgraphs: GuildSubgraphs;
  let served: Awaited<ReturnType<typeof serveRouter>>;

  beforeAll(async () => {
    subgraphs = await startGuildSubgraphs();
    const path = join(
      mkdtempSync(join(tmpdir(), "guild-")),
      "supergraph.graphql",
    );
    writeFileSync(path, subgraphs.supergraphSdl);
    // The workload's subgraphs are not ours: they take any caller, so only the routing matters here.
    served = await serveRouter(testRouterConfig({ supergraphPath: path }));
  });
  afterAll(async () => {
    await served?.stop();
    await subgraphs?.close();
  });

  it("answers the deep TestQuery with exactly the expected response", async () => {
    const before = { ...subgraphs.requests };
    const response = await gql(served.url, testQuery);
    expect({ data: response.data }).toEqual(expectedResponse);
    expect(response.errors).toBeUndefined();
    const fetches =
      Object.values(subgraphs.requests).reduce((sum, count) => sum + count, 0) -
      Object.values(before).reduce((sum, count) => sum + count, 0);
    // The benchmark's plan: 16 subgraph fetches per request with @apollo/gateway's query planner.
    expect(fetches).toBe(16);
  });
});
