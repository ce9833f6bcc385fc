import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";

/** The header a correlation id travels in over HTTP (router, subgraphs, REST calls) and is echoed in. */
export const REQUEST_ID_HEADER = "x-request-id";

/** The Kafka and AMQP header name (the envelope field has the same name). */
export const CORRELATION_HEADER = "correlationId";

/**
 * What a client may send as `x-request-id`. Anything else (too long, control characters, quotes,
 * spaces, JSON) is replaced by a fresh id: the value lands in every log line and response header,
 * so a hostile one must never be echoed or logged verbatim.
 */
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === "string" && VALID_ID.test(value);
}

/** The caller's id when it is acceptable, a fresh UUID otherwise (absent, repeated or hostile). */
export function correlationIdFrom(
  header: string | string[] | undefined,
): string {
  return isValidCorrelationId(header) ? header : randomUUID();
}

interface Scope {
  readonly correlationId: string;
}

const storage = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` with `correlationId` as the current correlation id: log lines (platform/logger.ts),
 * outgoing REST calls, subgraph fetches and outbox events written inside it carry it.
 */
export function withCorrelation<T>(correlationId: string, fn: () => T): T {
  return storage.run({ correlationId }, fn);
}

/** The correlation id of the request or message being handled, if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}
