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

/** The subscription root field this module serves. */
export const ORDER_UPDATED = "orderUpdated";
/** The variable the per-event query takes the order id in; a subscriber's document may not define it. */
export const ORDER_ID_VARIABLE = "switchyardLiveOrderId";

/**
 * What a subscription asks for, as a query the gateway can plan: for each event the router runs
 * `query($switchyardLiveOrderId: ID!) { order(id: $switchyardLiveOrderId) { <the selection> } }`
 * with the subscriber's own context, so the query planner, the resilient data source, masking,
 * partial results and the orders subgraph's ownership check all apply to every event.
 */
export interface EntityQuery {
  /** The printed query (printed once: Apollo Server caches its parse, validation and plan by text). */
  readonly query: string;
  /** The subscriber's variables that the selection uses (the others would fail validation). */
  readonly variables: Readonly<Record<string, unknown>>;
  /** Where the payload goes in each result: the root field's alias, or `orderUpdated`. */
  readonly responseKey: string;
  /** Top-level keys of `status` in the selection: the event's status wins over a later read. */
  readonly statusKeys: readonly string[];
  /** The order followed, or undefined for every order the subscriber may see. */
  readonly orderId: string | undefined;
}

/**
 * Builds the per-event query from a validated subscription document. Returns coded errors for
 * what validation does not catch: a root selection other than `orderUpdated` itself, an id that is
 * not a string, a document that uses the router's own variable name.
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
    root.name.value !== ORDER_UPDATED
  )
    return badInput(
      ORDER_UPDATED,
      `select ${ORDER_UPDATED} directly as the only root field`,
    );
  if (
    operation.variableDefinitions?.some(
      (definition) => definition.variable.name.value === ORDER_ID_VARIABLE,
    )
  )
    return badInput(
      ORDER_ID_VARIABLE,
      `$${ORDER_ID_VARIABLE} is reserved by the router`,
    );
  const idArgument = root.arguments?.find(
    (argument) => argument.name.value === "id",
  );
  const id = idArgument
    ? idArgument.value.kind === Kind.VARIABLE
      ? variables[idArgument.value.name.value]
      : valueFromASTUntyped(idArgument.value)
    : undefined;
  if (id !== undefined && id !== null && typeof id !== "string")
    return badInput("id", "id must be a string");
  const selectionSet = root.selectionSet;
  if (!selectionSet)
    return badInput(ORDER_UPDATED, "select at least one field of the order");

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

  const orderField: FieldNode = {
    kind: Kind.FIELD,
    name: { kind: Kind.NAME, value: "order" },
    arguments: [
      {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: "id" },
        value: {
          kind: Kind.VARIABLE,
          name: { kind: Kind.NAME, value: ORDER_ID_VARIABLE },
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
              name: { kind: Kind.NAME, value: ORDER_ID_VARIABLE },
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
        selectionSet: { kind: Kind.SELECTION_SET, selections: [orderField] },
      },
      ...used.values(),
    ],
  };
  return {
    query: print(query),
    variables: Object.fromEntries(
      Object.entries(variables).filter(([name]) => variableNames.has(name)),
    ),
    responseKey: root.alias?.value ?? ORDER_UPDATED,
    statusKeys: selectionSet.selections.flatMap((selection) =>
      selection.kind === Kind.FIELD && selection.name.value === "status"
        ? [selection.alias?.value ?? "status"]
        : [],
    ),
    orderId: typeof id === "string" ? id : undefined,
  };
}
