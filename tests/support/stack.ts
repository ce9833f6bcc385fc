import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { loadRouterConfig, type RouterConfig } from '../../router/config.ts';
import type { Storage } from '../../platform/database.ts';
import { startStack, type Stack, type StackOptions } from '../../stack.ts';

export const silentLogger = pino({ level: 'silent' });

/** Router defaults as an operator would get them with no environment, for tests to override. */
export function routerDefaults(env: Record<string, string> = {}): RouterConfig {
  return loadRouterConfig({ LOG_LEVEL: 'silent', ...env });
}

export function bootStack(
  storage: Storage,
  {
    supergraphPath = 'supergraph.graphql',
    production = false,
    routerEnv = {} as Record<string, string>,
    internalTokenSecret = randomBytes(32).toString('base64url'),
    ...rest
  }: { supergraphPath?: string; production?: boolean; routerEnv?: Record<string, string>; internalTokenSecret?: string } & Pick<StackOptions, 'internalServiceSecret' | 'products' | 'payments' | 'orders'> = {},
): Promise<Stack> {
  const defaults = routerDefaults(routerEnv);
  return startStack({
    ...rest,
    storage,
    logger: silentLogger,
    production,
    internalTokenSecret,
    ports: { users: 0, products: 0, orders: 0, payments: 0 },
    router: { ...defaults, production, logLevel: 'silent', port: 0, host: '127.0.0.1', supergraphPath, maxBodyBytes: 1_000_000, readinessTimeoutMs: 2000 },
  });
}

/** Logs in through the router and returns the bearer header for that user. */
export async function bearerFor(routerUrl: string, email: string, password: string): Promise<Record<string, string>> {
  const { data, errors } = await gql<{ logIn: { token: string } }>(routerUrl, 'mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }', { email, password });
  if (!data?.logIn) throw new Error(`log in as ${email} failed: ${JSON.stringify(errors)}`);
  return { authorization: `Bearer ${data.logIn.token}` };
}

export interface GraphQLResponse<Data = Record<string, unknown>> {
  status: number;
  data?: Data | null;
  errors?: Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;
}

/** Test responses are asserted field by field against expected values, so they stay untyped. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export async function gql<Data = Json>(url: string, query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<GraphQLResponse<Data>> {
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
