import {
  defaultFieldResolver,
  valueFromASTUntyped,
  type ConstDirectiveNode,
  type GraphQLFieldResolver,
  type GraphQLObjectType,
  type GraphQLSchema,
} from "graphql";
import { codedError } from "./errors.ts";
import type { Principal } from "./principal.ts";

/** What every subgraph context carries: the caller the router vouched for, null when anonymous. */
export interface AuthContext {
  readonly principal: Principal | null;
}

interface Requirement {
  authenticated: boolean;
  /**
   * One entry per `@requiresScopes`; each is a list of alternatives, and the caller needs every
   * scope of at least one alternative (federation semantics: OR of ANDs). All entries must hold.
   */
  scopeSets: string[][][];
}

function requirementOf(directives: readonly ConstDirectiveNode[]): Requirement {
  const requirement: Requirement = { authenticated: false, scopeSets: [] };
  for (const directive of directives) {
    const name = directive.name.value;
    if (name === "authenticated" || name === "federation__authenticated")
      requirement.authenticated = true;
    if (name === "requiresScopes" || name === "federation__requiresScopes") {
      const argument = directive.arguments?.find(
        (arg) => arg.name.value === "scopes",
      );
      const value = argument ? valueFromASTUntyped(argument.value) : [];
      if (!Array.isArray(value)) continue;
      requirement.scopeSets.push(
        value.map((set: unknown) =>
          Array.isArray(set) ? set.map(String) : [String(set)],
        ),
      );
    }
  }
  return requirement;
}

/** Throws UNAUTHENTICATED / FORBIDDEN when `principal` does not meet what the schema declares. */
function check(
  requirements: Requirement[],
  principal: Principal | null,
  coordinate: string,
): void {
  const needsIdentity = requirements.some(
    (req) => req.authenticated || req.scopeSets.length > 0,
  );
  if (!needsIdentity) return;
  if (!principal)
    throw codedError(
      "UNAUTHENTICATED",
      `${coordinate} requires a signed-in user`,
    );
  for (const requirement of requirements) {
    for (const sets of requirement.scopeSets) {
      const granted = sets.some((set) =>
        set.every((scope) => principal.scopes.includes(scope)),
      );
      if (!granted)
        throw codedError(
          "FORBIDDEN",
          `${coordinate} requires scope ${sets.map((set) => set.join("+")).join(" or ")}`,
        );
    }
  }
}

/**
 * Enforces `@authenticated` and `@requiresScopes` (federation 2.5+) in a subgraph schema: every
 * field that carries them, or whose object type carries them, gets its resolver wrapped with the
 * check. The gateway only composes these directives (Apollo Router would enforce them; the JS
 * gateway does not), so without this the declaration would be decoration.
 *
 * Mutates `schema` in place, once, at start-up; requests pay one array scan per guarded field.
 */
/**
 * Apollo's packages load graphql's CommonJS build while our ESM imports may get the .mjs one, so
 * graphql's `instanceof`-based predicates (isObjectType) throw on their schema objects. The type's
 * toStringTag is the same in both builds.
 */
export function isObjectTypeAnyRealm(type: unknown): type is GraphQLObjectType {
  return Object.prototype.toString.call(type) === "[object GraphQLObjectType]";
}

export function enforceAuthDirectives(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectTypeAnyRealm(type) || type.name.startsWith("__")) continue;
    const typeDirectives = [type.astNode, ...type.extensionASTNodes].flatMap(
      (node) => node?.directives ?? [],
    );
    const typeRequirement = requirementOf(typeDirectives);
    for (const field of Object.values(type.getFields())) {
      const fieldRequirement = requirementOf(field.astNode?.directives ?? []);
      const requirements = [typeRequirement, fieldRequirement].filter(
        (req) => req.authenticated || req.scopeSets.length > 0,
      );
      if (requirements.length === 0) continue;
      const resolve: GraphQLFieldResolver<unknown, AuthContext> =
        field.resolve ?? defaultFieldResolver;
      const coordinate = `${type.name}.${field.name}`;
      field.resolve = (source, args, context, info) => {
        check(requirements, context.principal, coordinate);
        return resolve(source, args, context, info);
      };
    }
  }
  return schema;
}

export const isAdmin = (principal: Principal | null): boolean =>
  principal?.role === "ADMIN";

/**
 * Ownership rule shared by orders and payments: a customer sees only what belongs to them, an admin
 * sees everything. Anonymous callers are UNAUTHENTICATED, other customers FORBIDDEN.
 */
export function assertOwnerOrAdmin(
  principal: Principal | null,
  ownerId: string,
  what: string,
): void {
  if (!principal)
    throw codedError("UNAUTHENTICATED", `${what} requires a signed-in user`);
  if (principal.role !== "ADMIN" && principal.id !== ownerId)
    throw codedError("FORBIDDEN", `${what} belongs to another customer`);
}
