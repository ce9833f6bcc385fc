import type { ApolloServerPlugin } from "@apollo/server";
import type { RouterContext } from "../context.ts";
import { peekNotes } from "../request-notes.ts";
import { responseHeaders } from "./propagation.ts";
import type { HeaderRules } from "./rules.ts";

/**
 * Puts the response headers the rules keep (router/headers/propagation.ts) on the client response,
 * from what this request's fetches recorded. Apollo Server's cache-control plugin runs after this
 * one and leaves a header it cannot parse alone; the merged value is written visibility first
 * (`public, max-age=60`), which it does not parse, so it is not overwritten with `no-store`.
 */
export function createResponseHeadersPlugin(
  rules: HeaderRules,
): ApolloServerPlugin<RouterContext> {
  return {
    async requestDidStart() {
      return {
        async willSendResponse({ contextValue, response }) {
          const notes = peekNotes(contextValue);
          if (!notes || notes.fetched.length === 0) return;
          const decisions = responseHeaders(rules, notes.fetched);
          // A HeaderMap holds one value per name: the first cookie is the one sent (docs/headers.md).
          const written = new Set<string>();
          for (const decision of decisions) {
            if (written.has(decision.header)) continue;
            written.add(decision.header);
            response.http.headers.set(decision.header, decision.value);
          }
          notes.responseHeaders.push(...decisions);
        },
      };
    },
  };
}
