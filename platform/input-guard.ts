import type { ApolloServerPlugin, BaseContext } from "@apollo/server";
import { BREAK, Kind, visit, type ASTNode, type DocumentNode } from "graphql";
import { badInput } from "./errors.ts";

/**
 * PostgreSQL's text types cannot hold U+0000: a NUL reaching a query fails it with `invalid byte
 * sequence for encoding "UTF8": 0x00`, which was a 500 carrying PostgreSQL's message. No field of
 * the API has a use for it, so it is refused where input enters, in every string a client can send.
 */
const NUL = "\u0000";

/** Where the first NUL sits in a value (`$input.items.0.name` with root `$input`), or undefined. Iterative: depth is capped upstream but need not be trusted here. */
export function nulPathInValue(
  value: unknown,
  root: string,
): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [
    { value, path: root },
  ];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === "string") {
      if (current.includes(NUL)) return path;
    } else if (Array.isArray(current)) {
      current.forEach((item, index) =>
        stack.push({ value: item, path: `${path}.${index}` }),
      );
    } else if (typeof current === "object" && current !== null) {
      for (const [key, item] of Object.entries(current)) {
        if (key.includes(NUL)) return path;
        stack.push({ value: item, path: `${path}.${key}` });
      }
    }
  }
  return undefined;
}

/** The argument (and input fields) holding the first string literal with a NUL (written `\u0000` in the document), or undefined. */
export function nulPathInDocument(document: DocumentNode): string | undefined {
  let found: string | undefined;
  visit(document, {
    StringValue(node, _key, parent, _path, ancestors) {
      if (!node.value.includes(NUL)) return undefined;
      // `ancestors` stops above the parent, so the parent (often the Argument itself) is added.
      const names = [
        ...(ancestors as ReadonlyArray<ASTNode | readonly ASTNode[]>),
        parent as ASTNode | readonly ASTNode[],
      ]
        .filter(
          (ancestor): ancestor is ASTNode =>
            !Array.isArray(ancestor) && "kind" in (ancestor as ASTNode),
        )
        .flatMap((ancestor) =>
          ancestor.kind === Kind.ARGUMENT || ancestor.kind === Kind.OBJECT_FIELD
            ? [ancestor.name.value]
            : [],
        );
      found = names.length > 0 ? names.join(".") : "query";
      return BREAK;
    },
  });
  return found;
}

/** Documents already scanned (Apollo Server hands back the same parsed object for the same text). */
const scanned = new WeakMap<DocumentNode, string | null>();

/**
 * Refuses, as BAD_USER_INPUT (HTTP 400, `extensions.field` naming where), an operation with a NUL
 * in any string it carries: a literal in the document or any string or key in its variables,
 * however nested. Runs before the operation is planned or executed, so nothing reaches a database.
 */
export function createInputGuardPlugin<
  Ctx extends BaseContext,
>(): ApolloServerPlugin<Ctx> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request }) {
          let literal = scanned.get(document);
          if (literal === undefined) {
            literal = nulPathInDocument(document) ?? null;
            scanned.set(document, literal);
          }
          let field = literal ?? undefined;
          for (const [name, value] of Object.entries(request.variables ?? {})) {
            if (field !== undefined) break;
            field = name.includes(NUL)
              ? "$"
              : nulPathInValue(value, `$${name}`);
          }
          if (field === undefined) return;
          const error = badInput(
            field,
            "string input must not contain the NUL character (U+0000)",
          );
          error.extensions.http = { status: 400 };
          throw error;
        },
      };
    },
  };
}
