/**
 * The data source's side of the error policy: one subgraph fetch's response (its answer, or the
 * failure the router made of it) in, the response the executor sees out. It runs in the data source
 * so every executor that calls data sources gets the same errors.
 */
import type { GatewayGraphQLResponse } from "@apollo/server-gateway-interface";
import type { Logger } from "../../platform/logger.ts";
import { BulkheadFullError } from "../bulkhead.ts";
import type { ErrorDecision, RequestNotes } from "../request-notes.ts";
import { SubgraphFailure } from "../subgraph-pool.ts";
import {
  applyErrorPolicy,
  clientErrorCode,
  isToday,
  markStatusOnly,
  statusFor,
  type ErrorKind,
  type SubgraphErrorPolicy,
} from "./policy.ts";

type Response = GatewayGraphQLResponse;

/** What kind of error an exchange ended with, and the subgraph's HTTP status when it gave one. */
export function errorKindOf(
  outcome:
    | { readonly reply: { readonly status: number } }
    | { readonly failure: unknown; readonly cause?: unknown },
): { kind: ErrorKind; httpStatus: number | undefined; replied: boolean } {
  if ("reply" in outcome) {
    const status = outcome.reply.status;
    return {
      kind: status >= 400 ? "4xx" : "graphql",
      httpStatus: status,
      replied: true,
    };
  }
  const cause = outcome.cause;
  if (cause instanceof SubgraphFailure) {
    if (cause.kind === "timeout")
      return { kind: "timeout", httpStatus: undefined, replied: false };
    if (cause.kind === "http" && cause.status !== undefined)
      return {
        kind: cause.status >= 500 ? "5xx" : "4xx",
        httpStatus: cause.status,
        replied: false,
      };
    return { kind: "network", httpStatus: undefined, replied: false };
  }
  if (cause instanceof BulkheadFullError || cause !== undefined)
    return { kind: "network", httpStatus: undefined, replied: false };
  // No cause: the request deadline passed before the fetch.
  return { kind: "timeout", httpStatus: undefined, replied: false };
}

/** What a policy-rewritten error looks like in the notes (the mark is the router's, not data). */
function visible(errors: readonly object[]): unknown[] {
  return errors.map((error) => JSON.parse(JSON.stringify(error)) as unknown);
}

/**
 * The response the executor sees for one fetch under `policy`. Today's policy returns `response`
 * itself, so a router without a policy behaves exactly as before policies existed.
 */
export function settleErrors({
  policy,
  subgraph,
  response,
  routerMade,
  kind,
  httpStatus,
  replied,
  unavailable,
  notes,
  logger,
}: {
  policy: SubgraphErrorPolicy;
  subgraph: string;
  response: Response;
  /** The router made `response` (SUBGRAPH_UNAVAILABLE / SUBGRAPH_TIMEOUT): it is safe as it is. */
  routerMade: boolean;
  kind: ErrorKind;
  httpStatus: number | undefined;
  /** The subgraph answered (any status the pool does not count as a failure). */
  replied: boolean;
  /** The router's SUBGRAPH_UNAVAILABLE for this fetch (counted and logged like any failure). */
  unavailable: (cause: Error) => Response;
  notes: RequestNotes | undefined;
  logger: Logger;
}): Response {
  if (isToday(policy)) return response;
  let answer: Response = response;
  let madeHere = routerMade;
  if (kind === "4xx" && replied) {
    if (policy.on4xx === "unavailable") {
      answer = unavailable(
        new Error(
          `${subgraph} answered HTTP ${httpStatus} (on_4xx: unavailable)`,
        ),
      );
      madeHere = true;
    } else if (policy.on4xx === "client-error") {
      // The request failed at the subgraph: no data, one error coded by its status.
      const first = madeHere ? undefined : response.errors?.[0];
      answer = {
        errors: [
          {
            message:
              first?.message ??
              `The ${subgraph} service refused the request (HTTP ${httpStatus})`,
            ...(first?.path ? { path: first.path } : {}),
            extensions: {
              ...(first?.extensions ?? {}),
              code: clientErrorCode(httpStatus ?? 400),
            },
          },
        ],
      };
      madeHere = false;
    }
  }
  const errors = answer.errors;
  if (!errors || errors.length === 0) return answer;
  if (madeHere) {
    const status = statusFor(policy, kind, httpStatus);
    return status === undefined
      ? answer
      : {
          ...answer,
          errors: errors.map((error) => markStatusOnly(error, status)),
        };
  }
  const sent = applyErrorPolicy(policy, subgraph, errors, { kind, httpStatus });
  if (policy.mode === "mask")
    logger.warn(
      { subgraph, kind, errors: visible(errors) },
      "subgraph errors masked by policy",
    );
  if (notes) {
    const decision: ErrorDecision = {
      subgraph,
      mode: policy.mode ?? "today",
      kind,
      original: visible(errors),
      sent: visible(sent),
    };
    notes.errors.push(decision);
  }
  return { ...answer, errors: sent };
}
