import {
  getArgumentValues,
  type FieldNode,
  type GraphQLField,
  type GraphQLType,
} from "graphql";

/**
 * Credential mutations: the ones a password guesser or an account factory calls. They are found in
 * the schema rather than listed, so a mutation added later (a password change, a reset) is covered
 * the day it ships: a mutation is one when it takes a `password` anywhere in its arguments (input
 * objects and lists included) or returns a `token` field (it signs someone in). Today: `logIn` and
 * `signUp`.
 */
const verdicts = new WeakMap<GraphQLField<unknown, unknown>, boolean>();

// Structural on purpose (no instanceof helpers): see the note in operation-limits-plugin.ts.
function unwrap(type: GraphQLType): GraphQLType {
  let current = type;
  while ("ofType" in current && current.ofType) current = current.ofType;
  return current;
}

function inputFieldsOf(
  type: GraphQLType,
): ReadonlyArray<{ name: string; type: GraphQLType }> {
  const named = unwrap(type);
  // An input object type has fields but no interfaces (output object types have both).
  return "getFields" in named && !("getInterfaces" in named)
    ? Object.values(
        named.getFields() as Record<
          string,
          { name: string; type: GraphQLType }
        >,
      )
    : [];
}

function takesPassword(
  args: ReadonlyArray<{ name: string; type: GraphQLType }>,
  seen: Set<GraphQLType>,
): boolean {
  for (const arg of args) {
    if (/password/i.test(arg.name)) return true;
    const named = unwrap(arg.type);
    if (seen.has(named)) continue;
    seen.add(named);
    if (takesPassword(inputFieldsOf(named), seen)) return true;
  }
  return false;
}

function returnsToken(field: GraphQLField<unknown, unknown>): boolean {
  const named = unwrap(field.type);
  return (
    "getFields" in named &&
    "getInterfaces" in named &&
    "token" in (named.getFields() as Record<string, unknown>)
  );
}

export function isCredentialMutation(
  field: GraphQLField<unknown, unknown>,
): boolean {
  let verdict = verdicts.get(field);
  if (verdict === undefined) {
    verdict = takesPassword(field.args, new Set()) || returnsToken(field);
    verdicts.set(field, verdict);
  }
  return verdict;
}

/**
 * The account a credential call aims at: its top-level `email` argument (logIn's), normalised as the
 * users service compares emails, or undefined when there is none or it cannot be read (arguments
 * that do not coerce fail execution anyway).
 */
export function credentialTarget(
  field: GraphQLField<unknown, unknown>,
  node: FieldNode,
  variables: Record<string, unknown> | undefined,
): string | undefined {
  if (!variables || !field.args.some((arg) => arg.name === "email"))
    return undefined;
  try {
    const email = getArgumentValues(field, node, variables).email;
    return typeof email === "string" ? email.trim().toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}
