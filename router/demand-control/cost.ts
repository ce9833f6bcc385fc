/**
 * Operation cost by the IBM GraphQL Cost Directive specification (https://ibm.github.io/graphql-specs/cost-spec.html),
 * in Apollo's interpretation (federation 2.9 `@cost` / `@listSize`, imported through
 * `https://specs.apollo.dev/cost/v0.1`). Weights used:
 *
 * - a field whose type is an object, interface or union costs 1; a scalar or enum field costs 0;
 * - `@cost(weight: N)` on a field replaces that default; on a type (object, scalar, enum) it is the
 *   default of every field of that type;
 * - a root mutation field without `@cost` costs 10 (Apollo's interpretation: a mutation does work);
 * - `@cost` on an argument (or an input field) adds its weight when the argument is given;
 * - a list multiplies its element cost (element weight plus its selection) by its size:
 *   `@listSize(slicingArguments)` reads the largest given slicing argument, `assumedSize` otherwise,
 *   else the configured default list size; `sizedFields` moves that size onto the named child fields
 *   (the `edges` of a connection);
 * - a field with a `first` argument and no `@listSize` is read as
 *   `@listSize(slicingArguments: ["first"], sizedFields: <its list fields, or itself>)`: every page
 *   in this API is a `first`, and a page must never look cheaper than the rows it asks for.
 *
 * Slicing arguments are read as execution will see them (the literal, else the variable's coerced
 * value — the request's value, else the variable definition's default — else the field's default).
 * A size the router cannot know (an explicit null, or variables that do not coerce) is the largest
 * page a subgraph serves: reading only `variables[name]` once let `query($f: Int = 1000)
 * { products(first: $f) … }` pass as size 1.
 *
 * Fields are merged by response key as execution merges them (fragments expanded, type conditions
 * ignored: an upper bound for abstract types). Introspection fields (`__schema`, `__type`,
 * `__typename`) cost nothing: Sandbox's introspection query is deep, and it is off in production.
 */
import {
  getArgumentValues,
  Kind,
  parse,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { fieldsOf, namedType, rootTypeOf } from "../operation-limits-plugin.ts";

/** `@listSize` as declared on a field. */
export interface ListSize {
  readonly assumedSize?: number;
  readonly slicingArguments?: readonly string[];
  readonly sizedFields?: readonly string[];
}

/** The `@cost` and `@listSize` applications of a schema, by coordinate. */
export interface CostDirectives {
  /** `Type.field` → weight. */
  readonly fields: ReadonlyMap<string, number>;
  /** `Type` → weight (objects, scalars, enums). */
  readonly types: ReadonlyMap<string, number>;
  /** `Type.field(argument:)` and `Input.field` → weight. */
  readonly arguments: ReadonlyMap<string, number>;
  /** `Type.field` → its `@listSize`. */
  readonly listSizes: ReadonlyMap<string, ListSize>;
}

export const NO_COST_DIRECTIVES: CostDirectives = Object.freeze({
  fields: new Map(),
  types: new Map(),
  arguments: new Map(),
  listSizes: new Map(),
});

export interface CostOptions {
  /** Directives of the schema (readCostDirectives of the supergraph). */
  readonly directives: CostDirectives;
  /** Size of a list with no `@listSize` and no `first`. */
  readonly defaultListSize: number;
  /** Size assumed for a slicing argument whose value cannot be known (the largest page). */
  readonly maxPageSize: number;
}

/** Mutation root fields without `@cost` (Apollo's interpretation of the spec). */
export const MUTATION_WEIGHT = 10;

// The spec's directives; a supergraph may carry them namespaced (`cost__listSize`, `federation__cost`).
const COST_NAMES = new Set(["cost", "cost__cost", "federation__cost"]);
const LIST_SIZE_NAMES = new Set([
  "listSize",
  "cost__listSize",
  "federation__listSize",
]);

function argumentOf(directive: ConstDirectiveNode, name: string): unknown {
  const argument = directive.arguments?.find((arg) => arg.name.value === name);
  return argument ? valueFromASTUntyped(argument.value) : undefined;
}

function weightOf(
  directives: readonly ConstDirectiveNode[] | undefined,
): number | undefined {
  const cost = directives?.find((d) => COST_NAMES.has(d.name.value));
  if (!cost) return undefined;
  const weight = Number(argumentOf(cost, "weight"));
  return Number.isFinite(weight) ? weight : undefined;
}

function listSizeOf(
  directives: readonly ConstDirectiveNode[] | undefined,
): ListSize | undefined {
  const found = directives?.find((d) => LIST_SIZE_NAMES.has(d.name.value));
  if (!found) return undefined;
  const strings = (value: unknown) =>
    Array.isArray(value) ? value.map(String) : undefined;
  const assumed = argumentOf(found, "assumedSize");
  return {
    assumedSize: typeof assumed === "number" ? assumed : undefined,
    slicingArguments: strings(argumentOf(found, "slicingArguments")),
    sizedFields: strings(argumentOf(found, "sizedFields")),
  };
}

/**
 * Reads `@cost` and `@listSize` from schema SDL (the composed supergraph keeps them: the gateway's
 * API schema does not carry directive applications, so the router reads the supergraph text).
 */
export function readCostDirectives(sdl: string | DocumentNode): CostDirectives {
  const document = typeof sdl === "string" ? parse(sdl) : sdl;
  const fields = new Map<string, number>();
  const types = new Map<string, number>();
  const args = new Map<string, number>();
  const listSizes = new Map<string, ListSize>();
  for (const definition of document.definitions) {
    if (!("name" in definition) || !definition.name) continue;
    const typeName = definition.name.value;
    if (
      definition.kind === Kind.DIRECTIVE_DEFINITION ||
      definition.kind === Kind.OPERATION_DEFINITION ||
      definition.kind === Kind.FRAGMENT_DEFINITION
    )
      continue;
    const typeWeight = weightOf(definition.directives);
    if (typeWeight !== undefined) types.set(typeName, typeWeight);
    if (!("fields" in definition) || !definition.fields) continue;
    for (const field of definition.fields) {
      const coordinate = `${typeName}.${field.name.value}`;
      const weight = weightOf(field.directives);
      if (weight !== undefined) {
        // Input fields are weighed like arguments: when they are given.
        if (field.kind === Kind.INPUT_VALUE_DEFINITION)
          args.set(coordinate, weight);
        else fields.set(coordinate, weight);
      }
      if (field.kind !== Kind.FIELD_DEFINITION) continue;
      const listSize = listSizeOf(field.directives);
      if (listSize) listSizes.set(coordinate, listSize);
      for (const argument of field.arguments ?? []) {
        const argumentWeight = weightOf(argument.directives);
        if (argumentWeight !== undefined)
          args.set(`${coordinate}(${argument.name.value}:)`, argumentWeight);
      }
    }
  }
  return { fields, types, arguments: args, listSizes };
}

/** What a cost walk reads besides the selections. */
interface Walk {
  readonly schema: GraphQLSchema;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  /** Coerced variable values (defaults applied), or undefined when they do not coerce. */
  readonly variables: Record<string, unknown> | undefined;
  readonly options: CostOptions;
}

interface Collected {
  readonly parent: GraphQLNamedType | undefined;
  readonly nodes: FieldNode[];
}

/** Fields of a selection set by response key, fragments expanded, as execution merges them. */
function collect(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  walk: Walk,
  into = new Map<string, Collected>(),
): Map<string, Collected> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value.startsWith("__")) continue;
      const key = selection.alias?.value ?? selection.name.value;
      const entry = into.get(key);
      if (entry) entry.nodes.push(selection);
      else into.set(key, { parent, nodes: [selection] });
      continue;
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      const typed = selection.typeCondition
        ? walk.schema.getType(selection.typeCondition.name.value)
        : parent;
      collect(selection.selectionSet, typed ?? parent, walk, into);
      continue;
    }
    const fragment = walk.fragments[selection.name.value];
    if (fragment)
      collect(
        fragment.selectionSet,
        walk.schema.getType(fragment.typeCondition.name.value) ?? parent,
        walk,
        into,
      );
  }
  return into;
}

function mergedSelections(nodes: readonly FieldNode[]): SelectionSetNode {
  return {
    kind: Kind.SELECTION_SET,
    selections: nodes.flatMap((node) => node.selectionSet?.selections ?? []),
  };
}

function isList(type: GraphQLType): boolean {
  // `[X!]!` prints as such: a list once the outer non-null is stripped.
  return String(type).replace(/!$/, "").startsWith("[");
}

function isComposite(type: GraphQLNamedType): boolean {
  return "getFields" in type || "getTypes" in type;
}

/** `@listSize` of a field, or the one a `first` argument implies (see the header). */
function listSizeFor(
  coordinate: string,
  definition: GraphQLField<unknown, unknown>,
  options: CostOptions,
): ListSize | undefined {
  const declared = options.directives.listSizes.get(coordinate);
  if (declared) return declared;
  if (!definition.args.some((arg) => arg.name === "first")) return undefined;
  if (isList(definition.type)) return { slicingArguments: ["first"] };
  const lists = Object.values(fieldsOf(namedType(definition.type)) ?? {})
    .filter((child) => isList(child.type))
    .map((child) => child.name);
  return { slicingArguments: ["first"], sizedFields: lists };
}

/** The size a `@listSize` gives for this use of the field. */
function sizeFrom(
  listSize: ListSize,
  definition: GraphQLField<unknown, unknown>,
  node: FieldNode,
  walk: Walk,
): number {
  const { maxPageSize, defaultListSize } = walk.options;
  const slicing = listSize.slicingArguments ?? [];
  if (slicing.length > 0) {
    if (!walk.variables) return maxPageSize;
    let values: Record<string, unknown>;
    try {
      values = getArgumentValues(definition, node, walk.variables);
    } catch {
      // An argument that does not coerce fails execution anyway; until then it is of unknown size.
      return maxPageSize;
    }
    let size: number | undefined;
    for (const name of slicing) {
      if (!(name in values)) continue;
      const value = values[name];
      if (typeof value !== "number" || !Number.isFinite(value))
        return maxPageSize;
      size = Math.max(size ?? 0, value > 0 ? value : 1);
    }
    if (size !== undefined) return size;
  }
  return listSize.assumedSize ?? defaultListSize;
}

/** Weight of the given arguments that carry `@cost`. */
function argumentsCost(
  coordinate: string,
  node: FieldNode,
  walk: Walk,
): number {
  const weights = walk.options.directives.arguments;
  if (weights.size === 0) return 0;
  let cost = 0;
  for (const argument of node.arguments ?? []) {
    const weight = weights.get(`${coordinate}(${argument.name.value}:)`);
    if (weight === undefined) continue;
    if (
      argument.value.kind === Kind.VARIABLE &&
      walk.variables?.[argument.value.name.value] == null
    )
      continue;
    if (argument.value.kind === Kind.NULL) continue;
    cost += weight;
  }
  return cost;
}

interface FieldCost {
  readonly definition: GraphQLField<unknown, unknown>;
  readonly coordinate: string;
  /** The field's own weight (counted once per resolved value of the field). */
  readonly weight: number;
  readonly arguments: number;
  readonly type: GraphQLNamedType;
  readonly list: boolean;
  readonly listSize: ListSize | undefined;
}

function fieldCost(
  parent: GraphQLNamedType | undefined,
  node: FieldNode,
  walk: Walk,
  mutationRoot: boolean,
): FieldCost | undefined {
  const definition = fieldsOf(parent)?.[node.name.value];
  if (!parent || !definition) return undefined;
  const { directives } = walk.options;
  const coordinate = `${parent.name}.${definition.name}`;
  const type = namedType(definition.type);
  const weight =
    directives.fields.get(coordinate) ??
    (mutationRoot ? MUTATION_WEIGHT : undefined) ??
    directives.types.get(type.name) ??
    (isComposite(type) ? 1 : 0);
  return {
    definition,
    coordinate,
    weight,
    arguments: argumentsCost(coordinate, node, walk),
    type,
    list: isList(definition.type),
    listSize: listSizeFor(coordinate, definition, walk.options),
  };
}

/**
 * The fields of a selection set merged by response key, each with its cost; a field the schema
 * does not know (nothing to cost) is left out.
 */
function* costedFields(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  walk: Walk,
  mutationRoot: boolean,
): Generator<{
  key: string;
  node: FieldNode;
  nodes: FieldNode[];
  field: FieldCost;
}> {
  for (const [key, { parent: owner, nodes }] of collect(
    selectionSet,
    parent,
    walk,
  )) {
    const node = nodes[0]!;
    const field = fieldCost(owner, node, walk, mutationRoot);
    if (field) yield { key, node, nodes, field };
  }
}

function estimateSelectionSet(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  walk: Walk,
  sized: { fields: readonly string[]; size: number } | undefined,
  mutationRoot: boolean,
): number {
  let total = 0;
  for (const { node, nodes, field } of costedFields(
    selectionSet,
    parent,
    walk,
    mutationRoot,
  )) {
    let size = 1;
    let childSized: typeof sized;
    if (sized?.fields.includes(field.definition.name)) size = sized.size;
    else if (field.listSize) {
      const computed = sizeFrom(field.listSize, field.definition, node, walk);
      if (field.listSize.sizedFields && !field.list)
        childSized = { fields: field.listSize.sizedFields, size: computed };
      else size = computed;
    } else if (field.list) size = walk.options.defaultListSize;
    const children = node.selectionSet
      ? estimateSelectionSet(
          mergedSelections(nodes),
          field.type,
          walk,
          childSized,
          false,
        )
      : 0;
    total += size * (field.weight + children) + field.arguments;
  }
  return total;
}

export function fragmentsOf(
  document: DocumentNode,
): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments[definition.name.value] = definition;
  return fragments;
}

/** One operation to cost. */
export interface CostInput {
  readonly schema: GraphQLSchema;
  readonly operation: OperationDefinitionNode;
  readonly fragments: Record<string, FragmentDefinitionNode>;
  /** Coerced variables (coercedVariables), undefined when they do not coerce. */
  readonly variables: Record<string, unknown> | undefined;
  readonly options: CostOptions;
}

/** The operation's estimated cost, before execution. */
export function estimateCost({
  schema,
  operation,
  fragments,
  variables,
  options,
}: CostInput): number {
  const walk = { schema, fragments, variables, options };
  return estimateSelectionSet(
    operation.selectionSet,
    rootTypeOf(schema, operation),
    walk,
    undefined,
    operation.operation === "mutation",
  );
}

/**
 * One selection set's fields as the actual cost reads them, worked out once per walk: a list of
 * 1,000 objects is costed against one collected selection, not 1,000 collections of it.
 */
interface ActualField {
  readonly key: string;
  readonly weight: number;
  readonly arguments: number;
  /** The merged sub-selection and its type, costed on first use (undefined for a leaf). */
  readonly selection:
    | { readonly set: SelectionSetNode; readonly type: GraphQLNamedType }
    | undefined;
  child?: ActualField[];
}

function actualFields(
  selectionSet: SelectionSetNode,
  parent: GraphQLNamedType | undefined,
  walk: Walk,
  mutationRoot: boolean,
): ActualField[] {
  const fields: ActualField[] = [];
  for (const { key, node, nodes, field } of costedFields(
    selectionSet,
    parent,
    walk,
    mutationRoot,
  )) {
    fields.push({
      key,
      weight: field.weight,
      arguments: field.arguments,
      selection: node.selectionSet
        ? { set: mergedSelections(nodes), type: field.type }
        : undefined,
    });
  }
  return fields;
}

function actualSelectionSet(
  fields: ActualField[],
  data: unknown,
  walk: Walk,
): number {
  if (data === null || typeof data !== "object") return 0;
  if (Array.isArray(data)) {
    let sum = 0;
    for (const item of data) sum += actualSelectionSet(fields, item, walk);
    return sum;
  }
  const values = data as Record<string, unknown>;
  let total = 0;
  for (const field of fields) {
    if (!(field.key in values)) continue;
    const value = values[field.key];
    // A list costs its element weight per element it actually returned.
    const count = Array.isArray(value) ? value.length : 1;
    total += count * field.weight + field.arguments;
    if (field.selection && value !== null) {
      field.child ??= actualFields(
        field.selection.set,
        field.selection.type,
        walk,
        false,
      );
      total += actualSelectionSet(field.child, value, walk);
    }
  }
  return total;
}

/** The cost of what the response actually holds (lists by their real length), after execution. */
export function actualCost({
  schema,
  operation,
  fragments,
  variables,
  options,
  data,
}: CostInput & { readonly data: unknown }): number {
  const walk = { schema, fragments, variables, options };
  const root = rootTypeOf(schema, operation);
  const mutation = operation.operation === "mutation";
  // The root is one object; were it a list, its elements would be costed as fields below the root.
  return actualSelectionSet(
    actualFields(
      operation.selectionSet,
      root,
      walk,
      mutation && !Array.isArray(data),
    ),
    data,
    walk,
  );
}
