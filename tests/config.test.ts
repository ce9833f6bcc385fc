import { describe, expect, it } from 'vitest';
import { ConfigError } from '../platform/config.ts';
import { loadRouterConfig } from '../router/config.ts';
import { loadOrdersConfig } from '../subgraphs/orders/config.ts';
import { loadUsersConfig } from '../subgraphs/users/config.ts';
import { loadTracingConfig, startTracing } from '../platform/tracing.ts';

describe('service configuration', () => {
  it('runs on defaults with an empty environment', () => {
    const router = loadRouterConfig({});
    expect(router).toMatchObject({ port: 4000, supergraphPath: './supergraph.graphql', production: false });
    // No URL configured: every subgraph is reached at its routing URL in the supergraph.
    expect(Object.values(router.subgraphs).every((subgraph) => subgraph.discovery === undefined)).toBe(true);
    expect(loadOrdersConfig({})).toMatchObject({ port: 4003, databaseUrl: undefined, dataDir: '.data/pglite', seedDemoData: true });
  });

  it('reads overrides, including per-subgraph routing URLs', () => {
    const config = loadRouterConfig({ ROUTER_PORT: '8080', ORDERS_URL: 'http://orders:4003/graphql', NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 's'.repeat(40) });
    expect(config).toMatchObject({ port: 8080, production: true });
    expect(config.subgraphs.orders!.discovery).toEqual({ kind: 'static', urls: ['http://orders:4003/graphql'] });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    [{ ROUTER_PORT: 'eighty' }, 'ROUTER_PORT'],
    [{ ROUTER_PORT: '70000' }, 'ROUTER_PORT'],
    [{ ORDERS_URL: 'not a url' }, 'ORDERS_URL'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ LOG_FORMAT: 'fancy' }, 'LOG_FORMAT'],
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

describe('tracing config', () => {
  it('is off without an OTLP endpoint, and reads the standard OpenTelemetry variables', () => {
    expect(loadTracingConfig({}, 'router')).toEqual({ tracesUrl: undefined, serviceName: 'router', sampler: 'parentbased_traceidratio', sampleRatio: 1, resourceAttributes: {} });
    expect(startTracing(loadTracingConfig({}, 'router')).enabled).toBe(false);
    expect(loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/', OTEL_SERVICE_NAME: 'orders-1', OTEL_TRACES_SAMPLER_ARG: '0.1' }, 'orders')).toEqual({
      tracesUrl: 'http://jaeger:4318/v1/traces',
      serviceName: 'orders-1',
      sampler: 'parentbased_traceidratio',
      sampleRatio: 0.1,
      resourceAttributes: {},
    });
    expect(loadTracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/custom', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318' }, 'x').tracesUrl).toBe('http://collector:4318/custom');
    expect(loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318', OTEL_SDK_DISABLED: 'true' }, 'x').tracesUrl).toBeUndefined();
    for (const ratio of ['2', '-0.1', 'half']) expect(() => loadTracingConfig({ OTEL_TRACES_SAMPLER_ARG: ratio }, 'x')).toThrow('OTEL_TRACES_SAMPLER_ARG');
    expect(() => loadTracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' }, 'x')).toThrow('OTEL_EXPORTER_OTLP_ENDPOINT');
  });
});

describe('the internal service secret', () => {
  it('is required in production by every service on either end of an internal call', async () => {
    const { loadProductsConfig } = await import('../subgraphs/products/config.ts');
    const { loadPaymentsConfig } = await import('../subgraphs/payments/config.ts');
    for (const load of [loadOrdersConfig, loadProductsConfig, loadPaymentsConfig]) {
      const production = { NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 't'.repeat(40) };
      expect(() => load(production)).toThrow('INTERNAL_SERVICE_SECRET is required in production');
      expect(() => load({ ...production, INTERNAL_SERVICE_SECRET: 'short' })).toThrow('at least 32 characters');
      expect(load({ ...production, INTERNAL_SERVICE_SECRET: 'x'.repeat(40) }).internalServiceSecret).toBe('x'.repeat(40));
    }
    expect(() => loadRouterConfig({ NODE_ENV: 'production', INTERNAL_TOKEN_SECRET: 's'.repeat(40) })).not.toThrow();
  });
});

describe('pipeline names', () => {
  it('default to the shared names and take a prefix, group and queue prefix per environment', async () => {
    const { loadPipelineConfig } = await import('../events/config.ts');
    expect(loadPipelineConfig({})).toMatchObject({ topicPrefix: '', groupId: 'notifications', queuePrefix: 'notifications' });
    expect(loadPipelineConfig({ KAFKA_TOPIC_PREFIX: 'staging.', KAFKA_GROUP_ID: 'staging-notifications', AMQP_QUEUE_PREFIX: 'staging' })).toMatchObject({ topicPrefix: 'staging.', groupId: 'staging-notifications', queuePrefix: 'staging' });
    expect(() => loadPipelineConfig({ KAFKA_TOPIC_PREFIX: 'has space' })).toThrow(new ConfigError('KAFKA_TOPIC_PREFIX', `must use only letters, digits, '.', '_' and '-', got "has space"`));
    expect(() => loadPipelineConfig({ AMQP_QUEUE_PREFIX: 'a/b' })).toThrow(/AMQP_QUEUE_PREFIX/);
  });
});
