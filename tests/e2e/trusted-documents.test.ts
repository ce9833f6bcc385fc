import { createHash, randomBytes } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../../clients/client.ts";
import {
  BrowseProductsDocument,
  ProductPageDocument,
} from "../../clients/generated/graphql.ts";
import { PERSISTED_DOCUMENT_IDS } from "../../clients/generated/persisted-documents.ts";
import { demoUsers } from "../../platform/demo-data.ts";
import { withSubgraphSettings } from "../../router/config.ts";
import {
  buildManifest,
  documentId,
  type Manifest,
} from "../../router/trusted-documents/manifest.ts";
import type { Stack } from "../../stack.ts";
import {
  bearerFor,
  bootStack,
  counterValues,
  gql,
  routerDefaults,
  serveRouter,
  staticDiscoveryOf,
} from "../support/stack.ts";
import { ownRouterSecurity } from "../support/own-router.ts";
import { scratchDir } from "../support/scratch.ts";
import { pgliteBackend } from "../support/storage.ts";
import { postGraphQLBody as post } from "../support/graphql.ts";
import { subgraphFetchCount } from "../support/subgraph-fetch-count.ts";
import { waitFor } from "../support/wait.ts";

const [admin, ada] = [demoUsers[0]!, demoUsers[1]!];
// Generous on purpose: eight test runs share two cores, and a subgraph timeout is not under test.
const PATIENT = {
  ROUTER_SUBGRAPH_TIMEOUT_MS: "20000",
  ROUTER_REQUEST_DEADLINE_MS: "60000",
};
const FREE_TEXT = "{ products(first: 1) { totalCount } }";
const sha256 = (text: string) =>
  createHash("sha256").update(text).digest("hex");

const byId = (id: string, variables: Record<string, unknown> = {}) => ({
  extensions: { persistedQuery: { version: 1, sha256Hash: id } },
  variables,
});

/**
 * The router in each trusted-documents mode, in front of one stack's subgraphs: the stack's own
 * router is `off` (the default); two more routers run `log-unknown` and `enforce` on a manifest
 * file of this test's own (a copy of what `npm run codegen` wrote), which the test rewrites.
 */
describe("trusted documents at the router", () => {
  let stack: Stack;
  let drop: () => Promise<void>;
  const manifestPath = join(scratchDir("trusted-documents-"), "manifest.json");
  const stops: Array<() => Promise<void>> = [];
  let enforce: Awaited<ReturnType<typeof serveRouter>>;
  let logUnknown: Awaited<ReturnType<typeof serveRouter>>;
  let asAdmin: Record<string, string>;
  const internalTokenSecret = randomBytes(32).toString("base64url");

  async function routerIn(env: Record<string, string>) {
    const defaults = routerDefaults({ ...PATIENT, ...env });
    const served = await serveRouter({
      ...defaults,
      subgraphs: withSubgraphSettings(defaults, staticDiscoveryOf(stack))
        .subgraphs,
      security: ownRouterSecurity(stack, defaults, internalTokenSecret),
    });
    stops.push(served.stop);
    return served;
  }

  const outcomes = async (router: typeof enforce) =>
    counterValues(
      router.router.metrics.registry,
      "router_trusted_documents_total",
    );

  beforeAll(async () => {
    writeFileSync(
      manifestPath,
      readFileSync("clients/generated/persisted-documents.json"),
    );
    const opened = await pgliteBackend.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, {
      internalTokenSecret,
      routerEnv: PATIENT,
    });
    enforce = await routerIn({
      ROUTER_TRUSTED_DOCUMENTS_MODE: "enforce",
      ROUTER_TRUSTED_DOCUMENTS_MANIFESTS: manifestPath,
    });
    logUnknown = await routerIn({
      ROUTER_TRUSTED_DOCUMENTS_MODE: "log-unknown",
      ROUTER_TRUSTED_DOCUMENTS_MANIFESTS: manifestPath,
    });
    asAdmin = await bearerFor(stack.routerUrl, admin.email);
  });
  afterAll(async () => {
    for (const stop of stops) await stop();
    await stack?.stop();
    await drop?.();
  });

  describe("enforce", () => {
    it("runs the typed client's operations, sent by id", async () => {
      const calls: string[] = [];
      const client = createClient({
        url: enforce.url,
        fetch: (input, init) => {
          calls.push(String(init?.body));
          return fetch(input, init);
        },
      });
      const { products } = await client.request(BrowseProductsDocument, {
        first: 2,
      });
      expect(products.edges).toHaveLength(2);
      expect(calls).toHaveLength(1);
      expect(JSON.parse(calls[0]!)).toEqual(
        byId(PERSISTED_DOCUMENT_IDS.get(BrowseProductsDocument)!, {
          first: 2,
        }),
      );
      expect((await outcomes(enforce))["enforce,trusted"]).toBeGreaterThan(0);
    });

    it("runs the full text of a manifest document (its normalised id is in the manifest)", async () => {
      const response = await gql(enforce.url, ProductPageDocument.toString(), {
        id: "00000000-0000-0000-0000-000000000000",
      });
      expect(response.errors?.[0]?.extensions?.code).not.toBe(
        "OPERATION_NOT_ALLOWED",
      );
    });

    it("refuses any other document with 403 OPERATION_NOT_ALLOWED before a subgraph is called", async () => {
      const fetches = () => subgraphFetchCount(enforce.router);
      const before = await fetches();
      const refused = await post(enforce.url, { query: FREE_TEXT });
      expect(refused.status).toBe(403);
      expect(refused.body.errors?.[0]?.extensions).toMatchObject({
        code: "OPERATION_NOT_ALLOWED",
        documentId: documentId(FREE_TEXT),
      });
      expect(await fetches()).toBe(before);
      expect((await outcomes(enforce))["enforce,refused"]).toBeGreaterThan(0);
    });

    it("answers PERSISTED_QUERY_NOT_FOUND for an unknown id, and refuses an APQ registration", async () => {
      const unknown = await post(enforce.url, byId(sha256("nothing")));
      expect(unknown.body.errors?.[0]?.extensions?.code).toBe(
        "PERSISTED_QUERY_NOT_FOUND",
      );
      const register = await post(enforce.url, {
        query: FREE_TEXT,
        ...byId(sha256(FREE_TEXT)),
      });
      expect(register.body.errors?.[0]?.extensions?.code).toBe(
        "OPERATION_NOT_ALLOWED",
      );
      const afterwards = await post(enforce.url, byId(sha256(FREE_TEXT)));
      expect(afterwards.body.errors?.[0]?.extensions?.code).toBe(
        "PERSISTED_QUERY_NOT_FOUND",
      );
      expect((await outcomes(enforce))["enforce,not_found"]).toBeGreaterThan(0);
    });

    it("lets a caller with the admin scope run any document (tooling bypass), but not a customer", async () => {
      const asAda = await bearerFor(stack.routerUrl, ada.email);
      const customer = await post(enforce.url, { query: FREE_TEXT }, asAda);
      expect(customer.body.errors?.[0]?.extensions?.code).toBe(
        "OPERATION_NOT_ALLOWED",
      );
      const tooling = await post(enforce.url, { query: FREE_TEXT }, asAdmin);
      expect(tooling.body.errors).toBeUndefined();
      expect(tooling.body.data).toMatchObject({
        products: { totalCount: expect.any(Number) },
      });
      expect((await outcomes(enforce))["enforce,bypass"]).toBeGreaterThan(0);
    });

    it("hot-reloads the manifest: a document added to the file runs by id without a restart", async () => {
      const added = buildManifest([
        parse("query ProductCount { products(first: 1) { totalCount } }"),
      ]).operations[0]!;
      expect(
        (await post(enforce.url, byId(added.id))).body.errors?.[0]?.extensions
          ?.code,
      ).toBe("PERSISTED_QUERY_NOT_FOUND");
      const current = JSON.parse(
        readFileSync(manifestPath, "utf8"),
      ) as Manifest;
      const next = { ...current, operations: [...current.operations, added] };
      // Replaced by rename, as editors and generators do.
      writeFileSync(`${manifestPath}.tmp`, JSON.stringify(next));
      renameSync(`${manifestPath}.tmp`, manifestPath);
      const answer = await waitFor(
        async () => {
          const response = await post(enforce.url, byId(added.id));
          return response.body.data ? response : undefined;
        },
        { timeoutMs: 30_000, what: "the reloaded manifest" },
      );
      expect(answer.body.data).toMatchObject({
        products: { totalCount: expect.any(Number) },
      });
    });
  });

  describe("log-unknown", () => {
    it("runs unknown documents and counts them, and APQ works alongside", async () => {
      const free = await post(logUnknown.url, { query: FREE_TEXT });
      expect(free.body.errors).toBeUndefined();
      const apqText = "{ products(first: 2) { totalCount } }";
      const miss = await post(logUnknown.url, byId(sha256(apqText)));
      expect(miss.body.errors?.[0]?.extensions?.code).toBe(
        "PERSISTED_QUERY_NOT_FOUND",
      );
      const register = await post(logUnknown.url, {
        query: apqText,
        ...byId(sha256(apqText)),
      });
      expect(register.body.errors).toBeUndefined();
      const hit = await post(logUnknown.url, byId(sha256(apqText)));
      expect(hit.body.data).toEqual(register.body.data);
      const counted = await outcomes(logUnknown);
      expect(counted["log-unknown,unknown"]).toBeGreaterThanOrEqual(2);
    });
  });

  describe("off (the default)", () => {
    it("the typed client falls back to the text once per document when the router knows no ids", async () => {
      const calls: Array<Record<string, unknown>> = [];
      const client = createClient({
        url: stack.routerUrl,
        fetch: (input, init) => {
          calls.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
          return fetch(input, init);
        },
      });
      await client.request(BrowseProductsDocument, { first: 1 });
      await client.request(BrowseProductsDocument, { first: 1 });
      expect(calls.map((call) => "query" in call)).toEqual([false, true, true]);
    });
  });
});
