import type { FetchDataRewrite } from "@apollo/query-planner";
import { isAbstractType, isInterfaceType, isObjectType } from "graphql";
import type { GraphQLSchema } from "graphql";
import { own } from "./shaper.ts";

/**
 * Data rewrites of a fetch (inputRewrites on representations, outputRewrites on what comes back) and
 * the type test both they and representation building use: @apollo/gateway 2.14.4
 * dist/dataRewrites.js, same semantics, with the type test memoised per schema.
 */

type Json = Record<string, unknown>;

const FRAGMENT_PREFIX = "... on ";

const subtypeMemo = new WeakMap<GraphQLSchema, Map<string, boolean>>();

/** Is `value` (by its `__typename`) of type `typeCondition`, or a subtype of it? */
export function isObjectOfType(
  schema: GraphQLSchema,
  value: Json,
  typeCondition: string,
  defaultOnUnknownObjectType = false,
): boolean {
  const typename = own(value, "__typename");
  if (!typename || typeof typename !== "string")
    return defaultOnUnknownObjectType;
  if (typeCondition === typename) return true;
  let memo = subtypeMemo.get(schema);
  if (!memo) {
    memo = new Map();
    subtypeMemo.set(schema, memo);
  }
  const key = `${typename}\u0000${typeCondition}`;
  let result = memo.get(key);
  if (result === undefined) {
    const type = schema.getType(typename);
    const condition = schema.getType(typeCondition);
    result =
      !!type &&
      !!condition &&
      isAbstractType(condition) &&
      (isObjectType(type) || isInterfaceType(type)) &&
      schema.isSubType(condition, type);
    memo.set(key, result);
  }
  return result;
}

export function applyRewrites(
  schema: GraphQLSchema,
  rewrites: readonly FetchDataRewrite[] | undefined,
  value: unknown,
): void {
  if (!rewrites) return;
  for (const rewrite of rewrites) {
    const last = rewrite.path[rewrite.path.length - 1];
    if (last === undefined) continue;
    if (last.startsWith(FRAGMENT_PREFIX))
      throw new Error(
        `Unexpected fragment as last element of ${rewrite.path.join(",")}`,
      );
    const apply =
      rewrite.kind === "ValueSetter"
        ? (object: Json) => {
            defineOwn(object, last);
            object[last] = rewrite.setValueTo as unknown;
          }
        : (object: Json) => {
            const atPath = own(object, last);
            if (atPath) {
              defineOwn(object, rewrite.renameKeyTo);
              object[rewrite.renameKeyTo] = atPath;
              object[last] = undefined;
            }
          };
    applyAtPath(schema, rewrite.path, 0, rewrite.path.length - 1, value, apply);
  }
}

function applyAtPath(
  schema: GraphQLSchema,
  path: readonly string[],
  index: number,
  end: number,
  value: unknown,
  apply: (object: Json) => void,
): void {
  if (Array.isArray(value)) {
    for (const element of value)
      applyAtPath(schema, path, index, end, element, apply);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  const object = value as Json;
  if (index === end) {
    apply(object);
    return;
  }
  const element = path[index]!;
  if (element.startsWith(FRAGMENT_PREFIX)) {
    if (
      isObjectOfType(
        schema,
        object,
        element.slice(FRAGMENT_PREFIX.length),
        true,
      )
    )
      applyAtPath(schema, path, index + 1, end, object, apply);
  } else applyAtPath(schema, path, index + 1, end, own(object, element), apply);
}

/** Makes `key` an own data property so that assigning it never reaches a prototype (`__proto__`). */
export function defineOwn(object: Json, key: string): void {
  if (!Object.prototype.hasOwnProperty.call(object, key))
    Object.defineProperty(object, key, {
      value: undefined,
      writable: true,
      enumerable: true,
      configurable: true,
    });
}
