import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { GraphQLError, Source, getLocation, parse, printSchema } from 'graphql';
import { parse as parseYaml } from 'yaml';
import { buildContract, contractHeader, CONTRACT_VARIANTS } from './contracts.ts';

export interface CompositionConfig {
  federationVersion: string;
  subgraphs: Array<{ name: string; routingUrl: string; schemaFile: string }>;
}

export type ComposeOutcome =
  | { ok: true; supergraphSdl: string; apiSdl: string; contracts: Record<string, string>; hints: string[] }
  | { ok: false; errors: string[] };

/** Reads Rover's `supergraph.yaml` format; paths are relative to the file. */
export function readCompositionConfig(path: string): CompositionConfig {
  const raw = parseYaml(readFileSync(path, 'utf8')) as {
    federation_version?: unknown;
    subgraphs?: Record<string, { routing_url?: unknown; schema?: { file?: unknown } }>;
  };
  if (!raw || typeof raw !== 'object' || !raw.subgraphs || typeof raw.subgraphs !== 'object') throw new Error(`${path}: expected a "subgraphs" map`);
  const base = dirname(path);
  return {
    federationVersion: String(raw.federation_version ?? '=2'),
    subgraphs: Object.entries(raw.subgraphs).map(([name, entry]) => {
      if (typeof entry?.routing_url !== 'string') throw new Error(`${path}: subgraphs.${name}.routing_url must be a URL`);
      if (typeof entry.schema?.file !== 'string') throw new Error(`${path}: subgraphs.${name}.schema.file must be a path`);
      return { name, routingUrl: entry.routing_url, schemaFile: resolve(base, entry.schema.file) };
    }),
  };
}

function describe(error: GraphQLError | { message: string; nodes?: readonly unknown[] }): string {
  const where: string[] = [];
  for (const node of (error as GraphQLError).nodes ?? []) {
    const loc = node.loc;
    if (!loc) continue;
    const { line, column } = getLocation(loc.source, loc.start);
    where.push(`${relative(process.cwd(), loc.source.name)}:${line}:${column}`);
  }
  // Syntax errors carry a source and positions instead of AST nodes.
  const { source, positions } = error as GraphQLError;
  if (where.length === 0 && source && positions) {
    for (const position of positions) {
      const { line, column } = getLocation(source, position);
      where.push(`${relative(process.cwd(), source.name)}:${line}:${column}`);
    }
  }
  return where.length > 0 ? `${error.message}\n    at ${where.join('\n    at ')}` : error.message;
}

/**
 * Composes the subgraphs named in the config. Errors and hints name the subgraph (Apollo prefixes
 * messages with `[name]`) and the schema file, line and column of every node involved.
 */
export function composeFromConfig(config: CompositionConfig): ComposeOutcome {
  const services = [];
  for (const subgraph of config.subgraphs) {
    try {
      services.push({ name: subgraph.name, url: subgraph.routingUrl, typeDefs: parse(new Source(readFileSync(subgraph.schemaFile, 'utf8'), subgraph.schemaFile)) });
    } catch (error) {
      return { ok: false, errors: [`[${subgraph.name}] ${error instanceof GraphQLError ? describe(error) : (error as Error).message}`] };
    }
  }
  const result = composeServices(services);
  if (result.errors) return { ok: false, errors: result.errors.map(describe) };
  const apiSdl = printSchema(result.schema.toAPISchema().toGraphQLJSSchema());
  const contracts: Record<string, string> = {};
  try {
    for (const variant of CONTRACT_VARIANTS) contracts[variant.name] = contractHeader(variant) + buildContract(result.supergraphSdl, apiSdl, variant);
  } catch (error) {
    return { ok: false, errors: [(error as Error).message] };
  }
  return {
    ok: true,
    supergraphSdl: result.supergraphSdl,
    apiSdl,
    contracts,
    hints: result.hints.map((hint) => `${hint.definition.code}: ${describe({ message: hint.message, nodes: hint.nodes })}`),
  };
}
