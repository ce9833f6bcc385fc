import { readFileSync } from "node:fs";
import { relative, resolve } from "node:path";
import { codegen } from "@graphql-codegen/core";
import type { Types } from "@graphql-codegen/plugin-helpers";
import * as typescriptPlugin from "@graphql-codegen/typescript";
import * as resolversPlugin from "@graphql-codegen/typescript-resolvers";
import { buildASTSchema, parse } from "graphql";
import CODEGEN_CONFIG from "../codegen.ts";

/**
 * The subgraphs' resolver types: one `generates` entry per subgraph in codegen.ts, each its own
 * `schema.graphql` through the `typescript` and `typescript-resolvers` plugins (with `federation:
 * true`, so `__resolveReference` and entity references are typed), written to
 * `subgraphs/<name>/generated/resolvers-types.ts`. The same plugins the `graphql-codegen` CLI would
 * run, called directly (the CLI does not run on Node 20, see codegen.ts).
 */
export interface ResolverOutput {
  /** Absolute path of the generated file. */
  readonly file: string;
  /** Absolute path of the subgraph schema it is generated from. */
  readonly schemaFile: string;
  readonly config: Record<string, unknown>;
}

export const RESOLVER_PLUGINS = ["typescript", "typescript-resolvers"];

/** True for an entry this module generates (the client runner handles the other one). */
export function isResolverOutput(path: string, output: unknown): boolean {
  const target = output as Types.ConfiguredOutput;
  return (
    path.endsWith("/generated/resolvers-types.ts") &&
    typeof target === "object" &&
    !Array.isArray(target) &&
    typeof target.schema === "string" &&
    JSON.stringify(target.plugins) === JSON.stringify(RESOLVER_PLUGINS)
  );
}

export function resolverOutputs(
  config: Types.Config,
  root = process.cwd(),
): ResolverOutput[] {
  return Object.entries(config.generates)
    .filter(([path, output]) => isResolverOutput(path, output))
    .map(([path, output]) => {
      const target = output as Types.ConfiguredOutput;
      return {
        file: resolve(root, path),
        schemaFile: resolve(root, target.schema as string),
        config: (target.config ?? {}) as Record<string, unknown>,
      };
    });
}

export const DEFAULT_RESOLVER_OUTPUTS: readonly ResolverOutput[] =
  Object.freeze(resolverOutputs(CODEGEN_CONFIG));

/** Generates every subgraph's resolver types, returning file path → content. */
export async function generateResolverTypes(
  outputs: readonly ResolverOutput[] = DEFAULT_RESOLVER_OUTPUTS,
): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const output of outputs) {
    const document = parse(readFileSync(output.schemaFile, "utf8"));
    // The federation directives (@key, @link, ...) are defined by composition, not in the file.
    const schemaAst = buildASTSchema(document, { assumeValidSDL: true });
    const text = await codegen({
      filename: relative(process.cwd(), output.file),
      schema: document,
      schemaAst,
      documents: [],
      config: output.config,
      plugins: RESOLVER_PLUGINS.map((name) => ({ [name]: {} })),
      pluginMap: {
        typescript: typescriptPlugin,
        "typescript-resolvers": resolversPlugin,
      },
    });
    files[output.file] = text.trimEnd() + "\n";
  }
  return files;
}
