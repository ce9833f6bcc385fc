import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { preset } from "@graphql-codegen/client-preset";
import { codegen } from "@graphql-codegen/core";
import type { Types } from "@graphql-codegen/plugin-helpers";
import {
  buildSchema,
  concatAST,
  getLocation,
  parse,
  Source,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from "graphql";
import CODEGEN_CONFIG from "../codegen.ts";
import { buildManifest } from "../router/trusted-documents/manifest.ts";
import { isResolverOutput } from "./resolver-codegen.ts";

/** Where the typed client's inputs and outputs live; tests point these at fixtures. */
export interface CodegenPaths {
  /** The schema clients are generated against: the composed API schema. */
  schemaFile: string;
  /** Every `*.graphql` file in this folder is an operation document. */
  operationsDir: string;
  /** The client preset's `graphql.ts` (types and typed documents) is written here. */
  outputDir: string;
  /** The preset's plugin config and preset config (codegen.ts). */
  clientConfig?: Record<string, unknown>;
  presetConfig?: Record<string, unknown>;
}

/**
 * What a GraphQL Code Generator config (codegen.ts) asks for, in the subset this runner implements:
 * one local schema file, operations as `<folder>/*.graphql`, one output folder with the `client`
 * preset (beside the subgraphs' resolver-types outputs, scripts/resolver-codegen.ts). Anything else is refused naming the key, rather than generated differently than the
 * official CLI would.
 */
export function codegenSettings(
  config: Types.Config,
  root = process.cwd(),
): Required<CodegenPaths> {
  const refuse = (key: string, problem: string): never => {
    throw new Error(
      `codegen.ts: ${key} ${problem} (this runner implements one client-preset output from a schema file and <folder>/*.graphql operations)`,
    );
  };
  if (typeof config.schema !== "string" || /^https?:/.test(config.schema))
    refuse("schema", "must be one local schema file path");
  const documents =
    typeof config.documents === "string"
      ? config.documents
      : refuse("documents", 'must be one "<folder>/*.graphql" glob');
  if (!/^[^*?{}[\]]+\/\*\.graphql$/.test(documents))
    refuse(
      "documents",
      `must be "<folder>/*.graphql", got ${JSON.stringify(documents)}`,
    );
  const outputs = Object.entries(config.generates).filter(
    ([path, output]) => !isResolverOutput(path, output),
  );
  if (outputs.length !== 1)
    refuse(
      "generates",
      `must have exactly one client output, got ${outputs.length}`,
    );
  const [outputDir, output] = outputs[0]!;
  const target = Array.isArray(output)
    ? refuse(`generates["${outputDir}"]`, "must be an object")
    : (output as Types.ConfiguredOutput);
  if (target.preset !== "client" || !outputDir.endsWith("/"))
    refuse(
      `generates["${outputDir}"]`,
      'must be a folder ending in "/" with preset: "client"',
    );
  if (target.plugins && target.plugins.length > 0)
    refuse(
      `generates["${outputDir}"].plugins`,
      "must be empty (the client preset brings its own)",
    );
  return {
    schemaFile: resolve(root, config.schema as string),
    operationsDir: resolve(root, dirname(documents)),
    outputDir: resolve(root, outputDir),
    clientConfig: (target.config ?? {}) as Record<string, unknown>,
    presetConfig: (target.presetConfig ?? {}) as Record<string, unknown>,
  };
}

export const DEFAULT_CODEGEN_PATHS: Required<CodegenPaths> = Object.freeze(
  codegenSettings(CODEGEN_CONFIG),
);

export type CodegenOutcome =
  { ok: true; files: Record<string, string> } | { ok: false; errors: string[] };

function where(
  source: Source,
  positions: readonly number[] | undefined,
): string {
  const at = (positions ?? []).map((position) => {
    const { line, column } = getLocation(source, position);
    return `${relative(process.cwd(), source.name)}:${line}:${column}`;
  });
  return at.length > 0 ? `\n    at ${at.join("\n    at ")}` : "";
}

/**
 * Parses every operation file and validates it against the schema with graphql-js's rules (unknown
 * fields and arguments, wrong variable types, unused fragments...). An operation that no longer
 * validates is reported with its file, line and column, before any code is generated.
 */
export function loadOperations(
  schema: GraphQLSchema,
  operationsDir: string,
): { documents: Types.DocumentFile[]; errors: string[] } {
  const files = readdirSync(operationsDir)
    .filter((name) => name.endsWith(".graphql"))
    .sort();
  const documents: Types.DocumentFile[] = [];
  const errors: string[] = [];
  const sources = files.map(
    (name) =>
      new Source(
        readFileSync(join(operationsDir, name), "utf8"),
        join(operationsDir, name),
      ),
  );
  for (const source of sources) {
    try {
      documents.push({
        location: source.name,
        document: parse(source),
        rawSDL: source.body,
      });
    } catch (error) {
      const { message, positions } = error as {
        message: string;
        positions?: number[];
      };
      errors.push(`${message}${where(source, positions)}`);
    }
  }
  if (errors.length > 0) return { documents, errors };
  // Fragments may be used across files, so the operations validate as one document.
  for (const error of validate(
    schema,
    concatAST(documents.map((file) => file.document!)),
  )) {
    const locations = (error.nodes ?? []).flatMap((node) =>
      node.loc ? [{ source: node.loc.source, start: node.loc.start }] : [],
    );
    const at = locations
      .map(({ source, start }) => where(source, [start]))
      .join("");
    errors.push(`${error.message}${at}`);
  }
  if (files.length === 0)
    errors.push(
      `no *.graphql operation files in ${relative(process.cwd(), operationsDir)}`,
    );
  return { documents, errors };
}

/** Validates the operations and generates the typed documents, returning file path → content. */
export async function generateClient(
  paths: CodegenPaths = DEFAULT_CODEGEN_PATHS,
): Promise<CodegenOutcome> {
  const schemaText = readFileSync(paths.schemaFile, "utf8");
  const schemaAst = buildSchema(schemaText);
  const { documents, errors } = loadOperations(schemaAst, paths.operationsDir);
  if (errors.length > 0) return { ok: false, errors };
  // Paths inside generated comments and hashes must not depend on where the repo is checked out.
  const relativeDocuments = documents.map((file) => ({
    ...file,
    location: relative(process.cwd(), file.location!),
  }));
  const outputs = await preset.buildGeneratesSection({
    baseOutputDir: `${relative(process.cwd(), paths.outputDir)}/`,
    schema: parse(schemaText),
    schemaAst,
    documents: relativeDocuments,
    config: paths.clientConfig ?? DEFAULT_CODEGEN_PATHS.clientConfig,
    presetConfig: paths.presetConfig ?? DEFAULT_CODEGEN_PATHS.presetConfig,
    plugins: [],
    pluginMap: {},
  });
  const files: Record<string, string> = {};
  // Only graphql.ts: the preset's gql.ts/index.ts serve inline graphql(`...`) tags in code, which
  // this repo does not use (operations live in .graphql files and are imported by name).
  for (const output of outputs.filter((entry) =>
    entry.filename.endsWith("/graphql.ts"),
  ))
    files[resolve(output.filename)] =
      (await codegen({ ...output, skipDocumentsValidation: true })).trimEnd() +
      "\n";
  Object.assign(
    files,
    trustedDocumentFiles(
      documents.map((file) => file.document!),
      paths.outputDir,
    ),
  );
  return { ok: true, files };
}

/**
 * The trusted-document manifest of the operations (router/trusted-documents/manifest.ts: id =
 * SHA-256 of the normalised document), in Apollo's persisted-query manifest format for the router
 * (`ROUTER_TRUSTED_DOCUMENTS_MANIFESTS`), and the id of each generated document for the typed
 * client (clients/client.ts sends the id instead of the text).
 */
export function trustedDocumentFiles(
  documents: readonly DocumentNode[],
  outputDir: string,
): Record<string, string> {
  const manifest = buildManifest(documents);
  const entries = manifest.operations.map(
    ({ name, id }) => `  [documents.${name}Document, ${JSON.stringify(id)}],`,
  );
  return {
    [resolve(outputDir, "persisted-documents.json")]:
      JSON.stringify(manifest, null, 2) + "\n",
    [resolve(outputDir, "persisted-documents.ts")]: [
      "/* eslint-disable */",
      "// Generated by `npm run codegen` (scripts/client-codegen.ts): the trusted-document id of each",
      "// operation, the SHA-256 of its normalised text (router/trusted-documents/manifest.ts).",
      'import * as documents from "./graphql.ts";',
      "",
      "/** Document → its id in persisted-documents.json. */",
      "export const PERSISTED_DOCUMENT_IDS: ReadonlyMap<object, string> = new Map<object, string>([",
      ...entries,
      "]);",
      "",
    ].join("\n"),
  };
}

/**
 * Files in `outputDir` that differ from a fresh generation, are missing, or should not be there
 * (an output the generator no longer writes). Empty when the committed client is up to date.
 */
export function staleFiles(
  files: Record<string, string>,
  outputDir: string,
): string[] {
  const existing = existsSync(outputDir)
    ? readdirSync(outputDir).map((name) => join(outputDir, name))
    : [];
  const changed = Object.entries(files).filter(
    ([path, text]) => !existsSync(path) || readFileSync(path, "utf8") !== text,
  );
  return [
    ...changed.map(([path]) => path),
    ...existing.filter((path) => !(path in files)),
  ];
}
