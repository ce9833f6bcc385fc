import { readFileSync } from "node:fs";
import {
  buildSchema,
  concatAST,
  isInputObjectType,
  isObjectType,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLSchema,
} from "graphql";
import { describe, expect, it } from "vitest";
import {
  composeFromConfig,
  readCompositionConfig,
  type CompositionConfig,
} from "../../../scripts/composition.ts";
import {
  buildContract,
  CONTRACT_VARIANTS,
} from "../../../scripts/contracts.ts";
import { withEditedSchema } from "../../support/edited-schema.ts";
import { scratchDir } from "../../support/scratch.ts";

/**
 * Admin-only elements, derived from the authorization the subgraphs enforce: a type or field whose
 * `@requiresScopes` demands `admin` in every alternative. Tags are for audiences; scopes are the
 * truth about who may call, so a new admin field without `@tag(name: "admin")` is caught here.
 */
function adminOnlyCoordinates(config: CompositionConfig): string[] {
  const coordinates: string[] = [];
  const adminOnly = (
    directives:
      | ReadonlyArray<{
          name: { value: string };
          arguments?: ReadonlyArray<{
            name: { value: string };
            value: unknown;
          }>;
        }>
      | undefined,
  ) =>
    (directives ?? []).some((directive) => {
      if (directive.name.value !== "requiresScopes") return false;
      const scopes = directive.arguments?.find(
        (argument) => argument.name.value === "scopes",
      )?.value as
        | { kind: string; values: Array<{ values: Array<{ value: string }> }> }
        | undefined;
      return (
        scopes?.kind === Kind.LIST &&
        scopes.values.length > 0 &&
        scopes.values.every((alternative) =>
          alternative.values.some((scope) => scope.value === "admin"),
        )
      );
    });
  for (const { schemaFile } of config.subgraphs) {
    for (const definition of parse(readFileSync(schemaFile, "utf8"))
      .definitions) {
      if (
        !("name" in definition) ||
        !definition.name ||
        definition.kind === Kind.DIRECTIVE_DEFINITION
      )
        continue;
      if ("directives" in definition && adminOnly(definition.directives))
        coordinates.push(definition.name.value);
      if ("fields" in definition)
        for (const field of definition.fields ?? [])
          if (adminOnly(field.directives))
            coordinates.push(`${definition.name.value}.${field.name.value}`);
    }
  }
  return coordinates.sort();
}

/** The coordinates of `coordinates` that `schema` still exposes. */
function exposed(schema: GraphQLSchema, coordinates: string[]): string[] {
  return coordinates.filter((coordinate) => {
    const [typeName, fieldName] = coordinate.split(".");
    const type = schema.getType(typeName!);
    if (!type) return false;
    if (fieldName === undefined) return true;
    return (
      (isObjectType(type) || isInputObjectType(type)) &&
      fieldName in type.getFields()
    );
  });
}

function composed(config: CompositionConfig) {
  const outcome = composeFromConfig(config);
  if (!outcome.ok) throw new Error(outcome.errors.join("\n"));
  return outcome;
}

const config = readCompositionConfig("supergraph.yaml");

describe("contract variants (@tag)", () => {
  const scratch = scratchDir("switchyard-contracts-");

  it("commits schema/contracts/<variant>.graphql as composed", () => {
    const outcome = composed(config);
    expect(Object.keys(outcome.contracts)).toEqual(
      CONTRACT_VARIANTS.map((variant) => variant.name),
    );
    for (const [name, sdl] of Object.entries(outcome.contracts))
      expect(readFileSync(`schema/contracts/${name}.graphql`, "utf8")).toBe(
        sdl.trimEnd() + "\n",
      );
  });

  it("the public variant exposes no admin-only field, type or input (derived from @requiresScopes admin)", () => {
    const admin = adminOnlyCoordinates(config);
    expect(admin).toEqual(
      expect.arrayContaining([
        "Mutation.createProduct",
        "Mutation.restockProduct",
        "Mutation.refundPayment",
      ]),
    );
    const publicSchema = buildSchema(
      readFileSync("schema/contracts/public.graphql", "utf8"),
    );
    const apiSchema = buildSchema(readFileSync("schema/api.graphql", "utf8"));
    expect(exposed(apiSchema, admin)).toEqual(admin);
    expect(exposed(publicSchema, admin)).toEqual([]);
    // Inputs only admin fields take go with them; shared types stay.
    expect(publicSchema.getType("CreateProductInput")).toBeUndefined();
    expect(publicSchema.getType("Product")).toBeDefined();
  });

  it("catches a new admin field that forgot its @tag", () => {
    const changed = withEditedSchema(config, "products", scratch, (sdl) =>
      sdl.replace(
        /\ntype Mutation \{\n/,
        '\ntype Mutation {\n  discontinueProduct(id: ID!): Product! @requiresScopes(scopes: [["admin"]])\n',
      ),
    );
    const publicSchema = buildSchema(composed(changed).contracts.public!);
    expect(exposed(publicSchema, adminOnlyCoordinates(changed))).toEqual([
      "Mutation.discontinueProduct",
    ]);
  });

  it("storefront operations run against the public variant; the admin tool needs the full API", () => {
    const publicSchema = buildSchema(
      readFileSync("schema/contracts/public.graphql", "utf8"),
    );
    const operations = (file: string): DocumentNode =>
      parse(readFileSync(`clients/operations/${file}`, "utf8"));
    const storefront = concatAST(
      ["storefront.graphql", "account.graphql", "orders.graphql"].map(
        operations,
      ),
    );
    expect(validate(publicSchema, storefront)).toEqual([]);
    expect(
      validate(publicSchema, operations("admin.graphql")).map(
        (error) => error.message,
      ),
    ).toEqual(
      expect.arrayContaining([
        'Cannot query field "restockProduct" on type "Mutation".',
        'Cannot query field "refundPayment" on type "Mutation".',
      ]),
    );
  });

  it("removes what depends on an excluded type and prunes what becomes unreachable", () => {
    const supergraph = `type Query { shop: Shop  audit: Audit @tag(name: "admin") }
      type Shop { name: String  secret(reason: Reason @tag(name: "admin")): String  entries: [Entry] }
      type Audit @tag(name: "admin") { entries: [Entry] }
      type Entry { at: String }
      enum Reason { SUPPORT LEGAL @tag(name: "admin") }
      input Filter { kind: String  internal: String @tag(name: "admin") }`;
    const api = `type Query { shop: Shop audit: Audit }
      type Shop { name: String secret(reason: Reason): String entries: [Entry] list(filter: Filter): [Entry] }
      type Audit { entries: [Entry] }
      type Entry { at: String }
      enum Reason { SUPPORT LEGAL }
      input Filter { kind: String internal: String }`;
    const contract = buildSchema(
      buildContract(supergraph, api, {
        name: "test",
        excludeTags: ["admin"],
        description: "test",
      }),
    );
    expect(Object.keys(contract.getQueryType()!.getFields())).toEqual(["shop"]);
    expect(contract.getType("Audit")).toBeUndefined();
    expect(contract.getType("Entry")).toBeDefined();
    expect(contract.getType("Reason")).toBeUndefined();
    const shop = contract.getType("Shop");
    expect(
      isObjectType(shop) &&
        shop.getFields().secret!.args.map((arg) => arg.name),
    ).toEqual([]);
    const filter = contract.getType("Filter");
    expect(
      isInputObjectType(filter) && Object.keys(filter.getFields()),
    ).toEqual(["kind"]);
    expect(() =>
      buildContract(
        supergraph.replace("reason: Reason", "reason: Reason!"),
        api.replace("reason: Reason", "reason: Reason!"),
        { name: "test", excludeTags: ["admin"], description: "test" },
      ),
    ).toThrow(/Shop\.secret\(reason:\) is required but excluded/);
  });
});
