/**
 * The typed client's code generation, in GraphQL Code Generator's own format (`CodegenConfig`), so
 * editors and the GraphQL Config tooling see it. `npm run codegen` (scripts/codegen.ts) reads this
 * file: the `graphql-codegen` CLI itself does not run on Node 20 (@graphql-codegen/cli 7.4.3 needs
 * listr2 10, which requires Node >= 22), so our runner implements the subset used here — one client
 * preset output, operations from `.graphql` files, and one resolver-types output per subgraph
 * (scripts/resolver-codegen.ts) — with `--check` and `--watch`.
 */
import type { Types } from "@graphql-codegen/plugin-helpers";
import { SUBGRAPH_NAMES, type SubgraphName } from "./platform/services.ts";

/**
 * What each subgraph's resolvers return where that is not the schema's own type: a row its
 * resolvers map field by field (paths are relative to the generated file).
 */
const MAPPERS: Record<SubgraphName, Record<string, string>> = {
  users: { User: "../resolvers.ts#UserView" },
  products: {},
  orders: { Order: "../resolvers.ts#OrderView", User: "{ id: string }" },
  payments: { Order: "{ id: string }" },
  notifications: { User: "{ id: string }" },
};

/**
 * Resolver types from each subgraph's own schema.graphql (`federation: true` types
 * `__resolveReference` and the entity stubs it does not own). Scalars as the resolvers see them:
 * Decimal is a formatted string; a DateTime is returned as a Date (platform/scalars.ts serializes it).
 */
const subgraphResolverTypes = (name: SubgraphName): Types.ConfiguredOutput => ({
  schema: `subgraphs/${name}/schema.graphql`,
  plugins: ["typescript", "typescript-resolvers"],
  config: {
    federation: true,
    useTypeImports: true,
    strictScalars: true,
    scalars: {
      Decimal: "string",
      DateTime: { input: "string", output: "Date | string" },
      _Any: "unknown",
      _FieldSet: "string",
    },
    enumsAsTypes: true,
    mappers: MAPPERS[name],
  },
});

const config: Types.Config = {
  /** The composed API schema (`npm run compose`). */
  schema: "schema/api.graphql",
  documents: "clients/operations/*.graphql",
  generates: {
    "clients/generated/": {
      preset: "client",
      presetConfig: { fragmentMasking: false },
      /**
       * `documentMode: 'string'` emits each operation as a typed string (no graphql-js AST shipped
       * to clients, and `fetch` sends it as is); `importExtension: '.ts'` keeps the generated imports
       * loadable by Node's ESM resolution through tsx, like the rest of the repo. Scalars are strings
       * on the wire (Decimal "19.99", DateTime ISO 8601); strictScalars makes a new custom scalar fail
       * generation until it is mapped here.
       */
      config: {
        documentMode: "string",
        useTypeImports: true,
        importExtension: ".ts",
        strictScalars: true,
        scalars: { Decimal: "string", DateTime: "string" },
        enumType: "string-literal",
        avoidOptionals: {
          field: true,
          inputValue: false,
          object: false,
          defaultValue: false,
        },
      },
    },
    ...Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [
        `subgraphs/${name}/generated/resolvers-types.ts`,
        subgraphResolverTypes(name),
      ]),
    ),
  },
};

export default config;
