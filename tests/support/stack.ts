import { pino } from 'pino';
import type { Storage } from '../../platform/database.ts';
import { loadRouterConfig, type RouterConfig } from '../../router/config.ts';
import { startStack, type Stack } from '../../stack.ts';

export const silentLogger = pino({ level: 'silent' });

/** Router config as a deployment without any variables set would get it, for a test to adjust. */
export function testRouterConfig(changes: Partial<RouterConfig> = {}): RouterConfig {
  return Object.freeze({ ...loadRouterConfig({ LOG_LEVEL: 'silent', ROUTER_PORT: '0' }), ...changes });
}

export function bootStack(storage: Storage, { supergraphPath = 'supergraph.graphql', production = false } = {}): Promise<Stack> {
  return startStack({
    storage,
    logger: silentLogger,
    production,
    ports: { users: 0, products: 0, orders: 0, payments: 0 },
    router: testRouterConfig({ production, supergraphPath }),
  });
}

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  data?: Data | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

// Tests index into response data freely and let assertions check its shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function gql<Data = any>(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphQLResponse<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<Data>, 'status'>;
  return { status: response.status, ...body };
}

/** Reads a counter's current value per label set from a prom-client registry. */
export async function counterValues(registry: import('prom-client').Registry, name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return Object.fromEntries(values.map((value) => [Object.values(value.labels).join(','), value.value]));
}

/** A pino logger at `level` whose lines land parsed in `lines`, for asserting on log fields. */
export function memoryLogger(level: 'debug' | 'info' | 'warn' = 'info'): { logger: import('pino').Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

/** Polls `check` until it holds, up to `attempts` times `everyMs`; throws with `what` otherwise. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, { attempts = 200, everyMs = 25 } = {}): Promise<void> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  throw new Error(`timed out waiting until ${what}`);
}
