import {
  getOperationAST,
  Kind,
  OperationTypeNode,
  print,
  valueFromASTUntyped,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLError,
  type SelectionSetNode,
} from "graphql";
import { badInput, codedError } from "../../platform/errors.ts";
import type { LiveKind } from "./fan-out.ts";

/** The subscription root fields this module serves. */
export const ORDER_UPDATED = "orderUpdated";
export const MY_NOTIFICATIONS = "myNotifications";
/** The variable the per-event query takes the entity id in; a subscriber's document may not define it. */
export const LIVE_ID_VARIABLE = "switchyardLiveId";

/**
 * How each subscription field is served: which changes feed it (router/live/fan-out.ts), the query
 * field that reads the entity back by id, and the argument (if any) that narrows it to one entity.
 * Adding a live field is a row here, a change kind in the fan-out, and its feed.
 */
export const LIVE_FIELDS = {
  [ORDER_UPDATED]: { kind: "order", lookup: "order", filter: "id" },
  [MY_NOTIFICATIONS]: {
    kind: "notification",
    lookup: "notification",
    filter: undefined,
  },
} as const satisfies Record<
  string,
  { kind: LiveKind; lookup: string; filter: string | undefined }
>;
export type LiveField = keyof typeof LIVE_FIELDS;

const isLiveField = (name: string): name is LiveField => name in LIVE_FIELDS;

/**
 * What a subscription asks for, as a query the gateway can plan: for each event the router runs
 * `query($switchyardLiveId: ID!) { <lookup>(id: $switchyardLiveId) { <the selection> } }` (`order`
 * for orderUpdated, `notification` for myNotifications) with the subscriber's own context, so the
 * query planner, the resilient data source, masking, partial results and the owning subgraph's
 * ownership check all apply to every event.
 */
export interface EntityQuery {
  /** The subscription root field (orderUpdated, myNotifications). */
  readonly field: LiveField;
  /** The changes that feed it. */
  readonly kind: LiveKind;
  /** The query field the entity is read back with (`order`, `notification`). */
  readonly lookup: string;
  /** The printed query (printed once: Apollo Server caches its parse, validation and plan by text). */
  readonly query: string;
  /** The subscriber's variables that the selection uses (the others would fail validation). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** Where the payload goes in each result: the root field's alias, or the field's name. */
  readonly responseKey: string;
  /**
   * Top-level keys of `status` in an orderUpdated selection: the event's status wins over a later
   * read. Empty for other fields.
   */
  readonly statusKeys: readonly string[];
  /** The entity followed (an order), or undefined for every one the subscriber may see. */
  readonly entityId: string | undefined;
}

/**
 * Builds the per-event query from a validated subscription document. Returns coded errors for
 * what validation does not catch: a root selection other than one live field itself, an id that
 * is not a string, a document that uses the router's own variable name.
 */
export function entityQueryFor(
  document: DocumentNode,
  operationName: string | undefined,
  variables: Readonly<Record<string, unknown>>,
): EntityQuery | GraphQLError {
  const operation = getOperationAST(document, operationName);
  if (!operation || operation.operation !== OperationTypeNode.SUBSCRIPTION)
    return codedError(
      "OPERATION_RESOLUTION_FAILURE",
      "no subscription operation by that name",
    );
  const [root, ...rest] = operation.selectionSet.selections;
  if (
    !root ||
    rest.length > 0 ||
    root.kind !== Kind.FIELD ||
    !isLiveField(root.name.value)
  )
    return badInput(
      "subscription",
      `select one of ${Object.keys(LIVE_FIELDS).join(", ")} directly as the only root field`,
    );
  const field = root.name.value;
  const { kind, lookup, filter } = LIVE_FIELDS[field];
  if (
    operation.variableDefinitions?.some(
      (definition) => definition.variable.name.value === LIVE_ID_VARIABLE,
    )
  )
    return badInput(
      LIVE_ID_VARIABLE,
      `$${LIVE_ID_VARIABLE} is reserved by the router`,
    );
  const idArgument =
    filter === undefined
      ? undefined
      : root.arguments?.find((argument) => argument.name.value === filter);
  const id = idArgument
    ? idArgument.value.kind === Kind.VARIABLE
      ? variables[idArgument.value.name.value]
      : valueFromASTUntyped(idArgument.value)
    : undefined;
  if (id !== undefined && id !== null && typeof id !== "string")
    return badInput("id", "id must be a string");
  const selectionSet = root.selectionSet;
  if (!selectionSet)
    return badInput(field, `select at least one field of the ${lookup}`);

  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions)
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  // Only what the selection reaches: an unused fragment or variable fails validation.
  const used = new Map<string, FragmentDefinitionNode>();
  const reach = (set: SelectionSetNode) =>
    visit(set, {
      FragmentSpread(spread) {
        const name = spread.name.value;
        const fragment = fragments.get(name);
        if (!fragment || used.has(name)) return;
        used.set(name, fragment);
        reach(fragment.selectionSet);
      },
    });
  reach(selectionSet);
  const variableNames = new Set<string>();
  for (const node of [selectionSet, ...used.values()])
    visit(node, {
      Variable(variable) {
        variableNames.add(variable.name.value);
      },
    });

  const lookupField: FieldNode = {
    kind: Kind.FIELD,
    name: { kind: Kind.NAME, value: lookup },
    arguments: [
      {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: "id" },
        value: {
          kind: Kind.VARIABLE,
          name: { kind: Kind.NAME, value: LIVE_ID_VARIABLE },
        },
      },
    ],
    selectionSet,
  };
  const query: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: OperationTypeNode.QUERY,
        name: {
          kind: Kind.NAME,
          value: `${operation.name?.value ?? "Live"}Event`,
        },
        variableDefinitions: [
          {
            kind: Kind.VARIABLE_DEFINITION,
            variable: {
              kind: Kind.VARIABLE,
              name: { kind: Kind.NAME, value: LIVE_ID_VARIABLE },
            },
            type: {
              kind: Kind.NON_NULL_TYPE,
              type: {
                kind: Kind.NAMED_TYPE,
                name: { kind: Kind.NAME, value: "ID" },
              },
            },
          },
          ...(operation.variableDefinitions ?? []).filter((definition) =>
            variableNames.has(definition.variable.name.value),
          ),
        ],
        selectionSet: { kind: Kind.SELECTION_SET, selections: [lookupField] },
      },
      ...used.values(),
    ],
  };
  return {
    field,
    kind,
    lookup,
    query: print(query),
    variables: Object.fromEntries(
      Object.entries(variables).filter(([name]) => variableNames.has(name)),
    ),
    responseKey: root.alias?.value ?? field,
    statusKeys:
      field === ORDER_UPDATED
        ? selectionSet.selections.flatMap((selection) =>
            selection.kind === Kind.FIELD && selection.name.value === "status"
              ? [selection.alias?.value ?? "status"]
              : [],
          )
        : [],
    entityId: typeof id === "string" ? id : undefined,
  };
}
