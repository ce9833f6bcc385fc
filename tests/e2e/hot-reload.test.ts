import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../platform/database.ts";
import { scratchPglite } from "../support/pglite.ts";
import type { Stack } from "../../stack.ts";
import {
  composeFromConfig,
  readCompositionConfig,
} from "../../scripts/composition.ts";
import {
  bootStack,
  gql,
  memoryLogger,
  type GraphQLResponse,
  type Json,
} from "../support/stack.ts";
import { withEditedSchema } from "../support/edited-schema.ts";
import { waitFor } from "../support/wait.ts";

const ORIGINAL = 'Stock-keeping unit, unique, e.g. "SW-0001".';
const RELOADED = 'Stock-keeping unit (reloaded), unique, e.g. "SW-0001".';
const PRODUCTS =
  "{ products(first: 3) { totalCount edges { node { name price } } } }";

/** The committed supergraph with one description changed: a visible, valid schema change. */
function variantSupergraph(dir: string): string {
  const changed = withEditedSchema(
    readCompositionConfig("supergraph.yaml"),
    "products",
    dir,
    (sdl) =>
      sdl.replace(
        "Stock-keeping unit, unique",
        "Stock-keeping unit (reloaded), unique",
      ),
  );
  const outcome = composeFromConfig(changed);
  if (!outcome.ok) throw new Error(outcome.errors.join("\n"));
  return outcome.supergraphSdl;
}

describe("the router serving a supergraph file", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-supergraph-"));
  const path = join(dir, "supergraph.graphql");
  let storage: Storage;
  let stack: Stack;
  const { logger, lines } = memoryLogger("info");
  const description = async () => {
    const { data } = await gql(
      stack.routerUrl,
      '{ __type(name: "Product") { fields { name description } } }',
    );
    return (
      data?.__type?.fields as
        Array<{ name: string; description: string }> | undefined
    )?.find((field) => field.name === "sku")?.description;
  };

  beforeAll(async () => {
    copyFileSync("supergraph.graphql", path);
    storage = await scratchPglite();
    stack = await bootStack(storage, { supergraphPath: path, logger });
  });
  afterAll(async () => {
    await stack?.stop();
    await storage?.close();
  });

  it("reloads when the file changes, answering every request issued meanwhile", async () => {
    expect(await description()).toBe(ORIGINAL);
    writeFileSync(path, variantSupergraph(dir));
    // Keep four requests in flight at a time until the new schema shows: some are planned on the
    // old schema and finish after the swap, and each must still be answered in full.
    const responses: Array<GraphQLResponse<Json>> = [];
    await waitFor(
      async () => {
        responses.push(
          ...(await Promise.all(
            Array.from({ length: 4 }, () => gql(stack.routerUrl, PRODUCTS)),
          )),
        );
        return (await description()) === RELOADED ? true : undefined;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 0,
        what: "the router to serve the reloaded supergraph",
      },
    );
    expect(responses.length).toBeGreaterThan(0);
    for (const response of responses) {
      expect(response.errors).toBeUndefined();
      expect(response.data?.products.totalCount).toBe(50);
    }
  });

  it("keeps serving the last good schema when the file is replaced by garbage", async () => {
    const before = await description();
    const rejectedBefore = lines.filter(
      (line) =>
        line.msg === "new supergraph rejected; keeping the current schema",
    ).length;
    writeFileSync(path, "this is not a supergraph {");
    // Wait until the watcher has read the garbage and the gateway refused it, then prove the router still answers on the old schema.
    await waitFor(
      () =>
        lines.filter(
          (line) =>
            line.msg === "new supergraph rejected; keeping the current schema",
        ).length > rejectedBefore
          ? true
          : undefined,
      {
        timeoutMs: 20_000,
        what: "the router to reject the broken supergraph",
      },
    );
    expect(await description()).toBe(before);
    const { data, errors } = await gql(
      stack.routerUrl,
      "{ products(first: 1) { totalCount } }",
    );
    expect(errors).toBeUndefined();
    expect(data.products.totalCount).toBe(50);
  });
});
