import { createServer, type AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../platform/config.ts';
import { BulkheadFullError, createBulkhead } from '../../../router/bulkhead.ts';
import { loadRouterConfig, subgraphSettings } from '../../../router/config.ts';
import { isMutationDocument } from '../../../router/resilient-data-source.ts';
import { createResilienceMetrics } from '../../../router/resilience-metrics.ts';
import { backoffDelayMs, parseRetryAfterMs } from '../../../platform/retry.ts';
import { createRetryBudget } from '../../../router/retry-policy.ts';
import { createDnsDiscovery, createStaticDiscovery, type ServiceDiscovery } from '../../../router/service-discovery.ts';
import { createSubgraphPool, isFailureStatus } from '../../../router/subgraph-pool.ts';
import { memoryLogger } from '../../support/stack.ts';

const silent = pino({ level: 'silent' });

afterEach(() => {
  vi.useRealTimers();
});

describe('router config', () => {
  it('reads a comma-separated instance list and per-subgraph overrides of router-wide settings', () => {
    const config = loadRouterConfig({
      PRODUCTS_URL: 'http://a:4002/graphql, http://b:4002/graphql',
      ROUTER_SUBGRAPH_TIMEOUT_MS: '2000',
      PAYMENTS_TIMEOUT_MS: '500',
      PAYMENTS_BREAKER_VOLUME_THRESHOLD: '9',
    });
    expect(subgraphSettings(config, 'products').discovery).toEqual({ kind: 'static', urls: ['http://a:4002/graphql', 'http://b:4002/graphql'] });
    expect(subgraphSettings(config, 'products').timeoutMs).toBe(2000);
    expect(subgraphSettings(config, 'payments').timeoutMs).toBe(500);
    expect(subgraphSettings(config, 'payments').breaker.volumeThreshold).toBe(9);
    expect(subgraphSettings(config, 'users').breaker.volumeThreshold).toBe(5);
    expect(subgraphSettings(config, 'inventory')).toBe(config.subgraphDefaults);
  });

  it('selects DNS discovery for one URL and refuses it for a list', () => {
    expect(subgraphSettings(loadRouterConfig({ ORDERS_URL: 'http://orders.internal:4003/graphql', ORDERS_DISCOVERY: 'dns' }), 'orders').discovery).toMatchObject({ kind: 'dns', refreshMs: 10_000 });
    expect(() => loadRouterConfig({ ORDERS_URL: 'http://a/graphql,http://b/graphql', ORDERS_DISCOVERY: 'dns' })).toThrow(/ORDERS_URL/);
  });

  it.each([
    [{ PRODUCTS_URL: 'http://ok/graphql,not a url' }, 'PRODUCTS_URL'],
    [{ USERS_TIMEOUT_MS: 'soon' }, 'USERS_TIMEOUT_MS'],
    [{ ROUTER_BREAKER_ERROR_PERCENT: '0' }, 'ROUTER_BREAKER_ERROR_PERCENT'],
    [{ ROUTER_LOAD_BALANCER: 'random' }, 'ROUTER_LOAD_BALANCER'],
    [{ PAYMENTS_DISCOVERY: 'consul' }, 'PAYMENTS_DISCOVERY'],
    [{ ROUTER_RETRY_BASE_DELAY_MS: '500', ROUTER_RETRY_MAX_DELAY_MS: '100' }, 'ROUTER_RETRY_MAX_DELAY_MS'],
  ])('fails fast naming the variable for %j', (env, variable) => {
    expect(() => loadRouterConfig(env)).toThrow(ConfigError);
    expect(() => loadRouterConfig(env)).toThrow(variable);
  });
});

describe('retry policy', () => {
  it('draws backoff uniformly below an exponentially growing, capped ceiling (full jitter)', () => {
    const settings = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((retry) => backoffDelayMs(retry, settings, () => 0.999999))).toEqual([99, 199, 399, 799, 999]);
    expect(backoffDelayMs(3, settings, () => 0)).toBe(0);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfterMs('2')).toBe(2000);
    expect(parseRetryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 5)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(5000);
    expect(parseRetryAfterMs('soon')).toBeUndefined();
    expect(parseRetryAfterMs(undefined)).toBeUndefined();
  });

  it('never grants more retries than the reserve plus the configured share of traffic', () => {
    const budget = createRetryBudget({ budgetPercent: 10, budgetReserve: 3 });
    let granted = 0;
    // Spend everything before each fetch, so no share is lost to the cap: the bound is reached exactly.
    for (let request = 0; request < 200; request++) {
      while (budget.tryRetry()) granted += 1;
      budget.recordRequest();
    }
    while (budget.tryRetry()) granted += 1;
    expect(granted).toBe(3 + 20);
  });
});

describe('bulkhead', () => {
  it('queues past the cap, hands slots over in order, and fails fast past the queue', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const far = Date.now() + 60_000;
    const first = await bulkhead.acquire(far);
    const order: string[] = [];
    const second = bulkhead.acquire(far).then((release) => {
      order.push('second');
      return release;
    });
    await expect(bulkhead.acquire(far)).rejects.toBeInstanceOf(BulkheadFullError);
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([1, 1]);
    first();
    first();
    (await second)();
    expect(order).toEqual(['second']);
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([0, 0]);
  });

  it('gives up waiting at the deadline', async () => {
    vi.useFakeTimers();
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 5 });
    await bulkhead.acquire(Date.now() + 1000);
    const waiting = bulkhead.acquire(Date.now() + 1000);
    const settled = expect(waiting).rejects.toMatchObject({ reason: 'wait timed out' });
    await vi.advanceTimersByTimeAsync(1000);
    await settled;
    expect(bulkhead.queued).toBe(0);
  });
});

describe('service discovery', () => {
  it('re-resolves a DNS name periodically and reports the instances that came and went', async () => {
    vi.useFakeTimers();
    let addresses = ['10.0.0.1'];
    const discovery = createDnsDiscovery({ url: 'http://products.internal:4002/graphql', refreshMs: 5000, logger: silent, resolve: async () => addresses });
    const seen: Array<readonly string[]> = [];
    discovery.onChange((urls) => seen.push(urls));
    await discovery.start();
    addresses = ['10.0.0.2', '10.0.0.1'];
    await vi.advanceTimersByTimeAsync(5000);
    addresses = ['10.0.0.2'];
    await vi.advanceTimersByTimeAsync(5000);
    await vi.advanceTimersByTimeAsync(5000);
    discovery.stop();
    expect(seen).toEqual([
      ['http://10.0.0.1:4002/graphql'],
      ['http://10.0.0.1:4002/graphql', 'http://10.0.0.2:4002/graphql'],
      ['http://10.0.0.2:4002/graphql'],
    ]);
  });

  it('keeps the known instances when a lookup fails', async () => {
    vi.useFakeTimers();
    let fail = false;
    const discovery = createDnsDiscovery({
      url: 'http://users.internal:4001/graphql',
      refreshMs: 1000,
      logger: silent,
      resolve: async () => {
        if (fail) throw new Error('SERVFAIL');
        return ['10.0.0.9'];
      },
    });
    await discovery.start();
    fail = true;
    await vi.advanceTimersByTimeAsync(1000);
    discovery.stop();
    expect(discovery.instances()).toEqual(['http://10.0.0.9:4001/graphql']);
  });

  it('lets a pool pick up instances that appear and drop those that leave, without a restart', async () => {
    let listener: (urls: readonly string[]) => void = () => undefined;
    let current: readonly string[] = ['http://127.0.0.1:1/graphql'];
    const discovery: ServiceDiscovery = { instances: () => current, onChange: (next) => void (listener = next), start: async () => undefined, stop: () => undefined };
    const settings = subgraphSettings(loadRouterConfig({}), 'products');
    const metrics = createResilienceMetrics(new Registry());
    const pool = createSubgraphPool({ name: 'products', settings, discovery, loadBalancer: 'round-robin', metrics, logger: silent });
    await pool.start();
    current = ['http://127.0.0.1:1/graphql', 'http://127.0.0.1:2/graphql'];
    listener(current);
    expect(pool.snapshot().map((instance) => instance.instance)).toEqual(['127.0.0.1:1', '127.0.0.1:2']);
    const picks = [pool.pick()!.label, pool.pick()!.label, pool.pick()!.label];
    expect(picks).toEqual(['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:1']);
    current = ['http://127.0.0.1:2/graphql'];
    listener(current);
    expect(pool.snapshot().map((instance) => instance.instance)).toEqual(['127.0.0.1:2']);
    await pool.close();
  });

  it('a static list is the same list every time', () => {
    expect(createStaticDiscovery(['http://a/graphql', 'http://a/graphql', 'http://b/graphql']).instances()).toEqual(['http://a/graphql', 'http://b/graphql']);
  });
});

describe('failure classification', () => {
  it('counts 5xx, 408 and 429 as failures and every other status as an answer', () => {
    expect([500, 502, 503, 504, 408, 429].every(isFailureStatus)).toBe(true);
    expect([200, 400, 401, 403, 404, 409, 422].some(isFailureStatus)).toBe(false);
  });

  it('tells a mutation fetch from a query fetch by its planned document', () => {
    expect(isMutationDocument('mutation SignUp__users__0($input:SignUpInput!){signUp(input:$input){token}}')).toBe(true);
    expect(isMutationDocument('query Order__orders__0{order(id:"1"){id}}')).toBe(false);
    expect(isMutationDocument('{products(first:1){totalCount}}')).toBe(false);
    expect(isMutationDocument('query($representations:[_Any!]!){_entities(representations:$representations){__typename}}')).toBe(false);
  });
});

describe('instance breakers', () => {
  async function deadPool({ volumeThreshold, outlierConsecutiveFailures }: { volumeThreshold: number; outlierConsecutiveFailures: number }) {
    // A port that was just free: connections are refused at once, without any timer involved.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const base = subgraphSettings(loadRouterConfig({}), 'payments');
    const settings = { ...base, outlierConsecutiveFailures, breaker: { ...base.breaker, volumeThreshold, errorThresholdPercentage: 50, resetTimeoutMs: 5000 } };
    const registry = new Registry();
    const { logger, lines } = memoryLogger('info');
    const pool = createSubgraphPool({
      name: 'payments',
      settings,
      discovery: createStaticDiscovery([`http://127.0.0.1:${port}/graphql`]),
      loadBalancer: 'least-outstanding',
      metrics: createResilienceMetrics(registry),
      logger,
    });
    await pool.start();
    return { pool, lines, registry };
  }
  const attempt = { body: '{"query":"{ __typename }"}', headers: { 'content-type': 'application/json' }, timeoutMs: 60_000 };

  it('opens after the volume threshold at a high error rate, refuses while open, and lets one probe through after the reset timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { pool, lines } = await deadPool({ volumeThreshold: 3, outlierConsecutiveFailures: 100 });
    const instance = pool.pick()!;
    for (let call = 0; call < 3; call++) await expect(pool.send(instance, attempt)).rejects.toMatchObject({ kind: 'network' });
    expect(pool.snapshot()[0]!.breaker).toBe('open');
    expect(pool.pick()).toBeUndefined();
    await expect(pool.send(instance, attempt)).rejects.toMatchObject({ kind: 'open', retriable: true });

    await vi.advanceTimersByTimeAsync(4999);
    expect(pool.pick()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.snapshot()[0]!.breaker).toBe('half-open');
    expect(pool.pick()).toBe(instance);
    // The probe fails (still dead): straight back to open.
    await expect(pool.send(instance, attempt)).rejects.toMatchObject({ kind: 'network' });
    expect(pool.snapshot()[0]!.breaker).toBe('open');
    expect(lines.filter((line) => line.breaker).map((line) => [line.breaker, line.reason])).toEqual([
      ['open', 'error rate'],
      ['half-open', undefined],
      ['open', 'error rate'],
    ]);
    await pool.close();
  });

  it('ejects an instance after consecutive failures before the error rate may count', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { pool, lines } = await deadPool({ volumeThreshold: 1000, outlierConsecutiveFailures: 2 });
    const instance = pool.pick()!;
    await expect(pool.send(instance, attempt)).rejects.toMatchObject({ kind: 'network' });
    expect(pool.snapshot()[0]!.breaker).toBe('closed');
    await expect(pool.send(instance, attempt)).rejects.toMatchObject({ kind: 'network' });
    expect(pool.snapshot()[0]!.breaker).toBe('open');
    expect(lines.find((line) => line.breaker === 'open')).toMatchObject({ subgraph: 'payments', reason: 'outlier' });
    await pool.close();
  });
});
