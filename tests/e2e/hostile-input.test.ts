import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoUsers, DEMO_PASSWORD } from '../../platform/demo-data.ts';
import type { Stack } from '../../stack.ts';
import { backends } from '../support/storage.ts';
import { bearerFor, bootStack, counterValues, gql } from '../support/stack.ts';

const pglite = backends.find((backend) => backend.name === 'pglite')!;
const ada = demoUsers[1]!;

/** Hostile input through the real router (development mode, in-process subgraphs on PGlite). */
describe('hostile input at the router edge', () => {
  let stack: Stack;
  let drop: () => Promise<void>;
  let asAda: Record<string, string>;

  async function subgraphFetches(): Promise<number> {
    return Object.values(await counterValues(stack.router.metrics.registry, 'router_subgraph_fetches_total')).reduce((sum, value) => sum + value, 0);
  }

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage);
    asAda = await bearerFor(stack.routerUrl, ada.email, DEMO_PASSWORD);
  });
  afterAll(async () => {
    await stack?.stop();
    await drop?.();
  });

  describe('the cost limit with page sizes in variables', () => {
    const page = 'edges { node { id sku name description price currency inventory inStock } } totalCount pageInfo { hasNextPage }';

    it('refuses `query($f: Int = 1000) { products(first: $f) … }` exactly like the literal, before any subgraph is called', async () => {
      const before = await subgraphFetches();
      const literal = await gql(stack.routerUrl, `{ a: products(first: 1000) { ${page} } b: products(first: 1000) { ${page} } }`);
      const viaDefault = await gql(stack.routerUrl, `query($f: Int = 1000) { a: products(first: $f) { ${page} } b: products(first: $f) { ${page} } }`);
      expect(literal.status).toBe(400);
      expect(literal.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
      expect(viaDefault.status).toBe(400);
      expect(viaDefault.errors?.[0]?.extensions).toEqual(literal.errors?.[0]?.extensions);
      expect(await subgraphFetches()).toBe(before);
    });

    it('refuses nested me.orders(first: $f) … user.orders(first: $f) by its default, and measures an explicit value', async () => {
      const nested = `query($f: Int = 200) { me { orders(first: $f) { edges { node { id user { orders(first: $f) { edges { node { id total } } } } } } } } }`;
      const byDefault = await gql(stack.routerUrl, nested, {}, asAda);
      expect(byDefault.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
      const small = await gql(stack.routerUrl, nested, { f: 2 }, asAda);
      expect(small.errors).toBeUndefined();
      const explicit = await gql(stack.routerUrl, nested.replace('= 200', '= 1'), { f: 200 }, asAda);
      expect(explicit.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'cost' });
    });
  });
});
