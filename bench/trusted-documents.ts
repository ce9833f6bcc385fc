/**
 * Trusted documents against today's path: the same operation (the storefront's BrowseProducts,
 * anonymous, 20 products) sent as full text to a router in the default mode (`off`), and by id to a
 * router in `enforce` mode with the codegen manifest; alternating rounds, router CPU per request from
 * each router's own process.
 */
import { BrowseProductsDocument } from "../clients/generated/graphql.ts";
import { PERSISTED_DOCUMENT_IDS } from "../clients/generated/persisted-documents.ts";
import { load, medianOf, type Measured } from "./load.ts";
import { startRunner } from "./runners.ts";

export interface TrustedDocumentsRow extends Measured {
  readonly path: "full text, mode off" | "by id, mode enforce";
}

export interface TrustedDocumentsResult {
  readonly description: string;
  readonly rows: readonly TrustedDocumentsRow[];
  /** CPU per request by id ÷ CPU per request with the full text. */
  readonly cpuRatio: number;
}

export const MANIFEST = "clients/generated/persisted-documents.json";

export async function measureTrustedDocuments({
  urls,
  env,
  durationS,
  warmupS,
  rounds,
  connections,
  log,
}: {
  urls: Record<string, string>;
  env: Record<string, string>;
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  log: (line: string) => void;
}): Promise<TrustedDocumentsResult> {
  const variables = { first: 20 };
  const id = PERSISTED_DOCUMENT_IDS.get(BrowseProductsDocument);
  if (!id) throw new Error("BrowseProducts has no id: run npm run codegen");
  const paths = [
    {
      path: "full text, mode off" as const,
      body: { query: BrowseProductsDocument.toString(), variables },
      runner: await startRunner("switchyard", { urls, env }),
    },
    {
      path: "by id, mode enforce" as const,
      body: {
        extensions: { persistedQuery: { version: 1, sha256Hash: id } },
        variables,
      },
      runner: await startRunner("switchyard", {
        urls,
        env: {
          ...env,
          ROUTER_TRUSTED_DOCUMENTS_MODE: "enforce",
          ROUTER_TRUSTED_DOCUMENTS_MANIFESTS: MANIFEST,
        },
      }),
    },
  ];
  try {
    const measured = new Map<string, Measured[]>(
      paths.map(({ path }) => [path, []]),
    );
    for (const { runner, body } of paths)
      await load({ url: runner.url, body, durationS: warmupS, connections });
    for (let round = 0; round < rounds; round++)
      for (let offset = 0; offset < paths.length; offset++) {
        const { path, runner, body } = paths[(round + offset) % paths.length]!;
        const result = await load({
          url: runner.url,
          body,
          durationS,
          connections,
          runner,
        });
        if (result.errors > 0)
          throw new Error(`${path}: ${result.errors} errors`);
        measured.get(path)!.push(result);
      }
    const rows = paths.map(({ path }) => ({
      path,
      ...medianOf(measured.get(path)!),
    }));
    for (const row of rows)
      log(
        `${row.path.padEnd(24)} ${row.rps.toFixed(0)} req/s  p50 ${row.p50.toFixed(2)} ms  cpu ${row.cpuMicrosPerRequest?.toFixed(0) ?? "?"} µs/req`,
      );
    const [text, byId] = rows;
    return {
      description:
        "The storefront's BrowseProducts (20 products, anonymous): full text to a router in the default mode (off) against its id to a router enforcing the codegen manifest.",
      rows,
      cpuRatio:
        (byId!.cpuMicrosPerRequest ?? Number.NaN) /
        (text!.cpuMicrosPerRequest ?? Number.NaN),
    };
  } finally {
    await Promise.all(paths.map(({ runner }) => runner.stop()));
  }
}
