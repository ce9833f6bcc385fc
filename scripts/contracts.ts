/**
 * Contract variants of the API schema, in Apollo's sense: a filtered view of the supergraph for an
 * audience, driven by `@tag` applications in the subgraph schemas.
 *
 * The rule is exclusion: a variant is the API schema minus every element (type, field, argument,
 * input field, enum value) carrying one of its excluded tags, minus any field, argument or input
 * field whose type was removed, minus every type no longer reachable from the root types. Exclusion
 * (rather than "include only `public`") keeps the common case free: a new storefront field needs no
 * tag; an admin field needs `@tag(name: "admin")`, and tests/unit/scripts/contracts.test.ts fails for any
 * `@requiresScopes(["admin"])` element that is not excluded from the public variant.
 */
import {
  buildASTSchema,
  getNamedType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  Kind,
  parse,
  printSchema,
  type DirectiveNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLNamedType,
  type GraphQLSchema,
  type TypeNode,
} from "graphql";

export interface ContractVariant {
  /** File name under schema/contracts/ (without `.graphql`). */
  name: string;
  /** Elements tagged with any of these are left out. */
  excludeTags: readonly string[];
  /** Who the variant is for. */
  description: string;
}

export const CONTRACT_VARIANTS: readonly ContractVariant[] = Object.freeze([
  {
    name: "public",
    excludeTags: ["admin"],
    description: "storefronts and third parties: everything but the admin tool",
  },
]);

/**
 * Schema coordinates (`Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`) and the tags applied
 * to them anywhere in the supergraph (composition gathers every subgraph's `@tag`s there).
 */
export function tagsByCoordinate(
  supergraphSdl: string,
): Map<string, Set<string>> {
  const tags = new Map<string, Set<string>>();
  const add = (
    coordinate: string,
    directives: readonly DirectiveNode[] | undefined,
  ) => {
    for (const directive of directives ?? []) {
      if (directive.name.value !== "tag") continue;
      const name = directive.arguments?.find(
        (argument) => argument.name.value === "name",
      )?.value;
      if (name?.kind !== Kind.STRING) continue;
      if (!tags.has(coordinate)) tags.set(coordinate, new Set());
      tags.get(coordinate)!.add(name.value);
    }
  };
  for (const definition of parse(supergraphSdl).definitions) {
    if (
      !("name" in definition) ||
      !definition.name ||
      definition.kind === Kind.DIRECTIVE_DEFINITION
    )
      continue;
    const type = definition.name.value;
    add(type, "directives" in definition ? definition.directives : undefined);
    if ("fields" in definition) {
      for (const field of definition.fields ?? []) {
        add(`${type}.${field.name.value}`, field.directives);
        for (const argument of "arguments" in field
          ? (field.arguments ?? [])
          : [])
          add(
            `${type}.${field.name.value}(${argument.name.value}:)`,
            argument.directives,
          );
      }
    }
    if ("values" in definition)
      for (const value of definition.values ?? [])
        add(`${type}.${value.name.value}`, value.directives);
  }
  return tags;
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE
    ? type.name.value
    : namedTypeOf(type.type);
}

function reachableTypes(schema: GraphQLSchema): Set<string> {
  const seen = new Set<string>();
  const queue: GraphQLNamedType[] = [
    schema.getQueryType(),
    schema.getMutationType(),
    schema.getSubscriptionType(),
  ].filter((type): type is NonNullable<typeof type> => Boolean(type));
  while (queue.length > 0) {
    const type = queue.pop()!;
    if (seen.has(type.name)) continue;
    seen.add(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        queue.push(getNamedType(field.type));
        for (const argument of field.args)
          queue.push(getNamedType(argument.type));
      }
      queue.push(...type.getInterfaces());
      if (isInterfaceType(type)) queue.push(...schema.getPossibleTypes(type));
    } else if (isUnionType(type)) queue.push(...type.getTypes());
    else if (isInputObjectType(type))
      for (const field of Object.values(type.getFields()))
        queue.push(getNamedType(field.type));
  }
  return seen;
}

/** The API schema filtered for `variant`, printed like schema/api.graphql. */
export function buildContract(
  supergraphSdl: string,
  apiSdl: string,
  variant: ContractVariant,
): string {
  const tags = tagsByCoordinate(supergraphSdl);
  const excluded = (coordinate: string) =>
    [...(tags.get(coordinate) ?? [])].some((tag) =>
      variant.excludeTags.includes(tag),
    );
  const api = parse(apiSdl);
  const removedTypes = new Set(
    api.definitions.flatMap((definition) =>
      "name" in definition && definition.name && excluded(definition.name.value)
        ? [definition.name.value]
        : [],
    ),
  );

  const filter = (definitions: readonly DefinitionNode[]): DefinitionNode[] =>
    definitions.flatMap((definition): DefinitionNode[] => {
      if (!("name" in definition) || !definition.name) return [definition];
      const type = definition.name.value;
      if (removedTypes.has(type)) return [];
      if (
        definition.kind === Kind.OBJECT_TYPE_DEFINITION ||
        definition.kind === Kind.INTERFACE_TYPE_DEFINITION
      ) {
        const fields = (definition.fields ?? []).flatMap((field) => {
          const coordinate = `${type}.${field.name.value}`;
          if (excluded(coordinate) || removedTypes.has(namedTypeOf(field.type)))
            return [];
          const args = (field.arguments ?? []).filter(
            (argument) =>
              !excluded(`${coordinate}(${argument.name.value}:)`) &&
              !removedTypes.has(namedTypeOf(argument.type)),
          );
          for (const argument of field.arguments ?? []) {
            if (
              !args.includes(argument) &&
              argument.type.kind === Kind.NON_NULL_TYPE &&
              !argument.defaultValue
            ) {
              throw new Error(
                `contract "${variant.name}": ${coordinate}(${argument.name.value}:) is required but excluded; exclude ${coordinate} too`,
              );
            }
          }
          return [{ ...field, arguments: args }];
        });
        return fields.length > 0 ? [{ ...definition, fields }] : [];
      }
      if (definition.kind === Kind.INPUT_OBJECT_TYPE_DEFINITION) {
        const fields = (definition.fields ?? []).filter((field) => {
          const keep =
            !excluded(`${type}.${field.name.value}`) &&
            !removedTypes.has(namedTypeOf(field.type));
          if (
            !keep &&
            field.type.kind === Kind.NON_NULL_TYPE &&
            !field.defaultValue
          ) {
            throw new Error(
              `contract "${variant.name}": input field ${type}.${field.name.value} is required but excluded; exclude ${type} too`,
            );
          }
          return keep;
        });
        return fields.length > 0 ? [{ ...definition, fields }] : [];
      }
      if (definition.kind === Kind.ENUM_TYPE_DEFINITION) {
        const values = (definition.values ?? []).filter(
          (value) => !excluded(`${type}.${value.name.value}`),
        );
        return values.length > 0 ? [{ ...definition, values }] : [];
      }
      return [definition];
    });

  // Removing a field can empty a type, which removes fields that return it, and so on: iterate.
  let definitions = filter(api.definitions);
  for (;;) {
    const present = new Set(
      definitions.flatMap((definition) =>
        "name" in definition && definition.name ? [definition.name.value] : [],
      ),
    );
    const vanished = api.definitions.flatMap((definition) =>
      "name" in definition &&
      definition.name &&
      !present.has(definition.name.value) &&
      !removedTypes.has(definition.name.value)
        ? [definition.name.value]
        : [],
    );
    if (vanished.length === 0) break;
    for (const name of vanished) removedTypes.add(name);
    definitions = filter(definitions);
  }
  const schema = buildASTSchema({
    kind: Kind.DOCUMENT,
    definitions,
  } as DocumentNode);
  const reachable = reachableTypes(schema);
  const pruned = definitions.filter(
    (definition) =>
      !("name" in definition && definition.name) ||
      reachable.has(definition.name.value) ||
      definition.kind === Kind.DIRECTIVE_DEFINITION,
  );
  return printSchema(
    buildASTSchema({
      kind: Kind.DOCUMENT,
      definitions: pruned,
    } as DocumentNode),
  );
}

/** Printed for reviewers at the top of each variant file. */
export function contractHeader(variant: ContractVariant): string {
  return `# Contract "${variant.name}" (${variant.description}): the API schema without elements tagged ${variant.excludeTags.map((tag) => `"${tag}"`).join(", ")}.\n# Generated by \`npm run compose\` (scripts/contracts.ts); do not edit.\n\n`;
}
