import { describe, expect, it } from 'vitest';
import { DEFAULT_ADMIN_PORT, loadRouterConfig } from '../../../router/config.ts';

const production = { NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 's'.repeat(40) };

describe('the router admin listener settings', () => {
  it('default to a loopback admin port in production and to none in development', () => {
    expect(loadRouterConfig(production)).toMatchObject({ adminPort: DEFAULT_ADMIN_PORT, adminHost: '127.0.0.1' });
    expect(loadRouterConfig({})).toMatchObject({ adminPort: undefined, adminHost: '127.0.0.1' });
  });

  it('take ROUTER_ADMIN_PORT (0 = any free port) and ROUTER_ADMIN_HOST, and refuse a bad port by name', () => {
    expect(loadRouterConfig({ ...production, ROUTER_ADMIN_PORT: '9400', ROUTER_ADMIN_HOST: '0.0.0.0' })).toMatchObject({ adminPort: 9400, adminHost: '0.0.0.0' });
    expect(loadRouterConfig({ ROUTER_ADMIN_PORT: '0' }).adminPort).toBe(0);
    expect(() => loadRouterConfig({ ROUTER_ADMIN_PORT: '70000' })).toThrow(/ROUTER_ADMIN_PORT/);
  });
});
