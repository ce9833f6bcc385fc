import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../platform/database.ts';
import type { Stack } from '../../stack.ts';
import { composeFromConfig, readCompositionConfig } from '../../scripts/composition.ts';
import { bootStack, gql } from '../support/stack.ts';

async function eventually<T>(probe: () => Promise<T>, accept: (value: T) => boolean, { timeoutMs = 10_000, intervalMs = 50 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** The committed supergraph with one description changed: a visible, valid schema change. */
function variantSupergraph(dir: string): string {
  const config = readCompositionConfig('supergraph.yaml');
  const products = config.subgraphs.find((subgraph) => subgraph.name === 'products')!;
  const changed = join(dir, 'products.graphql');
  writeFileSync(changed, readFileSync(products.schemaFile, 'utf8').replace('Stock-keeping unit, unique', 'Stock-keeping unit (reloaded), unique'));
  const subgraphs = config.subgraphs.map((subgraph) => (subgraph.name === 'products' ? { ...subgraph, schemaFile: changed } : subgraph));
  const outcome = composeFromConfig({ ...config, subgraphs });
  if (!outcome.ok) throw new Error(outcome.errors.join('\n'));
  return outcome.supergraphSdl;
}

describe('the router serving a supergraph file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-supergraph-'));
  const path = join(dir, 'supergraph.graphql');
  let storage: Storage;
  let stack: Stack;
  const description = async () => {
    const { data } = await gql(stack.routerUrl, '{ __type(name: "Product") { fields { name description } } }');
    return (data?.__type?.fields as Array<{ name: string; description: string }> | undefined)?.find((field) => field.name === 'sku')?.description;
  };

  beforeAll(async () => {
    copyFileSync('supergraph.graphql', path);
    storage = await openStorage({ dataDir: 'memory://' });
    stack = await bootStack(storage, { supergraphPath: path });
  });
  afterAll(async () => {
    await stack?.stop();
    await storage?.close();
  });

  it('reloads when the file changes, answering every request issued meanwhile', async () => {
    expect(await description()).toBe('Stock-keeping unit, unique, e.g. "SW-0001".');
    const inFlight = Array.from({ length: 40 }, (_, index) =>
      new Promise((resolve) => setTimeout(resolve, index * 5)).then(() => gql(stack.routerUrl, '{ products(first: 3) { totalCount edges { node { name price } } } }')),
    );
    writeFileSync(path, variantSupergraph(dir));
    const responses = await Promise.all(inFlight);
    for (const response of responses) {
      expect(response.errors).toBeUndefined();
      expect(response.data?.products.totalCount).toBe(50);
    }
    await eventually(description, (value) => value === 'Stock-keeping unit (reloaded), unique, e.g. "SW-0001".');
  });

  it('keeps serving the last good schema when the file is replaced by garbage', async () => {
    const before = await description();
    writeFileSync(path, 'this is not a supergraph {');
    // Give the watcher time to see it, then prove the router still answers on the old schema.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await description()).toBe(before);
    const { data, errors } = await gql(stack.routerUrl, '{ products(first: 1) { totalCount } }');
    expect(errors).toBeUndefined();
    expect(data.products.totalCount).toBe(50);
  });
});
