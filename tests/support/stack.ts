import { pino } from 'pino';
import type { Storage } from '../../platform/database.ts';
import { startStack, type Stack, type StackOptions } from '../../stack.ts';

export const silentLogger = pino({ level: 'silent' });

export function bootStack(
  storage: Storage,
  { supergraphPath = 'supergraph.graphql', production = false, ...rest }: { supergraphPath?: string; production?: boolean } & Pick<StackOptions, 'internalServiceSecret' | 'products' | 'payments' | 'orders' | 'events'> = {},
): Promise<Stack> {
  return startStack({
    ...rest,
    storage,
    logger: silentLogger,
    production,
    ports: { users: 0, products: 0, orders: 0, payments: 0, notifications: 0 },
    router: { production, logLevel: 'silent', port: 0, host: '127.0.0.1', supergraphPath, maxBodyBytes: 1_000_000, readinessTimeoutMs: 2000 },
  });
}

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  data?: Data | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test responses are read field by field
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
