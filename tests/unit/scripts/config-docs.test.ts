import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALL_SETTINGS } from "../../../deploy/configuration.ts";
import { readConfigFile } from "../../../platform/config-file.ts";
import {
  EXAMPLE_PATH,
  generatedFiles,
  renderExampleFile,
  renderSchema,
} from "../../../scripts/config-docs.ts";

type SchemaNode = {
  type?: string | string[];
  additionalProperties?: boolean;
  properties?: Record<string, SchemaNode>;
};

/** Every leaf key path the schema allows, and whether every object in it refuses other keys. */
function schemaKeys(
  node: SchemaNode,
  prefix = "",
): { keys: string[]; closed: boolean } {
  if (
    !(
      node.type === "object" ||
      (Array.isArray(node.type) && node.type.includes("object"))
    ) ||
    !node.properties
  )
    return { keys: [prefix], closed: true };
  const inner = Object.entries(node.properties).map(([name, child]) =>
    schemaKeys(child, prefix ? `${prefix}.${name}` : name),
  );
  return {
    keys: inner.flatMap((entry) => entry.keys),
    closed:
      node.additionalProperties === false &&
      inner.every((entry) => entry.closed),
  };
}

const declaredKeys = ALL_SETTINGS.flatMap((declared) =>
  declared.key ? [declared.key] : [],
).sort();

describe("generated configuration files (npm run config:docs)", () => {
  it("are deterministic and committed fresh: docs/configuration.md, the JSON Schema and the example file", () => {
    const first = generatedFiles();
    expect(generatedFiles()).toEqual(first);
    for (const [path, text] of Object.entries(first))
      expect(
        readFileSync(path, "utf8"),
        `${path} is stale: run npm run config:docs`,
      ).toBe(text);
  });

  it("the schema allows exactly the declared keys and refuses any other at every level", () => {
    const schema = JSON.parse(renderSchema()) as SchemaNode & {
      $schema: string;
    };
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    const { keys, closed } = schemaKeys(schema);
    expect(keys.sort()).toEqual(declaredKeys);
    expect(closed).toBe(true);
  });

  it("the example points editors at the schema, documents every key, and is a valid file as shipped and uncommented", () => {
    const example = renderExampleFile();
    expect(example.split("\n")[0]).toBe(
      "# yaml-language-server: $schema=./schema/switchyard.config.schema.json",
    );
    expect(readConfigFile(example, ALL_SETTINGS).problems).toEqual([]);
    // Uncommenting every key (with its default, or a placeholder where the default is computed) yields a file that reads cleanly.
    const uncommented = example.replace(
      /^(\s*)# ([a-z_]+):(.*)$/gm,
      (_line, indent: string, key: string, value: string) =>
        `${indent}${key}:${value.trim() === "" ? " x" : value}`,
    );
    const read = readConfigFile(uncommented, ALL_SETTINGS);
    expect(read.problems).toEqual([]);
    expect([...read.values.values()].map((entry) => entry.key).sort()).toEqual(
      declaredKeys,
    );
    expect(readFileSync(EXAMPLE_PATH, "utf8")).toBe(example);
  });
});
