/**
 * Trusted documents (persisted operations): the normalised form of a GraphQL document, its id, and
 * the manifest `npm run codegen` writes and the router loads.
 *
 * Normalised means: parsed with graphql-js, then its operation definitions in source order followed
 * by its fragment definitions sorted by name, each printed by graphql-js `print` (two-space
 * indentation, one field per line, no comments, no commas, canonical spacing; field, argument and
 * variable order as written), joined by one blank line. The id is the lowercase hex SHA-256 of the
 * UTF-8 of that text. Two documents that differ only in layout, comments or fragment order have the
 * same id; a renamed field, a reordered selection or a changed literal gives a new one.
 */
import { createHash } from "node:crypto";
import {
  Kind,
  parse,
  print,
  visit,
  type DefinitionNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from "graphql";

/** The normalised text of a document (see the header). */
export function normaliseDocument(document: string | DocumentNode): string {
  const parsed =
    typeof document === "string"
      ? parse(document, { noLocation: true })
      : document;
  const operations: DefinitionNode[] = [];
  const fragments: FragmentDefinitionNode[] = [];
  for (const definition of parsed.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.push(definition);
    else operations.push(definition);
  }
  fragments.sort((a, b) =>
    a.name.value < b.name.value ? -1 : a.name.value > b.name.value ? 1 : 0,
  );
  return [...operations, ...fragments]
    .map((definition) => print(definition))
    .join("\n\n");
}

/** SHA-256 (lowercase hex) of a text's UTF-8. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The document id: SHA-256 of the normalised document. */
export function documentId(document: string | DocumentNode): string {
  return sha256Hex(normaliseDocument(document));
}

/** One operation of a manifest: Apollo's persisted-query manifest entry. */
export interface ManifestOperation {
  readonly id: string;
  readonly name: string;
  readonly type: "query" | "mutation" | "subscription";
  /** The normalised document: the operation and every fragment it uses. */
  readonly body: string;
}

/** Apollo's persisted-query manifest format (also what Apollo's tooling reads and writes). */
export interface Manifest {
  readonly format: "apollo-persisted-query-manifest";
  readonly version: 1;
  readonly operations: readonly ManifestOperation[];
}

function fragmentsUsed(
  root: OperationDefinitionNode | FragmentDefinitionNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  into = new Set<string>(),
): Set<string> {
  visit(root, {
    FragmentSpread(node) {
      const name = node.name.value;
      const fragment = fragments.get(name);
      if (into.has(name) || !fragment) return;
      into.add(name);
      fragmentsUsed(fragment, fragments, into);
    },
  });
  return into;
}

/**
 * One manifest entry per named operation of `documents` (fragments may live in any of them): the
 * operation with the fragments it uses, normalised. Sorted by name, so the file is stable.
 */
export function buildManifest(documents: readonly DocumentNode[]): Manifest {
  const fragments = new Map<string, FragmentDefinitionNode>();
  const operations: OperationDefinitionNode[] = [];
  for (const document of documents)
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION)
        fragments.set(definition.name.value, definition);
      if (definition.kind === Kind.OPERATION_DEFINITION)
        operations.push(definition);
    }
  const entries = operations.map((operation) => {
    if (!operation.name)
      throw new Error("trusted documents need named operations");
    const used = [...fragmentsUsed(operation, fragments)].map((name) =>
      fragments.get(name)!,
    );
    const body = normaliseDocument({
      kind: Kind.DOCUMENT,
      definitions: [operation, ...used],
    });
    return {
      id: sha256Hex(body),
      name: operation.name.value,
      type: operation.operation,
      body,
    };
  });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    format: "apollo-persisted-query-manifest",
    version: 1,
    operations: entries,
  };
}

/**
 * Reads a manifest file's text into id → body, checking every entry: an id that is not the
 * SHA-256 of its normalised body is refused (a hand-edited body would otherwise run under an id a
 * reviewer approved for something else).
 */
export function parseManifest(text: string): Map<string, ManifestOperation> {
  const parsed = JSON.parse(text) as Partial<Manifest>;
  if (
    parsed.format !== "apollo-persisted-query-manifest" ||
    parsed.version !== 1 ||
    !Array.isArray(parsed.operations)
  )
    throw new Error(
      'not a persisted-query manifest (format "apollo-persisted-query-manifest", version 1)',
    );
  const byId = new Map<string, ManifestOperation>();
  for (const entry of parsed.operations) {
    if (typeof entry?.id !== "string" || typeof entry.body !== "string")
      throw new Error("every operation needs a string id and body");
    const body = normaliseDocument(entry.body);
    if (sha256Hex(body) !== entry.id)
      throw new Error(
        `operation ${entry.name ?? entry.id}: id is not the SHA-256 of its normalised body`,
      );
    byId.set(entry.id, { ...entry, body });
  }
  return byId;
}
