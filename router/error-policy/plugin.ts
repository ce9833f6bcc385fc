import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { RouterContext } from "../context.ts";
import { markOf } from "./policy.ts";

/**
 * The router's formatError with the error policy on top: an error a policy rewrote
 * (router/error-policy/policy.ts) goes out with exactly the message and extensions the policy
 * chose, whatever the gateway or Apollo Server added (`serviceName`, a stack trace in development),
 * and is not masked again. Every other error goes to `format` as before.
 */
export function withErrorPolicy(
  format: (
    formatted: GraphQLFormattedError,
    error: unknown,
  ) => GraphQLFormattedError,
) {
  return (
    formatted: GraphQLFormattedError,
    error: unknown,
  ): GraphQLFormattedError => {
    const mark = markOf(
      error instanceof GraphQLError ? error.extensions : formatted.extensions,
    );
    if (!mark || mark.statusOnly) return format(formatted, error);
    return {
      message: mark.message,
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { ...mark.extensions },
    };
  };
}

/**
 * Sets the HTTP status of a response whose errors carry a policy status: the highest of them, so
 * a 502 from one subgraph is not hidden by another's 200. Reads the unformatted errors, which the
 * requests sharing one execution share too.
 */
export function createErrorStatusPlugin(): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ errors, response }) {
          let status: number | undefined;
          for (const error of errors ?? []) {
            const wanted = markOf(error.extensions)?.status;
            if (
              wanted !== undefined &&
              (status === undefined || wanted > status)
            )
              status = wanted;
          }
          if (status !== undefined) response.http.status = status;
        },
      };
    },
  };
}
