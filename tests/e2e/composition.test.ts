import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { composeServices } from "@apollo/composition";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../platform/database.ts";
import { scratchPglite } from "../support/pglite.ts";
import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../../platform/internal-token.ts";
import { SUBGRAPH_NAMES } from "../../platform/services.ts";
import type { Stack } from "../../stack.ts";
import { bootStack, gql } from "../support/stack.ts";

const run = promisify(execFile);

describe("npm run compose:check", () => {
  it("makes `compose --check` exit non-zero with a readable message on the broken fixture", async () => {
    const failure = await run("npx", [
      "tsx",
      "scripts/compose.ts",
      "--check",
      "--config",
      "tests/fixtures/broken-composition/supergraph.yaml",
    ]).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/Composition failed with \d+ error\(s\)/);
    expect(failure?.stderr).toMatch(/Product\.price/);
  });
});

describe("every running subgraph's _service { sdl }", () => {
  let storage: Storage;
  let stack: Stack;
  const internalTokenSecret = randomBytes(32).toString("base64url");
  beforeAll(async () => {
    storage = await scratchPglite();
    stack = await bootStack(storage, { internalTokenSecret });
  });
  afterAll(async () => {
    await stack?.stop();
    await storage?.close();
  });

  it("composes into the committed supergraph", async () => {
    const services = [];
    // Subgraphs answer the router only: sign as the router would for an anonymous caller.
    const routerToken = {
      [INTERNAL_TOKEN_HEADER]: await createInternalTokenSigner({
        secret: internalTokenSecret,
      }).sign(null),
    };
    for (const name of SUBGRAPH_NAMES) {
      const { data, errors } = await gql(
        stack.subgraphs[name].url,
        "{ _service { sdl } }",
        {},
        routerToken,
      );
      expect(errors).toBeUndefined();
      services.push({
        name,
        url: `http://localhost:${4001 + services.length}/graphql`,
        typeDefs: parse(data._service.sdl),
      });
    }
    const result = composeServices(services);
    expect(result.errors).toBeUndefined();
    expect(result.hints).toEqual([]);
    expect(result.supergraphSdl?.trimEnd()).toBe(
      readFileSync("supergraph.graphql", "utf8").trimEnd(),
    );
  });
});
