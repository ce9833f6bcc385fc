import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CompositionConfig } from "../../scripts/composition.ts";

/**
 * `config` with subgraph `name`'s schema swapped for an edited copy written into `dir`
 * (`<dir>/<name>.graphql`): how a test composes a schema change without touching the repository.
 */
export function withEditedSchema(
  config: CompositionConfig,
  name: string,
  dir: string,
  edit: (sdl: string) => string,
): CompositionConfig {
  const subgraph = config.subgraphs.find((one) => one.name === name);
  if (!subgraph)
    throw new Error(`no subgraph ${name} in the composition config`);
  const schemaFile = join(dir, `${name}.graphql`);
  writeFileSync(schemaFile, edit(readFileSync(subgraph.schemaFile, "utf8")));
  return {
    ...config,
    subgraphs: config.subgraphs.map((one) =>
      one.name === name ? { ...one, schemaFile } : one,
    ),
  };
}
