/**
 * A Node port of The Guild's federation gateway benchmark workload (graphql-hive/
 * graphql-gateways-benchmark): four subgraphs — accounts, inventory, products, reviews — serving
 * the rows in data.json with the resolver semantics the benchmark's expected response depends on.
 *
 * Made cheap so the gateway, not the subgraphs, is what a benchmark measures: no framework, and
 * each distinct query string is parsed and validated once (a gateway sends the same few shapes).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { execute, parse, validate, type DocumentNode, type GraphQLError, type GraphQLSchema } from 'graphql';

interface Data {
  users: Array<{ id: string; name: string; username: string; birthday: number }>;
  inventory: Array<{ upc: string; inStock: boolean }>;
  products: Array<{ upc: string; name: string; price: number; weight: number }>;
  reviews: Array<{ id: string; body: string; productUpc: string }>;
}

const here = (file: string) => new URL(file, import.meta.url);
export const data: Data = JSON.parse(readFileSync(here('./data.json'), 'utf8'));
export const testQuery = readFileSync(here('./test-query.graphql'), 'utf8');
export const expectedResponse: unknown = JSON.parse(readFileSync(here('./expected-response.json'), 'utf8'));

export const GUILD_SUBGRAPHS = ['accounts', 'inventory', 'products', 'reviews'] as const;
export type GuildSubgraph = (typeof GUILD_SUBGRAPHS)[number];

const typeDefs = (name: GuildSubgraph) => parse(readFileSync(here(`./schemas/${name}.graphql`), 'utf8'));

const byId = <T extends Record<K, string>, K extends keyof T>(rows: T[], key: K) => new Map(rows.map((row) => [row[key], row]));
const users = byId(data.users, 'id');
const products = byId(data.products, 'upc');
const inventory = byId(data.inventory, 'upc');
const reviews = byId(data.reviews, 'id');

/** Resolvers per subgraph, with the upstream implementation's quirks kept (see README). */
const resolvers: Record<GuildSubgraph, Record<string, unknown>> = {
  accounts: {
    Query: {
      me: () => data.users[0],
      user: (_: unknown, { id }: { id: string }) => users.get(id) ?? null,
      users: () => data.users,
    },
    User: { __resolveReference: ({ id }: { id: string }) => users.get(id) ?? null },
  },
  inventory: {
    Product: {
      __resolveReference: ({ upc }: { upc: string }) => {
        const row = inventory.get(upc);
        return row ? { upc, inStock: row.inStock } : null;
      },
      // Upstream computes this from the representation's price and weight but its entity resolver
      // drops them, so the benchmark's expected response has null here; a port must match it.
      shippingEstimate: () => null,
    },
  },
  products: {
    Query: { topProducts: (_: unknown, { first }: { first: number }) => data.products.slice(0, first) },
    Product: { __resolveReference: ({ upc }: { upc: string }) => products.get(upc) ?? null },
  },
  reviews: {
    Review: {
      __resolveReference: ({ id }: { id: string }) => reviews.get(id) ?? null,
      product: (review: { productUpc: string }) => ({ upc: review.productUpc }),
      author: () => ({ id: '1', username: 'urigo' }),
    },
    User: {
      __resolveReference: ({ id }: { id: string }) => ({ id, username: 'user' }),
      reviews: () => data.reviews.slice(0, 2),
    },
    Product: {
      __resolveReference: ({ upc }: { upc: string }) => ({ upc }),
      reviews: (product: { upc: string }) => data.reviews.filter((review) => review.productUpc === product.upc),
    },
  },
};

const DOCUMENT_CACHE_LIMIT = 1000;

function fastHandler(schema: GraphQLSchema) {
  const documents = new Map<string, DocumentNode | readonly GraphQLError[]>();
  return async (body: { query?: string; variables?: Record<string, unknown>; operationName?: string }) => {
    if (typeof body.query !== 'string') return { errors: [{ message: 'query is required' }] };
    let document = documents.get(body.query);
    if (!document) {
      try {
        const parsed = parse(body.query);
        const errors = validate(schema, parsed);
        document = errors.length > 0 ? errors : parsed;
      } catch (error) {
        document = [error as GraphQLError];
      }
      if (documents.size >= DOCUMENT_CACHE_LIMIT) documents.clear();
      documents.set(body.query, document);
    }
    if (Array.isArray(document)) return { errors: document.map((error) => ({ message: error.message })) };
    return execute({ schema, document: document as DocumentNode, variableValues: body.variables, operationName: body.operationName });
  };
}

export interface GuildSubgraphs {
  readonly urls: Record<GuildSubgraph, string>;
  /** Requests served per subgraph, for "fetches per operation" figures. */
  readonly requests: Record<GuildSubgraph, number>;
  readonly supergraphSdl: string;
  close(): Promise<void>;
}

export async function startGuildSubgraphs({ host = '127.0.0.1', ports }: { host?: string; ports?: Partial<Record<GuildSubgraph, number>> } = {}): Promise<GuildSubgraphs> {
  const servers: Server[] = [];
  const urls = {} as Record<GuildSubgraph, string>;
  const requests = Object.fromEntries(GUILD_SUBGRAPHS.map((name) => [name, 0])) as Record<GuildSubgraph, number>;
  for (const name of GUILD_SUBGRAPHS) {
    const handle = fastHandler(buildSubgraphSchema([{ typeDefs: typeDefs(name), resolvers: resolvers[name] as never }]));
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        requests[name] += 1;
        let body;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          res.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":[{"message":"body is not JSON"}]}');
          return;
        }
        void Promise.resolve(handle(body)).then((result) => {
          const payload = JSON.stringify(result);
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }).end(payload);
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(ports?.[name] ?? 0, host, resolve));
    servers.push(server);
    urls[name] = `http://${host}:${(server.address() as AddressInfo).port}/graphql`;
  }
  const composed = composeServices(GUILD_SUBGRAPHS.map((name) => ({ name, url: urls[name], typeDefs: typeDefs(name) })));
  if (composed.errors) throw new Error(`guild workload does not compose: ${composed.errors.map((error) => error.message).join('; ')}`);
  return {
    urls,
    requests,
    supergraphSdl: composed.supergraphSdl,
    async close() {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
