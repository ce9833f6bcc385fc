import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { composeServices } from "@apollo/composition";
import { FEDERATION_VERSIONS } from "@apollo/federation-internals";
import {
  GraphQLError,
  Kind,
  Source,
  getLocation,
  parse,
  printSchema,
  type DocumentNode,
} from "graphql";
import { parse as parseYaml } from "yaml";
import {
  buildContract,
  contractHeader,
  CONTRACT_VARIANTS,
} from "./contracts.ts";

export interface CompositionConfig {
  /** `federation_version` as written (Rover's forms: `=2.9.3`, `=2`, `2`). @default "=2" */
  federationVersion: string;
  /**
   * The newest Federation 2 spec minor the subgraphs may `@link`: the pinned one (`=2.9.3` → 9, as
   * Rover's composition 2.9.3 knows no later spec), or for `=2`/`2` the newest this library composes.
   */
  maxFederationMinor: number;
  subgraphs: Array<{ name: string; routingUrl: string; schemaFile: string }>;
}

/** The newest federation spec @apollo/composition (2.14.4 here) composes. */
export const LIBRARY_FEDERATION =
  FEDERATION_VERSIONS.latestNonPreview().version;

/**
 * Reads Rover's `federation_version`. We compose with the @apollo/composition installed here, so a
 * version is accepted when that composition can stand for it: Federation 2 (`=2`, `2`: the newest),
 * or a pinned `=2.<minor>[.<patch>]` up to the library's newest spec; the subgraphs are then held to
 * that minor (composeFromConfig). Federation 1 and newer-than-the-library versions are refused.
 */
export function parseFederationVersion(raw: string, where: string): number {
  const match = /^=?(\d+)(?:\.(\d+)(?:\.(\d+))?)?$/.exec(raw.trim());
  if (!match)
    throw new Error(
      `${where}: federation_version ${JSON.stringify(raw)} is not a version (write =2.${LIBRARY_FEDERATION.minor}.0, =2 or 2)`,
    );
  if (Number(match[1]) !== 2)
    throw new Error(
      `${where}: federation_version ${raw} is not composed here: Switchyard composes Federation 2 only (=2 up to =2.${LIBRARY_FEDERATION.minor}.x)`,
    );
  if (match[2] === undefined) return LIBRARY_FEDERATION.minor;
  const minor = Number(match[2]);
  if (minor > LIBRARY_FEDERATION.minor)
    throw new Error(
      `${where}: federation_version ${raw} is newer than this composition (@apollo/composition knows federation up to v2.${LIBRARY_FEDERATION.minor}); upgrade @apollo/composition or pin =2.${LIBRARY_FEDERATION.minor}.x`,
    );
  return minor;
}

export type ComposeOutcome =
  | {
      ok: true;
      supergraphSdl: string;
      apiSdl: string;
      contracts: Record<string, string>;
      hints: string[];
    }
  | { ok: false; errors: string[] };

/** Reads Rover's `supergraph.yaml` format; paths are relative to the file. */
export function readCompositionConfig(path: string): CompositionConfig {
  const raw = parseYaml(readFileSync(path, "utf8")) as {
    federation_version?: unknown;
    subgraphs?: Record<
      string,
      { routing_url?: unknown; schema?: { file?: unknown } }
    >;
  };
  if (
    !raw ||
    typeof raw !== "object" ||
    !raw.subgraphs ||
    typeof raw.subgraphs !== "object"
  )
    throw new Error(`${path}: expected a "subgraphs" map`);
  const base = dirname(path);
  const federationVersion = String(raw.federation_version ?? "=2");
  return {
    federationVersion,
    maxFederationMinor: parseFederationVersion(federationVersion, path),
    subgraphs: Object.entries(raw.subgraphs).map(([name, entry]) => {
      if (typeof entry?.routing_url !== "string")
        throw new Error(`${path}: subgraphs.${name}.routing_url must be a URL`);
      if (typeof entry.schema?.file !== "string")
        throw new Error(
          `${path}: subgraphs.${name}.schema.file must be a path`,
        );
      return {
        name,
        routingUrl: entry.routing_url,
        schemaFile: resolve(base, entry.schema.file),
      };
    }),
  };
}

/** Each `@link` to the federation spec newer than `federation_version` allows, as an error naming where it is. */
function federationLinksAbove(
  name: string,
  document: DocumentNode,
  config: CompositionConfig,
): string[] {
  const errors: string[] = [];
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.SCHEMA_EXTENSION &&
      definition.kind !== Kind.SCHEMA_DEFINITION
    )
      continue;
    for (const directive of definition.directives ?? []) {
      if (directive.name.value !== "link") continue;
      const url = directive.arguments?.find(
        (argument) => argument.name.value === "url",
      )?.value;
      const version =
        url?.kind === Kind.STRING
          ? /specs\.apollo\.dev\/federation\/v(\d+)\.(\d+)/.exec(url.value)
          : null;
      if (
        !version ||
        (Number(version[1]) === 2 &&
          Number(version[2]) <= config.maxFederationMinor)
      )
        continue;
      errors.push(
        describe({
          message: `[${name}] links federation v${version[1]}.${version[2]}, newer than federation_version ${config.federationVersion} allows (up to v2.${config.maxFederationMinor})`,
          nodes: [directive],
        }),
      );
    }
  }
  return errors;
}

function describe(
  error: GraphQLError | { message: string; nodes?: readonly unknown[] },
): string {
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
  return where.length > 0
    ? `${error.message}\n    at ${where.join("\n    at ")}`
    : error.message;
}

/**
 * Composes the subgraphs named in the config. Errors and hints name the subgraph (Apollo prefixes
 * messages with `[name]`) and the schema file, line and column of every node involved.
 */
export function composeFromConfig(config: CompositionConfig): ComposeOutcome {
  const services = [];
  for (const subgraph of config.subgraphs) {
    try {
      services.push({
        name: subgraph.name,
        url: subgraph.routingUrl,
        typeDefs: parse(
          new Source(
            readFileSync(subgraph.schemaFile, "utf8"),
            subgraph.schemaFile,
          ),
        ),
      });
    } catch (error) {
      return {
        ok: false,
        errors: [
          `[${subgraph.name}] ${error instanceof GraphQLError ? describe(error) : (error as Error).message}`,
        ],
      };
    }
  }
  const tooNew = services.flatMap((service) =>
    federationLinksAbove(service.name, service.typeDefs, config),
  );
  if (tooNew.length > 0) return { ok: false, errors: tooNew };
  const result = composeServices(services);
  if (result.errors) return { ok: false, errors: result.errors.map(describe) };
  const apiSdl = printSchema(result.schema.toAPISchema().toGraphQLJSSchema());
  const contracts: Record<string, string> = {};
  try {
    for (const variant of CONTRACT_VARIANTS)
      contracts[variant.name] =
        contractHeader(variant) +
        buildContract(result.supergraphSdl, apiSdl, variant);
  } catch (error) {
    return { ok: false, errors: [(error as Error).message] };
  }
  return {
    ok: true,
    supergraphSdl: result.supergraphSdl,
    apiSdl,
    contracts,
    hints: result.hints.map(
      (hint) =>
        `${hint.definition.code}: ${describe({ message: hint.message, nodes: hint.nodes })}`,
    ),
  };
}
