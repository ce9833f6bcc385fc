import { GraphQLError } from "graphql";

/**
 * Every error a client can see carries one of these codes in `extensions.code`.
 * docs/errors.md documents the same list; tests/unit/platform/errors.test.ts keeps the two equal.
 */
export const ERROR_CODES = {
  UNAUTHENTICATED:
    'The request needs a valid identity (missing, invalid or expired token, or wrong credentials); also the last message of a subscription whose token expired (`reason: "expired"`).',
  FORBIDDEN: "The caller is known but may not do this.",
  BAD_USER_INPUT:
    "An argument is malformed or out of range; `extensions.field` names it when there is one.",
  NOT_FOUND:
    "The requested object does not exist (or is not visible to the caller).",
  BAD_REQUEST:
    "The HTTP request itself is unusable (body too large, not JSON, JSON nested deeper than 32 levels, missing query, CSRF check).",
  GRAPHQL_PARSE_FAILED: "The document is not valid GraphQL syntax.",
  GRAPHQL_VALIDATION_FAILED:
    "The document does not validate against the schema (unknown field, missing argument...).",
  OPERATION_RESOLUTION_FAILURE:
    "The document has no operation by the requested `operationName` (or several and no name).",
  INSUFFICIENT_STOCK: "Not enough inventory to reserve the requested quantity.",
  PAYMENT_DECLINED: "The payment provider declined the payment.",
  PAYMENT_FAILED:
    "The payment provider failed or did not answer in time; nothing was charged.",
  ORDER_REJECTED:
    "A service refused part of the order for good (e.g. an amount the payments service cannot charge); the order failed, its stock was released and anything charged was refunded.",
  QUERY_TOO_COMPLEX:
    "The operation exceeds a router limit (depth, aliases, root fields or estimated cost by the IBM cost spec); `extensions.limit`, `max` and `actual` say which.",
  PERSISTED_QUERY_NOT_FOUND:
    "The request names a document id (`extensions.persistedQuery.sha256Hash`) that is in no trusted-document manifest and not in the automatic persisted-query cache; send the full document (APQ), or regenerate the manifest.",
  OPERATION_NOT_ALLOWED:
    "The router runs only trusted documents (enforce mode) and this document is in no manifest; `extensions.documentId` gives its id.",
  RATE_LIMITED:
    "Too many requests from this client; `extensions.retryAfter` gives seconds to wait.",
  SUBGRAPH_UNAVAILABLE:
    "A subgraph could not be reached; `extensions.service` names it.",
  SUBGRAPH_TIMEOUT:
    "A subgraph did not answer in time; `extensions.service` names it.",
  SUBGRAPH_ERROR:
    "A subgraph answered with an error that the subgraph error policy passes on or wraps (docs/error-policy.md); `extensions.service` names it.",
  QUERY_PLAN_FAILED:
    "The operation is valid but the router cannot plan it across the subgraphs (a selection no subgraph can resolve from where it is asked); `extensions.field` names the root field.",
  SUBSCRIPTION_LIMIT_EXCEEDED:
    "A new subscription would pass a router limit (per client or per connection); `extensions.limit` and `max` say which.",
  SUBSCRIBER_TOO_SLOW:
    "The subscriber did not read its events fast enough and its backlog passed the router's bound; the subscription was ended (resubscribe, and query for what was missed).",
  SUBSCRIPTION_CLOSED:
    "The router is shutting down and ended the subscription; resubscribe (another instance will serve it).",
  SUBSCRIPTIONS_UNAVAILABLE:
    "This router has no event stream to feed subscriptions (the router deployed alone without `KAFKA_BROKERS`).",
  INTERNAL_SERVER_ERROR:
    "Something unexpected failed; details are in the server log, never in the response.",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A GraphQL error with a documented code; extra fields land in `extensions`. */
export function codedError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

export function badInput(field: string, message: string): GraphQLError {
  return codedError("BAD_USER_INPUT", message, { field });
}

export function notFound(kind: string, id: string): GraphQLError {
  return codedError("NOT_FOUND", `${kind} ${id} not found`, { kind, id });
}

/**
 * Infrastructure failures (database, brokers, HTTP) carry `retriable` and `cause`, so callers decide
 * to retry, dead-letter or crash from fields, never by parsing a message.
 */
export class InfrastructureError extends Error {
  readonly retriable: boolean;
  constructor(
    message: string,
    { retriable, cause }: { retriable: boolean; cause?: unknown },
  ) {
    super(message, { cause });
    this.name = "InfrastructureError";
    this.retriable = retriable;
  }
}
