import type { OrdersOptions } from "../../subgraphs/orders/server.ts";
import type { PaymentsOptions } from "../../subgraphs/payments/server.ts";
import { createSimulatedProvider } from "../../subgraphs/payments/provider.ts";
import type { ProductsOptions } from "../../subgraphs/products/server.ts";

/**
 * Options for subgraph modules whose server a test never starts (repository and domain tests use a
 * module for its migrations and seed only): no URL here is called, no interval elapses.
 */
export const ORDERS_OPTIONS_UNUSED: OrdersOptions = Object.freeze({
  internalServiceSecret: "unused",
  productsInternalUrl: "http://127.0.0.1:1",
  paymentsInternalUrl: "http://127.0.0.1:1",
  serviceTimeoutMs: 1,
  placeOrderWaitMs: 1,
  sagaResumeIntervalMs: 3_600_000,
  sagaLeaseMs: 1,
});

export const PRODUCTS_OPTIONS_UNUSED: ProductsOptions = Object.freeze({
  internalServiceSecret: "unused",
  reservationTtlSeconds: 900,
  reservationSweepIntervalMs: 3_600_000,
});

/** A function, so that importing this module builds no provider. */
export const paymentsOptionsUnused = (): PaymentsOptions => ({
  internalServiceSecret: "unused",
  provider: createSimulatedProvider(),
});
