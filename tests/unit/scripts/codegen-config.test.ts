/**
 * codegen.ts is the typed client's configuration (scripts/client-codegen.ts `codegenSettings`): its
 * paths and preset config are what `npm run codegen` uses, and shapes the runner does not implement
 * are refused naming the key.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import CODEGEN_CONFIG from "../../../codegen.ts";
import {
  codegenSettings,
  DEFAULT_CODEGEN_PATHS,
  generateClient,
} from "../../../scripts/client-codegen.ts";
import { REPO_ROOT } from "../../support/process.ts";
import { scratchDir } from "../../support/scratch.ts";

const scratch = scratchDir("codegen-config-");
const output = CODEGEN_CONFIG.generates["clients/generated/"] as {
  config: Record<string, unknown>;
  presetConfig: Record<string, unknown>;
};

describe("codegen.ts", () => {
  it("names the schema, the operations and the output the runner uses, with its preset config", () => {
    expect(codegenSettings(CODEGEN_CONFIG, REPO_ROOT)).toEqual({
      schemaFile: join(REPO_ROOT, "schema/api.graphql"),
      operationsDir: join(REPO_ROOT, "clients/operations"),
      outputDir: join(REPO_ROOT, "clients/generated"),
      clientConfig: output.config,
      presetConfig: output.presetConfig,
    });
    expect(DEFAULT_CODEGEN_PATHS.clientConfig).toBe(output.config);
  });

  it("drives generation: a scalar mapped differently in the config comes out differently", async () => {
    const base = await generateClient({
      ...DEFAULT_CODEGEN_PATHS,
      outputDir: join(scratch, "a"),
    });
    const changed = await generateClient({
      ...DEFAULT_CODEGEN_PATHS,
      outputDir: join(scratch, "b"),
      clientConfig: {
        ...output.config,
        scalars: { Decimal: "number", DateTime: "string" },
      },
    });
    if (!base.ok || !changed.ok) throw new Error("generation failed");
    // OrderDetails' total is a Decimal: a string as configured, a number once mapped so.
    expect(Object.values(base.files)[0]).toContain(
      "status: OrderStatus, total: string,",
    );
    expect(Object.values(changed.files)[0]).toContain(
      "status: OrderStatus, total: number,",
    );
    expect(
      readFileSync(join(REPO_ROOT, "clients/generated/graphql.ts"), "utf8"),
    ).toBe(Object.values(base.files)[0]);
  });

  it("refuses what the runner does not implement, naming the key", () => {
    const at = (changes: Record<string, unknown>) => () =>
      codegenSettings(
        { ...CODEGEN_CONFIG, ...changes } as typeof CODEGEN_CONFIG,
        REPO_ROOT,
      );
    expect(at({ schema: "http://localhost:4000/graphql" })).toThrow(
      "codegen.ts: schema must be one local schema file path",
    );
    expect(at({ documents: "clients/**/*.tsx" })).toThrow(
      'codegen.ts: documents must be "<folder>/*.graphql"',
    );
    expect(
      at({
        generates: {
          ...CODEGEN_CONFIG.generates,
          "other/": { preset: "client" },
        },
      }),
    ).toThrow(
      "codegen.ts: generates must have exactly one client output, got 2",
    );
    expect(
      at({ generates: { "out.ts": { plugins: ["typescript"] } } }),
    ).toThrow(
      'codegen.ts: generates["out.ts"] must be a folder ending in "/" with preset: "client"',
    );
  });
});
