import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../../platform/http-server.ts';
import { withSubgraphSettings } from '../../router/config.ts';
import { createRouter } from '../../router/server.ts';
import type { Stack } from '../../stack.ts';
import { backends } from '../support/storage.ts';
import { bootStack, gql, routerDefaults, silentLogger, staticDiscoveryOf } from '../support/stack.ts';

const pglite = backends.find((backend) => backend.name === 'pglite')!;
const PRODUCTS = '{ products(first: 1) { totalCount } }';

/** Which identity the router's rate limits count a request against. */
describe('rate-limit identity', () => {
  const internalTokenSecret = randomBytes(32).toString('base64url');
  const cleanups: Array<() => Promise<void>> = [];
  let stack: Stack;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, { internalTokenSecret });
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await stack?.stop();
    await drop?.();
  });

  /** A router of its own in front of the stack's subgraphs, configured by `env` as a deployment would be. */
  async function routerWith(env: Record<string, string>): Promise<string> {
    const defaults = routerDefaults(env);
    const router = createRouter({
      config: {
        ...withSubgraphSettings(defaults, staticDiscoveryOf(stack)),
        security: { ...defaults.security, internalTokenSecret, jwksUrl: stack.subgraphs.users.url.replace('/graphql', '/.well-known/jwks.json') },
      },
      logger: silentLogger,
    });
    await router.start();
    const running = await listen(router.handler, { port: 0 });
    cleanups.push(async () => {
      await running.close();
      await router.stop();
    });
    return `${running.url}/graphql`;
  }

  describe('behind trusted proxies', () => {
    it('gives two clients behind a trusted proxy separate budgets', async () => {
      // The test's own connections come from loopback: here loopback is the load balancer.
      const url = await routerWith({ TRUSTED_PROXIES: '127.0.0.1/32,::1/128', ROUTER_RATE_LIMIT_FIELDS: 'Query.products=2/1h' });
      const alice = { 'x-forwarded-for': '203.0.113.10' };
      const bob = { 'x-forwarded-for': '203.0.113.20' };
      for (let call = 0; call < 2; call += 1) expect((await gql(url, PRODUCTS, {}, alice)).errors).toBeUndefined();
      expect((await gql(url, PRODUCTS, {}, alice)).status).toBe(429);
      for (let call = 0; call < 2; call += 1) expect((await gql(url, PRODUCTS, {}, bob)).errors).toBeUndefined();
      expect((await gql(url, PRODUCTS, {}, bob)).status).toBe(429);
      // An address the client prepends itself is skipped: the proxy's entry (right-most) counts.
      expect((await gql(url, PRODUCTS, {}, { 'x-forwarded-for': '198.51.100.99, 203.0.113.10' })).status).toBe(429);
    });

    it('reads RFC 7239 Forwarded when that is the configured header', async () => {
      const url = await routerWith({ TRUSTED_PROXIES: '127.0.0.1,::1', TRUSTED_PROXY_HEADER: 'forwarded', ROUTER_RATE_LIMIT_FIELDS: 'Query.products=1/1h' });
      expect((await gql(url, PRODUCTS, {}, { forwarded: 'for="[2001:db8::1]:4711"' })).errors).toBeUndefined();
      expect((await gql(url, PRODUCTS, {}, { forwarded: 'for="[2001:db8::1]:4711"' })).status).toBe(429);
      expect((await gql(url, PRODUCTS, {}, { forwarded: 'for=192.0.2.60;proto=https' })).errors).toBeUndefined();
    });
  });

  it('ignores a spoofed forwarding header from an untrusted peer: every made-up address shares the peer budget', async () => {
    // Loopback is not in the list, so the test's connections are clients, not proxies.
    const url = await routerWith({ TRUSTED_PROXIES: '10.0.0.0/8', ROUTER_RATE_LIMIT_FIELDS: 'Query.products=2/1h' });
    expect((await gql(url, PRODUCTS, {}, { 'x-forwarded-for': '203.0.113.1' })).errors).toBeUndefined();
    expect((await gql(url, PRODUCTS, {}, { 'x-forwarded-for': '203.0.113.2', forwarded: 'for=203.0.113.2' })).errors).toBeUndefined();
    const third = await gql(url, PRODUCTS, {}, { 'x-forwarded-for': '203.0.113.3', forwarded: 'for=203.0.113.3' });
    expect(third.status).toBe(429);
    expect(third.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  });
});
