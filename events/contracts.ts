import {
  EVENT_TOPICS,
  InvalidEnvelopeError,
  parseEnvelope,
  type EventEnvelope,
} from "./envelope.ts";
import type { PublishingSubgraph } from "../platform/services.ts";

/**
 * One contract per event type and version: the shape of `data` inside the envelope. Producers
 * validate before writing to the outbox (events/outbox-writer.ts); the notification worker validates
 * again when consuming, and parks what fails. docs/events.md is generated from this table
 * (`npm run events:docs`); tests/unit/events/contracts.test.ts keeps it fresh.
 *
 * Evolving a contract: adding an optional field keeps the version; anything else (a new required
 * field, a removed or retyped one) is a new version registered beside the old one, so consumers can
 * keep reading events already in the log.
 */
export type FieldType =
  | "string"
  | "count"
  | "minorUnits"
  | "currency"
  | { readonly optional: FieldType }
  | { readonly nullable: FieldType }
  | { readonly listOf: Readonly<Record<string, FieldType>> };

export interface EventContract {
  readonly type: string;
  readonly version: number;
  readonly producer: PublishingSubgraph;
  readonly description: string;
  readonly data: Readonly<Record<string, FieldType>>;
}

const order = {
  orderId: "string",
  userId: "string",
  total: "minorUnits",
  currency: "currency",
  status: { optional: "string" },
} as const;
const payment = {
  paymentId: "string",
  orderId: "string",
  userId: "string",
  amount: "minorUnits",
  currency: "currency",
} as const;
/** A charge's result: the payment with the status it reached and the provider's failure, if any. */
const paymentResult = {
  ...payment,
  status: { optional: "string" },
  failureCode: { optional: { nullable: "string" } },
} as const;
const stock = {
  reservationId: "string",
  userId: { nullable: "string" },
  items: { listOf: { productId: "string", quantity: "count" } },
} as const;

export const EVENT_CONTRACTS: readonly EventContract[] = [
  {
    type: "orders.order.placed",
    version: 1,
    producer: "orders",
    description:
      "A customer placed an order; its saga starts. Items carry the prices the order was placed at.",
    data: {
      orderId: "string",
      userId: "string",
      items: {
        listOf: {
          productId: "string",
          quantity: "count",
          unitPrice: "minorUnits",
        },
      },
      total: "minorUnits",
      currency: "currency",
    },
  },
  {
    type: "orders.order.confirmed",
    version: 1,
    producer: "orders",
    description: "Stock reserved and payment captured: the order is confirmed.",
    data: order,
  },
  {
    type: "orders.order.failed",
    version: 1,
    producer: "orders",
    description:
      "The order could not be completed and everything taken for it was given back; `reason` is an error code.",
    data: { ...order, reason: { optional: { nullable: "string" } } },
  },
  {
    type: "orders.order.cancelled",
    version: 1,
    producer: "orders",
    description:
      "The customer cancelled a confirmed order: payment refunded, stock returned.",
    data: order,
  },
  {
    type: "products.stock.reserved",
    version: 1,
    producer: "products",
    description:
      "Stock was set aside for an order (reservation id = order id).",
    data: stock,
  },
  {
    type: "products.stock.released",
    version: 1,
    producer: "products",
    description:
      "Reserved or sold stock went back on sale (failed or cancelled order, or an expired reservation).",
    data: stock,
  },
  {
    type: "payments.payment.captured",
    version: 1,
    producer: "payments",
    description: "Money was taken for an order.",
    data: paymentResult,
  },
  {
    type: "payments.payment.declined",
    version: 1,
    producer: "payments",
    description: "The provider declined the card; nothing was taken.",
    data: paymentResult,
  },
  {
    type: "payments.payment.failed",
    version: 1,
    producer: "payments",
    description: "The provider failed or timed out; nothing was taken.",
    data: paymentResult,
  },
  {
    type: "payments.payment.refunded",
    version: 1,
    producer: "payments",
    description:
      "Captured money went back to the customer (cancellation, compensation or an admin refund).",
    data: { ...payment, reason: { optional: "string" } },
  },
  {
    type: "notifications.notification.delivered",
    version: 1,
    producer: "notifications",
    description:
      "A notification reached its recipient (written with its DELIVERED record). Ids only: the router's `myNotifications` reads the rest through the notifications subgraph, with the subscriber's rights.",
    data: { notificationId: "string", userId: "string" },
  },
];

const byKey = new Map(
  EVENT_CONTRACTS.map((contract) => [
    `${contract.type}@${contract.version}`,
    contract,
  ]),
);

export function contractFor(
  type: string,
  version: number,
): EventContract | undefined {
  return byKey.get(`${type}@${version}`);
}

export class EventContractError extends Error {
  readonly retriable = false;
  constructor(problem: string) {
    super(`event contract violated: ${problem}`);
    this.name = "EventContractError";
  }
}

function check(value: unknown, type: FieldType, path: string): void {
  if (typeof type === "object" && "optional" in type) {
    if (value !== undefined) check(value, type.optional, path);
    return;
  }
  if (typeof type === "object" && "nullable" in type) {
    if (value !== null) check(value, type.nullable, path);
    return;
  }
  if (typeof type === "object") {
    if (!Array.isArray(value))
      throw new EventContractError(`${path} must be a list`);
    value.forEach((item, index) =>
      checkObject(item, type.listOf, `${path}[${index}]`),
    );
    return;
  }
  const ok =
    type === "string"
      ? typeof value === "string" && value.length > 0
      : type === "count"
        ? Number.isSafeInteger(value) && (value as number) >= 1
        : type === "minorUnits"
          ? Number.isSafeInteger(value) && (value as number) >= 0
          : typeof value === "string" && /^[A-Z]{3}$/.test(value);
  if (!ok)
    throw new EventContractError(
      `${path} must be ${type === "count" ? "an integer ≥ 1" : type === "minorUnits" ? "an integer of minor units ≥ 0" : type === "currency" ? "an ISO 4217 code" : "a non-empty string"}`,
    );
}

function checkObject(
  value: unknown,
  fields: Readonly<Record<string, FieldType>>,
  path: string,
): void {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new EventContractError(`${path} must be an object`);
  for (const [name, type] of Object.entries(fields))
    check((value as Record<string, unknown>)[name], type, `${path}.${name}`);
}

/** Throws EventContractError unless `data` fits the contract of `type`@`version` (which must exist). */
export function validateEventData(
  type: string,
  version: number,
  data: unknown,
): void {
  const contract = contractFor(type, version);
  if (!contract)
    throw new EventContractError(`no contract for ${type} version ${version}`);
  checkObject(data, contract.data, "data");
}

function describeType(type: FieldType): string {
  if (typeof type === "object" && "optional" in type)
    return `${describeType(type.optional)}, optional`;
  if (typeof type === "object" && "nullable" in type)
    return `${describeType(type.nullable)} or null`;
  if (typeof type === "object")
    return `list of { ${Object.entries(type.listOf)
      .map(([name, item]) => `${name}: ${describeType(item)}`)
      .join(", ")} }`;
  return {
    string: "string",
    count: "integer ≥ 1",
    minorUnits: "integer, minor units",
    currency: "ISO 4217 code",
  }[type];
}

/**
 * How every consumer reads a message: the envelope, then the data against its contract. A message
 * that fails either can never succeed, so consumers park or skip it (isUnreadable) instead of
 * retrying it forever and blocking its partition.
 */
export function readEvent(raw: string): EventEnvelope {
  const event = parseEnvelope(raw);
  validateEventData(event.type, event.version, event.data);
  return event;
}

export function isUnreadable(
  error: unknown,
): error is InvalidEnvelopeError | EventContractError {
  return (
    error instanceof InvalidEnvelopeError || error instanceof EventContractError
  );
}

/** docs/events.md, generated from EVENT_CONTRACTS. */
export function renderEventDocs(): string {
  const lines = [
    "# Events",
    "",
    "Generated from `events/contracts.ts` by `npm run events:docs`; do not edit by hand.",
    "",
    "Every event travels in the envelope `{ eventId, type, version, occurredAt, key, correlationId, traceparent, data }`",
    "(see ARCHITECTURE.md). `key` is the customer's user id, so one customer's events stay in order on one Kafka",
    `partition. Topics are per producing domain: ${EVENT_TOPICS.map((topic) => `\`${topic}\``).join(", ")}.`,
    "Producers validate `data` against the contract below before writing to their outbox; the notification worker",
    "validates again and parks events that fail (`notifications.rejected_events`).",
    "",
  ];
  for (const contract of EVENT_CONTRACTS) {
    lines.push(
      `## \`${contract.type}\` v${contract.version}`,
      "",
      `Produced by **${contract.producer}**. ${contract.description}`,
      "",
      "| field | type |",
      "| --- | --- |",
    );
    for (const [name, type] of Object.entries(contract.data))
      lines.push(`| \`${name}\` | ${describeType(type)} |`);
    lines.push("");
  }
  return lines.join("\n");
}
