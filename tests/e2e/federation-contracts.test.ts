/**
 * Federation contract tests, per subgraph, straight at the subgraph (signed as the router would):
 * what the router relies on when it plans a query. The entity and key list is read from the
 * committed schema files, so a new entity or key is covered the day it is added.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { buildSubgraphSchema } from "@apollo/subgraph";
import {
  getNamedType,
  isLeafType,
  isNonNullType,
  isObjectType,
  Kind,
  parse,
  print,
  type ConstDirectiveNode,
  type ConstValueNode,
  type DefinitionNode,
  type DocumentNode,
  type SchemaExtensionNode,
  type GraphQLField,
  type GraphQLSchema,
  type SelectionSetNode,
  type StringValueNode,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Storage } from "../../platform/database.ts";
import { scratchPglite } from "../support/pglite.ts";
import {
  demoOrders,
  demoPayments,
  demoProducts,
  demoUsers,
} from "../../platform/demo-data.ts";
import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../../platform/internal-token.ts";
import { LIVE_FIELDS } from "../../router/live/entity-query.ts";
import { readCompositionConfig } from "../../scripts/composition.ts";
import {
  startSubgraphs,
  type SubgraphName,
  type Subgraphs,
} from "../../stack.ts";
import { gql, silentLogger } from "../support/stack.ts";

interface EntityKey {
  subgraph: SubgraphName;
  type: string;
  fields: string;
  selection: SelectionSetNode;
  resolvable: boolean;
}

const config = readCompositionConfig("supergraph.yaml");
const subgraphFiles = config.subgraphs.map(({ name, schemaFile }) => ({
  name: name as SubgraphName,
  schemaFile,
  typeDefs: parse(readFileSync(schemaFile, "utf8")),
}));

function directiveArgument(
  directive: ConstDirectiveNode,
  name: string,
): ConstValueNode | undefined {
  return directive.arguments?.find((argument) => argument.name.value === name)
    ?.value;
}

/** Every `@key` of every entity type, as each subgraph's schema file declares it. */
function keysOf(subgraph: SubgraphName, typeDefs: DocumentNode): EntityKey[] {
  return typeDefs.definitions.flatMap((definition) => {
    if (
      definition.kind !== Kind.OBJECT_TYPE_DEFINITION &&
      definition.kind !== Kind.OBJECT_TYPE_EXTENSION
    )
      return [];
    return (definition.directives ?? [])
      .filter(
        (directive) =>
          directive.name.value === "key" ||
          directive.name.value === "federation__key",
      )
      .map((directive) => {
        const fields = (
          directiveArgument(directive, "fields") as StringValueNode
        ).value;
        const resolvable = directiveArgument(directive, "resolvable");
        return {
          subgraph,
          type: definition.name.value,
          fields,
          selection: (
            parse(`{ ${fields} }`).definitions[0] as {
              selectionSet: SelectionSetNode;
            }
          ).selectionSet,
          resolvable: !(resolvable?.kind === Kind.BOOLEAN && !resolvable.value),
        };
      });
  });
}

/**
 * An SDL without what the federation library adds to every subgraph (the `schema` definition with
 * the link spec, directive and `link__`/`federation__` definitions, `_Any`, `_Service`, `_Entity`,
 * `Query._service`/`_entities`), printed canonically: layout and comments do not count, content does.
 */
function normaliseSdl(sdl: string): string {
  const machinery = /^(_Any|_Service|_Entity|link__.*|federation__.*)$/;
  const definitions = parse(sdl).definitions.flatMap(
    (definition): DefinitionNode[] => {
      if (
        definition.kind === Kind.SCHEMA_DEFINITION ||
        definition.kind === Kind.DIRECTIVE_DEFINITION
      )
        return [];
      if (definition.kind === Kind.SCHEMA_EXTENSION) {
        // The link spec's own @link lands here when the subgraph has no root type to hang it on.
        const linkSpec = (directive: ConstDirectiveNode) =>
          directive.name.value === "link" &&
          print(directiveArgument(directive, "url")!).includes(
            "specs.apollo.dev/link/",
          );
        return [
          {
            ...definition,
            directives: (definition.directives ?? []).filter(
              (directive) => !linkSpec(directive),
            ),
          } as SchemaExtensionNode,
        ];
      }
      if (
        "name" in definition &&
        definition.name &&
        machinery.test(definition.name.value)
      )
        return [];
      if (
        (definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
          definition.kind === Kind.OBJECT_TYPE_EXTENSION) &&
        definition.name.value === "Query"
      ) {
        const fields = (definition.fields ?? []).filter(
          (field) => !["_service", "_entities"].includes(field.name.value),
        );
        return fields.length > 0 ? [{ ...definition, fields }] : [];
      }
      return [definition];
    },
  );
  return print({ kind: Kind.DOCUMENT, definitions });
}

/** Field directives the router acts on; each needs its own contract case before it is used. */
function fieldDirectiveUses(typeDefs: DocumentNode, names: string[]): string[] {
  return typeDefs.definitions.flatMap((definition) =>
    "fields" in definition && definition.fields
      ? definition.fields.flatMap((field) =>
          (field.directives ?? [])
            .filter((directive) => names.includes(directive.name.value))
            .map(
              (directive) =>
                `${definition.name.value}.${field.name.value} @${directive.name.value}`,
            ),
        )
      : [],
  );
}

/**
 * One existing row per entity type, from the seeded demo data. An entity type without an entry
 * fails the test below by name: add a seeded row for it here.
 */
const EXISTING: Record<string, Record<string, unknown>> = {
  User: { id: demoUsers[1]!.id },
  Product: { id: demoProducts[0]!.id },
  Order: { id: demoOrders[0]!.id },
  Payment: { id: demoPayments[0]!.id },
};

/** The key fields of `source` selected by `selection` (nested keys included). */
function pick(
  source: Record<string, unknown>,
  selection: SelectionSetNode,
  missing = false,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const node of selection.selections) {
    if (node.kind !== Kind.FIELD)
      throw new Error(
        "key fields with fragments are not supported by this test",
      );
    const name = node.name.value;
    if (!(name in source))
      throw new Error(`no sample value for key field ${name}`);
    out[name] = node.selectionSet
      ? pick(
          source[name] as Record<string, unknown>,
          node.selectionSet,
          missing,
        )
      : missing
        ? randomUUID()
        : source[name];
  }
  return out;
}

/** Every field this subgraph resolves on the type (arguments left to their defaults), to one level. */
function selectAll(schema: GraphQLSchema, typeName: string): string {
  const type = schema.getType(typeName);
  if (!isObjectType(type)) throw new Error(`${typeName} is not an object type`);
  const selectable = (field: GraphQLField<unknown, unknown>) =>
    field.args.every(
      (arg) => !isNonNullType(arg.type) || arg.defaultValue !== undefined,
    );
  return Object.values(type.getFields())
    .filter(selectable)
    .map((field) =>
      isLeafType(getNamedType(field.type))
        ? field.name
        : `${field.name} { __typename }`,
    )
    .join(" ");
}

/** Subgraphs with a root query field returning the type store its rows: a missing row is null there. */
function ownsRows(schema: GraphQLSchema, typeName: string): boolean {
  return Object.values(schema.getQueryType()?.getFields() ?? {}).some(
    (field) => getNamedType(field.type).name === typeName,
  );
}

const ENTITIES = `query($representations: [_Any!]!) { _entities(representations: $representations) { __typename ...on %TYPE% { %FIELDS% } } }`;

describe("federation contracts of each subgraph", () => {
  const internalTokenSecret = randomBytes(32).toString("base64url");
  let storage: Storage;
  let running: Subgraphs;
  /** The router's token for an admin: every entity is readable, so a refusal is a contract bug. */
  let asRouter: Record<string, string>;
  beforeAll(async () => {
    storage = await scratchPglite();
    running = await startSubgraphs({
      storage,
      logger: silentLogger,
      internalTokenSecret,
    });
    const admin = demoUsers.find((user) => user.role === "ADMIN")!;
    asRouter = {
      [INTERNAL_TOKEN_HEADER]: await createInternalTokenSigner({
        secret: internalTokenSecret,
      }).sign({ id: admin.id, role: "ADMIN", scopes: ["admin"] }),
    };
  });
  afterAll(async () => {
    await running?.stop();
    await storage?.close();
  });

  const allKeys = subgraphFiles.flatMap(({ name, typeDefs }) =>
    keysOf(name, typeDefs),
  );

  it("finds the entities in the schema files (the list below is derived, not written by hand)", () => {
    expect(new Set(allKeys.map((key) => key.type))).toEqual(
      new Set(Object.keys(EXISTING)),
    );
    expect(allKeys.length).toBeGreaterThanOrEqual(Object.keys(EXISTING).length);
  });

  it("uses no @requires, @provides or @external: add a contract case here before the first one", () => {
    // None is used today, so there is nothing to honour yet; this fails as soon as one appears.
    expect(
      subgraphFiles.flatMap(({ typeDefs }) =>
        fieldDirectiveUses(typeDefs, [
          "requires",
          "provides",
          "external",
          "federation__requires",
          "federation__provides",
          "federation__external",
        ]),
      ),
    ).toEqual([]);
  });

  // router/live reads every event of a subscription back through a query field of the subgraph
  // that declares the subscription (router/live/entity-query.ts LIVE_FIELDS): that field must take
  // `id: ID!`, return the subscription's type, and answer an id it does not hold with NOT_FOUND or
  // null (the router skips such an event), never another error.
  it.each(
    Object.entries(LIVE_FIELDS).map(([field, { lookup }]) => ({
      field,
      lookup,
    })),
  )(
    "Subscription.$field is read back through Query.$lookup(id: ID!) of the subgraph that declares it",
    async ({ field, lookup }) => {
      const owner = subgraphFiles
        .map(({ name, typeDefs }) => ({
          name,
          schema: buildSubgraphSchema({ typeDefs }),
        }))
        .find(({ schema }) => schema.getSubscriptionType()?.getFields()[field]);
      expect(owner, `no subgraph declares Subscription.${field}`).toBeDefined();
      const { name, schema } = owner!;
      const subscription = schema.getSubscriptionType()!.getFields()[field]!;
      const read = schema.getQueryType()?.getFields()[lookup];
      expect(read, `${name} has no Query.${lookup}`).toBeDefined();
      expect(getNamedType(read!.type).name).toBe(
        getNamedType(subscription.type).name,
      );
      expect(
        read!.args.map((arg) => `${arg.name}: ${String(arg.type)}`),
      ).toEqual(["id: ID!"]);
      const { data, errors } = await gql(
        running.subgraphs[name].url,
        `query($id: ID!) { ${lookup}(id: $id) { __typename } }`,
        { id: randomUUID() },
        asRouter,
      );
      expect(data?.[lookup] ?? null).toBeNull();
      for (const error of errors ?? [])
        expect(error.extensions?.code).toBe("NOT_FOUND");
    },
  );

  describe.each(subgraphFiles)("$name", ({ name, schemaFile, typeDefs }) => {
    const schema = buildSubgraphSchema({ typeDefs });

    it("serves _service { sdl } equal to its committed schema file", async () => {
      const { data, errors } = await gql(
        running.subgraphs[name].url,
        "{ _service { sdl } }",
        {},
        asRouter,
      );
      expect(errors).toBeUndefined();
      // Both normalised: the running service must report exactly the committed file's definitions
      // (descriptions and directives included), nothing more and nothing less.
      expect(
        normaliseSdl(data._service.sdl),
        `${name} does not serve ${schemaFile}`,
      ).toBe(normaliseSdl(readFileSync(schemaFile, "utf8")));
    });

    const keys = keysOf(name, typeDefs);
    const resolvable = keys.filter((key) => key.resolvable);
    // A subgraph with no entity has nothing to ask _entities for: a visible skip, never a silent pass.
    it.skipIf(keys.length === 0)(
      "refuses _entities without the router token",
      async () => {
        const key = keys[0]!;
        const response = await gql(
          running.subgraphs[name].url,
          ENTITIES.replace("%TYPE%", key.type).replace("%FIELDS%", key.fields),
          {
            representations: [
              {
                __typename: key.type,
                ...pick(EXISTING[key.type]!, key.selection),
              },
            ],
          },
        );
        expect(response.status).toBe(401);
      },
    );

    it.each(
      keys.map((key) => ({
        ...key,
        label: `${key.type} @key(fields: "${key.fields}")${key.resolvable ? "" : " resolvable: false"}`,
      })),
    )("$label", async (key) => {
      const sample = EXISTING[key.type];
      expect(sample, `no seeded ${key.type} in EXISTING`).toBeDefined();
      if (!key.resolvable) {
        // A stub for an entity owned elsewhere: the subgraph must not be asked to resolve it.
        expect(Object.keys(schema.getQueryType()?.getFields() ?? {})).toContain(
          "_entities",
        );
        return;
      }
      const query = ENTITIES.replace("%TYPE%", key.type).replace(
        "%FIELDS%",
        selectAll(schema, key.type),
      );
      const existing = pick(sample!, key.selection);
      const missing = pick(sample!, key.selection, true);
      const { data, errors } = await gql(
        running.subgraphs[name].url,
        query,
        {
          representations: [
            { __typename: key.type, ...existing },
            { __typename: key.type, ...missing },
            { __typename: key.type, ...pick(sample!, key.selection) },
          ],
        },
        asRouter,
      );
      expect(errors, `${name} failed to resolve ${key.type}`).toBeUndefined();
      const [found, absent, again] = data._entities;
      // Every field this subgraph contributes resolves for a real row, and the key comes back as sent.
      expect(found).toMatchObject({ __typename: key.type, ...existing });
      expect(again).toEqual(found);
      if (ownsRows(schema, key.type))
        expect(
          absent,
          `${name} owns ${key.type} rows: a missing one is null`,
        ).toBeNull();
      else
        expect(
          absent === null ||
            (absent as { __typename: string }).__typename === key.type,
        ).toBe(true);
    });

    it.skipIf(resolvable.length === 0)(
      "answers a malformed key with null, not an error",
      async () => {
        for (const key of resolvable) {
          const representation = {
            __typename: key.type,
            ...Object.fromEntries(
              Object.keys(pick(EXISTING[key.type]!, key.selection)).map(
                (field) => [field, "not-an-id"],
              ),
            ),
          };
          const { data, errors } = await gql(
            running.subgraphs[name].url,
            ENTITIES.replace("%TYPE%", key.type).replace(
              "%FIELDS%",
              key.fields,
            ),
            { representations: [representation] },
            asRouter,
          );
          expect(errors, `${name} ${key.type}`).toBeUndefined();
          expect(data._entities).toEqual([null]);
        }
      },
    );
  });
});
