import { randomUUID } from "node:crypto";
import type { AuthContext } from "../../platform/authorization.ts";
import { badInput, notFound } from "../../platform/errors.ts";
import { isId, parseId } from "../../platform/ids.ts";
import { parsePage, toConnection } from "../../platform/pagination.ts";
import {
  DecimalScalar,
  formatMinorUnits,
  isPayableAmount,
  MAX_PAYMENT_MINOR,
  MIN_PAYMENT_MINOR,
  parseDecimalToMinorUnits,
} from "../../platform/scalars.ts";
import type {
  MutationCreateProductArgs,
  Resolvers,
} from "./generated/resolvers-types.ts";
import type { ProductLoaders } from "./loaders.ts";
import type { ProductRepository, ProductRow } from "./repository.ts";

export interface ProductsContext extends AuthContext {
  loaders: ProductLoaders;
  repo: ProductRepository;
}

const SKU = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_UNITS = 1_000_000;
/** Currencies with a two-decimal minor unit we can price in (see platform/scalars.ts). */
const CURRENCIES = new Set(["USD"]);

function validateNewProduct(input: MutationCreateProductArgs["input"]) {
  const sku = input.sku.trim();
  const name = input.name.trim();
  const description = (input.description ?? "").trim();
  const currency = (input.currency ?? "USD").trim().toUpperCase();
  const inventory = input.inventory ?? 0;
  const priceMinor = parseDecimalToMinorUnits(input.price);
  if (!SKU.test(sku))
    throw badInput(
      "input.sku",
      'sku must be 1 to 64 letters, digits, "-" or "_"',
    );
  if (name.length < 1 || name.length > 200)
    throw badInput("input.name", "name must be 1 to 200 characters");
  if (description.length > 5000)
    throw badInput(
      "input.description",
      "description must be at most 5000 characters",
    );
  // A price payments could not charge would let an order reserve stock and then fail at payment.
  if (!isPayableAmount(priceMinor))
    throw badInput(
      "input.price",
      `price must be ${formatMinorUnits(MIN_PAYMENT_MINOR)} to ${formatMinorUnits(MAX_PAYMENT_MINOR)}`,
    );
  if (!CURRENCIES.has(currency))
    throw badInput(
      "input.currency",
      `currency must be one of ${[...CURRENCIES].join(", ")}`,
    );
  if (!Number.isInteger(inventory) || inventory < 0 || inventory > MAX_UNITS)
    throw badInput("input.inventory", `inventory must be 0 to ${MAX_UNITS}`);
  return {
    sku,
    name,
    description,
    price_minor: priceMinor,
    currency,
    inventory,
  };
}

const isSkuCursor = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= 64;

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

export const resolvers: Resolvers<ProductsContext> = {
  Decimal: DecimalScalar,
  Query: {
    async product(_root, { id }, { loaders }) {
      const row = await loaders.productById.load(parseId(id));
      if (!row) throw notFound("Product", id);
      return toProduct(row);
    },
    async products(_root, args, { repo, loaders }) {
      const { limit, after } = parsePage(args, isSkuCursor);
      const search = args.search?.trim() || undefined;
      if (search && search.length > 100)
        throw badInput("search", "search must be at most 100 characters");
      const { rows, totalCount } = await repo.page({
        limit,
        afterSku: after,
        search,
      });
      // Prime the request's loader so entity fetches for these products later in the plan are free.
      for (const row of rows) loaders.productById.prime(row.id, row);
      return toConnection(rows.map(toProduct), {
        limit,
        hasAfter: after !== undefined,
        totalCount,
        cursorOf: (product) => product.sku,
      });
    },
  },
  // Admin-only by @requiresScopes in schema.graphql, enforced by platform/authorization.ts.
  Mutation: {
    async createProduct(_root, { input }, { repo }) {
      return toProduct(
        await repo.insert({ id: randomUUID(), ...validateNewProduct(input) }),
      );
    },
    async restockProduct(_root, { id, quantity }, { repo }) {
      const productId = parseId(id);
      if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_UNITS)
        throw badInput("quantity", `quantity must be 1 to ${MAX_UNITS}`);
      const row = await repo.restock(productId, quantity);
      if (!row) throw notFound("Product", id);
      return toProduct(row);
    },
  },
  Product: {
    async __resolveReference(reference, { loaders }) {
      if (!isId(reference.id)) return null;
      const row = await loaders.productById.load(reference.id.toLowerCase());
      return row ? toProduct(row) : null;
    },
  },
};
