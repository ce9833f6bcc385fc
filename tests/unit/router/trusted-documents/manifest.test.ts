import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import * as generated from "../../../../clients/generated/graphql.ts";
import { PERSISTED_DOCUMENT_IDS } from "../../../../clients/generated/persisted-documents.ts";
import {
  buildManifest,
  documentId,
  normaliseDocument,
  parseManifest,
} from "../../../../router/trusted-documents/manifest.ts";

const sha256 = (text: string) =>
  createHash("sha256").update(text, "utf8").digest("hex");

describe("the normalised document and its id", () => {
  it("is graphql-js print of the operations, then the fragments by name, one blank line apart", () => {
    const text = `
      # a comment
      fragment B on Product { name }
      query Q($id: ID!) { product(id: $id) { ...A, ...B } }
      fragment A on Product { id }
    `;
    expect(normaliseDocument(text)).toBe(
      [
        "query Q($id: ID!) {\n  product(id: $id) {\n    ...A\n    ...B\n  }\n}",
        "fragment A on Product {\n  id\n}",
        "fragment B on Product {\n  name\n}",
      ].join("\n\n"),
    );
    expect(documentId(text)).toBe(sha256(normaliseDocument(text)));
  });

  it("ignores layout, comments, commas and fragment order, and nothing else", () => {
    const a = "query Q { a, b }  fragment X on T { c } fragment Y on T { d }";
    const b =
      "fragment Y on T { d }\n# why\nquery Q {\n a\n b\n}\nfragment X on T { c }";
    expect(documentId(a)).toBe(documentId(b));
    expect(documentId("query Q { b a }")).not.toBe(
      documentId("query Q { a b }"),
    );
    expect(documentId("{ a(n: 1) }")).not.toBe(documentId("{ a(n: 2) }"));
  });
});

describe("the manifest npm run codegen writes", () => {
  it("has one entry per operation with the fragments it uses, and ids the router accepts", () => {
    const manifest = buildManifest([
      parse("query Q { order { ...O } } mutation M { x }"),
      parse(
        "fragment O on Order { id ...P } fragment P on Order { total } fragment Unused on Order { id }",
      ),
    ]);
    expect(manifest.operations.map((entry) => entry.name)).toEqual(["M", "Q"]);
    const q = manifest.operations.find((entry) => entry.name === "Q")!;
    expect(q.body).toContain("fragment O on Order");
    expect(q.body).toContain("fragment P on Order");
    expect(q.body).not.toContain("Unused");
    expect(q.id).toBe(sha256(q.body));
    expect([...parseManifest(JSON.stringify(manifest)).keys()]).toEqual(
      manifest.operations.map((entry) => entry.id),
    );
  });

  it("refuses a manifest whose id is not the hash of its body (a hand-edited body)", () => {
    const manifest = buildManifest([parse("query Q { a }")]);
    const edited = {
      ...manifest,
      operations: [{ ...manifest.operations[0]!, body: "query Q { a b }" }],
    };
    expect(() => parseManifest(JSON.stringify(edited))).toThrow(
      /not the SHA-256/,
    );
    expect(() => parseManifest('{"operations": []}')).toThrow(
      /not a persisted-query manifest/,
    );
  });

  it("gives every generated document the id of its own text, as the router computes it", () => {
    const manifest = parseManifest(
      readFileSync("clients/generated/persisted-documents.json", "utf8"),
    );
    const documents = Object.entries(generated).filter(
      ([name]) => name.endsWith("Document") && !name.endsWith("FragmentDoc"),
    );
    expect(documents.length).toBe(PERSISTED_DOCUMENT_IDS.size);
    for (const [name, document] of documents) {
      const id = PERSISTED_DOCUMENT_IDS.get(document as object);
      expect(id, name).toBe(documentId(String(document)));
      expect(manifest.has(id!), name).toBe(true);
    }
  });
});
