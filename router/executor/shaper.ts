import {
  ERRORS,
  isCompositeType,
  isCustomScalarType,
  isEnumType,
  isObjectType,
  isSubtype,
  isVariable,
  typenameFieldName,
  type CompositeType,
  type Operation,
  type Schema,
  type SelectionSet,
  type Type,
} from "@apollo/federation-internals";
import type { GraphQLError } from "graphql";

/**
 * The response shaper of one operation, compiled once and cached beside its query plan
 * (router/executor/plan-cache.ts): it turns the data merged from the subgraphs (extra fields the plan
 * fetched for keys and requires, no order) into the response the client asked for — aliases,
 * `@skip`/`@include`, fragments on abstract types, `__typename`, leaf validation and null bubbling
 * through non-null fields.
 *
 * It reproduces `computeResponse` of @apollo/gateway 2.14.4 (dist/resultShaping.js) case for case,
 * messages included: the gateway walks the federation `Operation` objects on every request (directive
 * lookups, type lookups, one result object per value); this walks plain compiled records, and the
 * only per-request work is the data itself. Where the gateway asserts, this throws an Error with the
 * gateway's message, which the executor turns into the same error response.
 */

/** A `@skip`/`@include` argument: a constant, or the variable holding it. */
type IfArgument = boolean | string;

interface Conditions {
  readonly skip: IfArgument | undefined;
  readonly include: IfArgument | undefined;
}

interface FieldStep extends Conditions {
  readonly kind: "field";
  readonly responseName: string;
  readonly type: Shape;
  /** The field's selection set exists (a composite field): what the gateway's `!selectionSet` tests. */
  readonly hasSelections: boolean;
}

interface TypenameStep extends Conditions {
  readonly kind: "typename";
  readonly responseName: string;
}

interface FragmentStep extends Conditions {
  readonly kind: "fragment";
  readonly typeCondition: CompositeType | undefined;
  /** Type name → does the condition apply to it (isSubtype), filled as types are met. */
  readonly applies: Map<string, boolean>;
  readonly steps: readonly Step[];
}

type Step = FieldStep | TypenameStep | FragmentStep;

/** A field's type, unwrapped once at compile time; `text` is the type as GraphQL prints it. */
type Shape =
  | { readonly kind: "nonNull"; readonly of: Shape; readonly text: string }
  | { readonly kind: "list"; readonly of: Shape; readonly text: string }
  | {
      readonly kind: "composite";
      readonly name: string;
      readonly steps: readonly Step[];
      readonly text: string;
    }
  | {
      readonly kind: "leaf";
      readonly valid: (value: unknown) => boolean;
      readonly text: string;
    };

export interface ShapedResponse {
  readonly data: Record<string, unknown> | null;
  /** Value-completion errors (the gateway reports them in `extensions.valueCompletion`). */
  readonly errors: GraphQLError[];
}

export interface ResponseShaper {
  shape(
    input: Record<string, unknown>,
    variables: Readonly<Record<string, unknown>> | undefined,
  ): ShapedResponse;
}

/** Why an operation is left to the gateway's executor, found while compiling; undefined: ours runs it. */
export type Unsupported = "introspection" | "unsafe-response-name";

const integerText = /^-?(?:0|[1-9][0-9]*)$/;

/** isValidLeafValue of @apollo/federation-internals, decided once per type instead of per value. */
function leafValidator(
  schema: Schema,
  type: Type,
): (value: unknown) => boolean {
  if (isCustomScalarType(type)) return () => true;
  if (isEnumType(type)) {
    const values = new Set(type.values.map((value) => value.name));
    return (value) => typeof value === "string" && values.has(value);
  }
  const boolean = type === schema.booleanType();
  const int = type === schema.intType() || type === schema.idType();
  const float = type === schema.floatType();
  const stringLike = !boolean && type !== schema.intType() && !float;
  return (value) => {
    switch (typeof value) {
      case "boolean":
        return boolean;
      case "number":
        if (!Number.isFinite(value)) return false;
        return int ? integerText.test(String(value)) : float;
      case "string":
        return stringLike;
      default:
        return false;
    }
  };
}

function ifArgument(
  element: { appliedDirectivesOf(name: string): readonly DirectiveLike[] },
  name: "skip" | "include",
): IfArgument | undefined {
  const directive = element.appliedDirectivesOf(name)[0];
  if (!directive) return undefined;
  const value = directive.arguments().if;
  if (isVariable(value)) return value.name;
  return value === true;
}

interface DirectiveLike {
  arguments(): { readonly if?: unknown };
}

/**
 * Compiles the shaper of `operation` (built by `operationFromDocument` on the API schema).
 * Returns the reason instead when the operation needs what only the gateway's executor does.
 */
export function compileShaper(
  operation: Operation,
): ResponseShaper | Unsupported {
  const schema = operation.schema();
  const rootType = schema.schemaDefinition.rootType(operation.rootKind);
  if (!rootType) throw new Error(`no ${operation.rootKind} root type`);
  let unsupported: Unsupported | undefined;

  function shapeOf(type: Type, selections: SelectionSet | undefined): Shape {
    switch (type.kind) {
      case "NonNullType":
        return {
          kind: "nonNull",
          of: shapeOf(type.ofType, selections),
          text: type.toString(),
        };
      case "ListType":
        return {
          kind: "list",
          of: shapeOf(type.ofType, selections),
          text: type.toString(),
        };
      case "ObjectType":
      case "InterfaceType":
      case "UnionType":
        if (!selections)
          throw new Error(
            `Invalid empty selection set for composite type ${type.name}`,
          );
        return {
          kind: "composite",
          name: type.name,
          steps: stepsOf(selections),
          text: type.name,
        };
      case "ScalarType":
      case "EnumType":
        return {
          kind: "leaf",
          valid: leafValidator(schema, type),
          text: type.name,
        };
      default:
        throw new Error(`unexpected output type ${type.toString()}`);
    }
  }

  function stepsOf(selectionSet: SelectionSet): Step[] {
    const steps: Step[] = [];
    for (const selection of selectionSet.selections()) {
      const element = selection.element;
      const conditions = {
        skip: ifArgument(element, "skip"),
        include: ifArgument(element, "include"),
      };
      if (selection.kind === "FieldSelection") {
        const field = selection.element;
        const responseName = field.responseName();
        // A response named __proto__ cannot be written as a plain property; rare enough to leave.
        if (responseName === "__proto__") unsupported = "unsafe-response-name";
        if (field.definition.isSchemaIntrospectionField()) {
          unsupported = "introspection";
          continue;
        }
        if (field.name === typenameFieldName) {
          steps.push({ kind: "typename", responseName, ...conditions });
          continue;
        }
        steps.push({
          kind: "field",
          responseName,
          type: shapeOf(field.definition.type!, selection.selectionSet),
          hasSelections: selection.selectionSet !== undefined,
          ...conditions,
        });
      } else {
        steps.push({
          kind: "fragment",
          typeCondition: selection.element.typeCondition,
          applies: new Map(),
          steps: stepsOf(selection.selectionSet),
          ...conditions,
        });
      }
    }
    return steps;
  }

  const steps = stepsOf(operation.selectionSet);
  if (unsupported) return unsupported;
  const defaults: Record<string, unknown> =
    operation.collectDefaultedVariableValues();
  const rootName = rootType.name;
  /** Type name → schema type, shared by every request of this operation. */
  const types = new Map<string, ReturnType<Schema["type"]>>();
  const typeNamed = (name: string) => {
    let type = types.get(name);
    if (type === undefined && !types.has(name)) {
      type = schema.type(name);
      types.set(name, type);
    }
    return type;
  };

  return {
    shape(input, variables) {
      const run = new ShapingRun(
        variables ? { ...defaults, ...variables } : defaults,
        typeNamed,
      );
      const data: Record<string, unknown> = {};
      const bubbled = run.applySteps(input, steps, data, [], rootName);
      return { data: bubbled ? null : data, errors: run.errors };
    },
  };
}

function pathLastElementDescription(
  path: readonly (string | number)[],
  currentType: string,
  parentType: string,
): string {
  const element = path[path.length - 1];
  return typeof element === "string"
    ? `field ${parentType}.${element}`
    : `array element of type ${currentType} at index ${element}`;
}

/** One shaping pass: its variables, its errors and the flags the gateway returns as objects. */
class ShapingRun {
  readonly errors: GraphQLError[] = [];
  /** Set by `update`: the value is null where null is not allowed (bubble to the parent). */
  private invalid = false;
  /** Set by `update`: an error was already recorded below (only one per bubbling chain). */
  private hasErrors = false;

  constructor(
    private readonly variables: Readonly<Record<string, unknown>>,
    private readonly typeNamed: (
      name: string,
    ) => ReturnType<Schema["type"]> | undefined,
  ) {}

  private ifValue(argument: IfArgument): boolean {
    if (typeof argument === "boolean") return argument;
    const value = this.variables[argument];
    if (typeof value !== "boolean")
      throw new Error(
        `Unexpected value ${String(value)} for variable $${argument} of @skip/@include`,
      );
    return value;
  }

  private skipped(step: Conditions): boolean {
    return (
      (step.skip !== undefined && this.ifValue(step.skip)) ||
      (step.include !== undefined && !this.ifValue(step.include))
    );
  }

  private applies(step: FragmentStep, typename: string): boolean {
    let applies = step.applies.get(typename);
    if (applies === undefined) {
      const type = this.typeNamed(typename);
      applies =
        step.typeCondition === undefined ||
        (type !== undefined && isSubtype(step.typeCondition, type));
      step.applies.set(typename, applies);
    }
    return applies;
  }

  /** applySelectionSet: true when the object must become null (NULL_BUBBLE_UP). */
  applySteps(
    input: Record<string, unknown>,
    steps: readonly Step[],
    output: Record<string, unknown>,
    path: (string | number)[],
    parentType: string,
  ): boolean {
    for (const step of steps) {
      if (
        (step.skip !== undefined || step.include !== undefined) &&
        this.skipped(step)
      )
        continue;
      if (step.kind === "field") {
        const { responseName } = step;
        path.push(responseName);
        const updated = this.update(
          output[responseName],
          step.type,
          own(input, responseName) ?? null,
          step.hasSelections,
          path,
          parentType,
        );
        output[responseName] = updated;
        path.pop();
        if (this.invalid) return true;
      } else if (step.kind === "typename") {
        const { responseName } = step;
        if (output[responseName] !== undefined) continue;
        let value = own(input, responseName) ?? null;
        if (value === null && responseName !== typenameFieldName)
          value = own(input, typenameFieldName) ?? null;
        const type =
          (typeof value === "string" ? this.typeNamed(value) : undefined) ??
          this.typeNamed(parentType);
        if (!type || !isObjectType(type)) return true;
        output[responseName] = type.name;
      } else {
        const typename = own(input, typenameFieldName);
        if (typename !== undefined && typeof typename !== "string")
          throw new Error(
            `Got unexpected value for __typename: ${String(typename)}`,
          );
        const applies =
          step.typeCondition === undefined ||
          (typename
            ? this.applies(step, typename)
            : this.applies(step, parentType));
        if (
          applies &&
          this.applySteps(
            input,
            step.steps,
            output,
            path,
            step.typeCondition?.name ?? parentType,
          )
        )
          return true;
      }
    }
    return false;
  }

  /** updateOutputValue: returns the value, leaves `invalid`/`hasErrors` set for the caller. */
  private update(
    outputValue: unknown,
    shape: Shape,
    inputValue: unknown,
    hasSelections: boolean,
    path: (string | number)[],
    parentType: string,
  ): unknown {
    this.invalid = false;
    this.hasErrors = false;
    if (outputValue === null || (outputValue !== undefined && !hasSelections))
      return outputValue;
    switch (shape.kind) {
      case "nonNull": {
        const updated = this.update(
          outputValue,
          shape.of,
          inputValue,
          hasSelections,
          path,
          parentType,
        );
        if (updated === null) {
          if (!this.hasErrors)
            this.errors.push(
              ERRORS.INVALID_GRAPHQL.err(
                `Cannot return null for non-nullable ${pathLastElementDescription(path, shape.of.text, parentType)}.`,
                { path: [...path] },
              ),
            );
          this.invalid = true;
          this.hasErrors = true;
          return null;
        }
        this.invalid = false;
        this.hasErrors = false;
        return updated;
      }
      case "list": {
        if (inputValue === null) return null;
        if (!Array.isArray(inputValue))
          throw new Error(
            `Invalid non-list value ${String(inputValue)} returned by subgraph for list type ${shape.text}`,
          );
        if (outputValue !== undefined && !Array.isArray(outputValue))
          throw new Error(
            `Invalid non-list value ${String(outputValue)} returned by subgraph for list type ${shape.text}`,
          );
        const outputs = outputValue as unknown[] | undefined;
        if (outputs && outputs.length !== inputValue.length)
          throw new Error(
            `[${String(inputValue)}].length (${inputValue.length}) !== [${String(outputs)}].length (${outputs.length})`,
          );
        let nullify = false;
        let hasErrors = false;
        const updated = new Array<unknown>(inputValue.length);
        for (let index = 0; index < inputValue.length; index++) {
          path.push(index);
          updated[index] = this.update(
            outputs?.[index],
            shape.of,
            inputValue[index],
            hasSelections,
            path,
            parentType,
          );
          path.pop();
          nullify ||= this.invalid;
          hasErrors ||= this.hasErrors;
        }
        this.invalid = false;
        this.hasErrors = hasErrors;
        return nullify ? null : updated;
      }
      case "composite": {
        if (inputValue === null) return null;
        if (typeof inputValue !== "object")
          throw new Error(
            `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${shape.text}`,
          );
        if (outputValue !== undefined && typeof outputValue !== "object")
          throw new Error(
            `Invalid non-object value ${String(inputValue)} returned by subgraph for composite type ${shape.text}`,
          );
        const input = inputValue as Record<string, unknown>;
        const typename = own(input, typenameFieldName);
        if (typename !== undefined && typeof typename !== "string")
          throw new Error(
            `Invalid non-string value ${String(typename)} for __typename at ${path.join(",")}`,
          );
        let objectType = shape.name;
        if (typename) {
          const type = this.typeNamed(typename);
          if (!type || !isCompositeType(type)) {
            this.errors.push(
              ERRORS.INVALID_GRAPHQL.err(
                `Invalid __typename found for object at ${pathLastElementDescription(path, shape.text, parentType)}.`,
                { path: [...path] },
              ),
            );
            this.invalid = false;
            this.hasErrors = true;
            return null;
          }
          objectType = type.name;
        }
        const output =
          (outputValue as Record<string, unknown> | undefined) ?? {};
        const bubbled = this.applySteps(
          input,
          shape.steps,
          output,
          path,
          objectType,
        );
        this.invalid = false;
        this.hasErrors = bubbled;
        return bubbled ? null : output;
      }
      case "leaf": {
        if (inputValue === null) return null;
        if (outputValue !== undefined)
          throw new Error(
            `Excepted output to be undefined but got ${shape.text} for type ${shape.text}`,
          );
        if (shape.valid(inputValue)) return inputValue;
        this.errors.push(
          ERRORS.INVALID_GRAPHQL.err(
            `Invalid value found for ${pathLastElementDescription(path, shape.text, parentType)}.`,
            { path: [...path] },
          ),
        );
        this.hasErrors = true;
        return null;
      }
      default:
        return unreachable(shape);
    }
  }
}

/**
 * An own property of merged data. Data comes from JSON.parse (plain objects), whose only non-own
 * names are Object.prototype's: all functions (JSON has none) but `__proto__`, which no compiled
 * shaper reads (such an operation goes to the gateway's executor).
 */
export function own(value: Record<string, unknown>, key: string): unknown {
  const found = value[key];
  return typeof found === "function" ? undefined : found;
}

function unreachable(value: never): never {
  throw new Error(`unexpected ${JSON.stringify(value)}`);
}
