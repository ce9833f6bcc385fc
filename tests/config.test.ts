import { describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/config.ts';
import { loadRouterConfig } from '../router/config.ts';
import { loadOrdersConfig } from '../subgraphs/orders/config.ts';
import { loadUsersConfig } from '../subgraphs/users/config.ts';

describe('service configuration', () => {
  it('runs on defaults with an empty environment', () => {
    expect(loadRouterConfig({})).toMatchObject({ port: 4000, supergraphPath: './supergraph.graphql', subgraphUrls: {}, production: false });
    expect(loadOrdersConfig({})).toMatchObject({ port: 4003, databaseUrl: undefined, dataDir: '.data/pglite', seedDemoData: true });
  });

  it('reads overrides, including per-subgraph routing URLs', () => {
    const config = loadRouterConfig({ ROUTER_PORT: '8080', ORDERS_URL: 'http://orders:4003/graphql', NODE_ENV: 'production' });
    expect(config).toMatchObject({ port: 8080, subgraphUrls: { orders: 'http://orders:4003/graphql' }, production: true });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ ROUTER_PORT: 'eighty' }, 'ROUTER_PORT'],
    [{ ROUTER_PORT: '70000' }, 'ROUTER_PORT'],
    [{ ORDERS_URL: 'not a url' }, 'ORDERS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DATABASE_URL: '::' }, 'DATABASE_URL'],
  ])('fails fast naming the bad variable for %o', (env, variable) => {
    expect(() => loadRouterConfig(env)).toThrow(ConfigError);
    expect(() => loadRouterConfig(env)).toThrow(variable);
  });

  it('rejects a boolean it cannot read and a token lifetime out of range', () => {
    expect(() => loadUsersConfig({ SEED_DEMO_DATA: 'maybe' })).toThrow('SEED_DEMO_DATA');
    expect(() => loadUsersConfig({ JWT_TTL_SECONDS: '5' })).toThrow('JWT_TTL_SECONDS');
  });
});
