import { buildSchema, parse, type OperationDefinitionNode } from 'graphql';
import { describe, expect, it } from 'vitest';
import { createOperationLimitsPlugin, operationShape } from '../../../router/operation-limits-plugin.ts';

const schema = buildSchema(`
  type Product { name: String, related(first: Int = 5): [Product] }
  type Query { products(first: Int = 20): [Product], product: Product }
`);
const limits = { maxDepth: 12, maxAliases: 30, maxRootFields: 20, maxCost: 1000 };

async function check(query: ReturnType<typeof parse>, variables: Record<string, unknown> = {}) {
  const hooks = await createOperationLimitsPlugin(limits).requestDidStart!({} as never);
  const operation = query.definitions[0] as OperationDefinitionNode;
  return hooks!.didResolveOperation!({ operation, document: query, schema, request: { variables } } as never);
}

describe('the operation shape the router plugins share', () => {
  it('is computed once per parsed document and operation', () => {
    const document = parse('query A { products { name } product { name } } query B { product { name } }');
    const [a, b] = document.definitions as OperationDefinitionNode[];
    expect(operationShape(document, a!)).toBe(operationShape(document, a!));
    expect(operationShape(document, a!).rootFields).toEqual(['products', 'product']);
    expect(operationShape(document, b!).rootFields).toEqual(['product']);
  });

  it('never reuses a cost that depends on variables: the same document passes or fails by its `first`', async () => {
    const document = parse('query($n: Int) { products(first: $n) { name related { name } } }');
    await expect(check(document, { n: 10 })).resolves.toBeUndefined();
    await expect(check(document, { n: 500 })).rejects.toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX', limit: 'cost' } });
    await expect(check(document, { n: 10 })).resolves.toBeUndefined();
  });

  it('reuses a variable-free measurement, with the same verdict every time', async () => {
    const heavy = parse('{ products(first: 500) { name related { name } } }');
    for (let attempt = 0; attempt < 3; attempt += 1) await expect(check(heavy)).rejects.toMatchObject({ extensions: { code: 'QUERY_TOO_COMPLEX' } });
    expect(operationShape(heavy, heavy.definitions[0] as OperationDefinitionNode).measured?.measure.cost).toBeGreaterThan(1000);
  });
});
