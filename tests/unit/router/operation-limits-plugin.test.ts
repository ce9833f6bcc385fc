import { buildSchema, parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import {
  createOperationLimitsPlugin,
  operationShape,
} from "../../../router/operation-limits-plugin.ts";

// The operation shape and the depth, alias and root-field limits, on a schema of its own.
const shapeSchema = buildSchema(`
  type Product { name: String, related(first: Int = 5): [Product] }
  type Query { products(first: Int = 20): [Product], product: Product }
`);
const shapeLimits = { maxDepth: 3, maxAliases: 30, maxRootFields: 20 };

async function checkShape(
  query: ReturnType<typeof parse>,
  variables: Record<string, unknown> = {},
) {
  const hooks = await createOperationLimitsPlugin(shapeLimits).requestDidStart!(
    {} as never,
  );
  const operation = query.definitions[0] as OperationDefinitionNode;
  return hooks!.didResolveOperation!({
    operation,
    document: query,
    schema: shapeSchema,
    request: { variables },
  } as never);
}

describe("the operation shape the router plugins share", () => {
  it("is computed once per parsed document and operation", () => {
    const document = parse(
      "query A { products { name } product { name } } query B { product { name } }",
    );
    const [a, b] = document.definitions as OperationDefinitionNode[];
    expect(operationShape(document, a!)).toBe(operationShape(document, a!));
    expect(operationShape(document, a!).rootFields).toEqual([
      "products",
      "product",
    ]);
    expect(operationShape(document, b!).rootFields).toEqual(["product"]);
  });

  it("reuses a measurement, with the same verdict every time", async () => {
    const deep = parse(
      "{ products { related { related { related { name } } } } }",
    );
    for (let attempt = 0; attempt < 3; attempt += 1)
      await expect(checkShape(deep)).rejects.toMatchObject({
        extensions: { code: "QUERY_TOO_COMPLEX", limit: "depth" },
      });
    expect(
      operationShape(deep, deep.definitions[0] as OperationDefinitionNode)
        .measured?.measure.depth,
    ).toBe(5);
  });
});
