import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { badInput, notFound } from '../../platform/errors.ts';
import { isId, parseId } from '../../platform/ids.ts';
import { parsePage, toConnection, type PageArgs } from '../../platform/pagination.ts';
import { DecimalScalar, formatMinorUnits } from '../../platform/scalars.ts';
import type { ProductLoaders } from './loaders.ts';
import type { ProductRepository, ProductRow } from './repository.ts';

export interface ProductsContext {
  loaders: ProductLoaders;
  repo: ProductRepository;
}

const isSkuCursor = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= 64;

export function toProduct(row: ProductRow) {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    price: formatMinorUnits(row.price_minor),
    currency: row.currency,
    inventory: row.inventory,
    inStock: row.inventory > 0,
  };
}

export const resolvers: GraphQLResolverMap<ProductsContext> = {
  Decimal: DecimalScalar,
  Query: {
    async product(_root, { id }: { id: string }, { loaders }) {
      const row = await loaders.productById.load(parseId(id));
      if (!row) throw notFound('Product', id);
      return toProduct(row);
    },
    async products(_root, args: PageArgs & { search?: string | null }, { repo, loaders }) {
      const { limit, after } = parsePage(args, isSkuCursor);
      const search = args.search?.trim() || undefined;
      if (search && search.length > 100) throw badInput('search', 'search must be at most 100 characters');
      const { rows, totalCount } = await repo.page({ limit, afterSku: after, search });
      // Prime the request's loader so entity fetches for these products later in the plan are free.
      for (const row of rows) loaders.productById.prime(row.id, row);
      return toConnection(rows.map(toProduct), { limit, hasAfter: after !== undefined, totalCount, cursorOf: (product) => product.sku });
    },
  },
  Product: {
    async __resolveReference(reference: { id: string }, { loaders }: ProductsContext) {
      if (!isId(reference.id)) return null;
      const row = await loaders.productById.load(reference.id.toLowerCase());
      return row ? toProduct(row) : null;
    },
  },
};
