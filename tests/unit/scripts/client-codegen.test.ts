import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  DEFAULT_CODEGEN_PATHS,
  generateClient,
  staleFiles,
} from "../../../scripts/client-codegen.ts";
import { scratchDir } from "../../support/scratch.ts";

describe("typed client generation", () => {
  const scratch = scratchDir("switchyard-codegen-");

  it("the committed clients/generated matches a fresh generation from schema/api.graphql", async () => {
    const outcome = await generateClient();
    if (!outcome.ok) throw new Error(outcome.errors.join("\n"));
    // The typed documents, and the trusted-documents manifest with its ids (docs/trusted-documents.md).
    expect(Object.keys(outcome.files)).toEqual([
      join(DEFAULT_CODEGEN_PATHS.outputDir, "graphql.ts"),
      join(DEFAULT_CODEGEN_PATHS.outputDir, "persisted-documents.json"),
      join(DEFAULT_CODEGEN_PATHS.outputDir, "persisted-documents.ts"),
    ]);
    expect(staleFiles(outcome.files, DEFAULT_CODEGEN_PATHS.outputDir)).toEqual(
      [],
    );
    const generated = Object.values(outcome.files)[0]!;
    // documentMode 'string' and ESM imports with extensions, as configured.
    expect(generated).toMatch(
      /export class TypedDocumentString<TResult, TVariables>\s+extends String/,
    );
    expect(generated).toMatch(
      /export const PlaceOrderDocument = new TypedDocumentString\(/,
    );
    expect(generated).not.toMatch(/from '\.\/[^']*(?<!\.ts)'/);
  });

  it("reports an operation that no longer validates against the API schema, with its file and line", async () => {
    // The API schema as it would be if orders dropped Order.failureCode and products renamed an argument.
    const schema = readFileSync(DEFAULT_CODEGEN_PATHS.schemaFile, "utf8")
      .replace(/\n\s+"""[^"]*"""\n\s+failureCode: String\n/, "\n")
      .replace(
        "restockProduct(id: ID!, quantity: Int!)",
        "restockProduct(id: ID!, units: Int!)",
      );
    expect(schema).not.toMatch(/failureCode/);
    const schemaFile = join(scratch, "api.graphql");
    writeFileSync(schemaFile, schema);
    const outcome = await generateClient({
      ...DEFAULT_CODEGEN_PATHS,
      schemaFile,
      outputDir: join(scratch, "out"),
    });
    expect(outcome.ok).toBe(false);
    const errors = outcome.ok ? [] : outcome.errors;
    expect(errors.join("\n")).toMatch(
      /Cannot query field "failureCode" on type "Order"\.\n\s+at clients\/operations\/orders\.graphql:\d+:\d+/,
    );
    expect(errors.join("\n")).toMatch(
      /Unknown argument "quantity" on field "Mutation\.restockProduct"\. Did you mean "units"\?\n\s+at clients\/operations\/admin\.graphql:\d+:\d+/,
    );
  });

  it("flags a stale, a missing and a leftover generated file", async () => {
    const outputDir = join(scratch, "generated");
    const outcome = await generateClient({
      ...DEFAULT_CODEGEN_PATHS,
      outputDir,
    });
    if (!outcome.ok) throw new Error(outcome.errors.join("\n"));
    const [path, text] = Object.entries(outcome.files)[0]!;
    expect(staleFiles(outcome.files, outputDir)).toEqual(
      Object.keys(outcome.files),
    );
    rmSync(outputDir, { recursive: true, force: true });
    mkdirSync(outputDir);
    for (const [file, content] of Object.entries(outcome.files))
      writeFileSync(file, content);
    expect(staleFiles(outcome.files, outputDir)).toEqual([]);
    writeFileSync(path, text.replace("PlaceOrderDocument", "PlaceOrderDoc"));
    writeFileSync(join(outputDir, "gql.ts"), "");
    expect(staleFiles(outcome.files, outputDir)).toEqual([
      path,
      join(outputDir, "gql.ts"),
    ]);
  });
});
