/**
 * Trusted documents at the router: a request may name a document by id
 * (`"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<id>"}}`, Apollo's shape, no
 * `query`) and the router runs the manifest's document; in `enforce` mode nothing else runs.
 *
 * - `off`: this plugin is not installed; Apollo Server's automatic persisted queries (APQ) work as
 *   they always did.
 * - `log-unknown`: ids from the manifests resolve; any other document (full text, APQ) still runs,
 *   and is logged (once per id) and counted as `unknown`.
 * - `enforce`: ids from the manifests resolve, and full text whose normalised id is in a manifest
 *   runs; anything else is refused with OPERATION_NOT_ALLOWED (403), and an id in no manifest and
 *   not in the APQ cache with PERSISTED_QUERY_NOT_FOUND. An APQ registration of an unknown document
 *   is refused before Apollo caches it. A caller with the `admin` scope (a verified token, as
 *   `@requiresScopes(scopes: [["admin"]])` sees it) is let through as `bypass` for tooling.
 *
 * An id found in a manifest is swapped for its text before Apollo Server reads the request, with
 * the `persistedQuery` extension removed: Apollo then hashes and parses the text as for a full
 * request (its parsed-document cache hits), and never writes it to the APQ cache.
 */
import type { ApolloServerPlugin, GraphQLRequest } from "@apollo/server";
import type { DocumentNode } from "graphql";
import { Counter, type Registry } from "prom-client";
import { codedError } from "../../platform/errors.ts";
import type { Logger } from "../../platform/logger.ts";
import type { RouterContext } from "../context.ts";
import { documentId } from "./manifest.ts";
import type { ManifestFiles } from "./manifest-files.ts";

export type TrustedDocumentsMode = "off" | "log-unknown" | "enforce";

/** How a request fared: the `outcome` label of `router_trusted_documents_total`. */
export type TrustedDocumentOutcome =
  "trusted" | "unknown" | "bypass" | "refused" | "not_found";

/** Logged unknown ids kept, so a client sending fresh documents cannot grow the set without bound. */
const MAX_LOGGED_UNKNOWN = 1000;

interface PersistedQueryExtension {
  readonly version?: unknown;
  readonly sha256Hash?: unknown;
}

export function createTrustedDocumentsPlugin({
  mode,
  manifests,
  adminBypass,
  logger,
  registry,
}: {
  mode: Exclude<TrustedDocumentsMode, "off">;
  manifests: ManifestFiles;
  adminBypass: boolean;
  logger: Logger;
  registry?: Registry;
}): ApolloServerPlugin<RouterContext> {
  const outcomes = new Counter({
    name: "router_trusted_documents_total",
    help: "Operations by trusted-document outcome: trusted, unknown (allowed in log-unknown), bypass (admin), refused, not_found",
    labelNames: ["mode", "outcome"],
    registers: registry ? [registry] : [],
  });
  const count = (outcome: TrustedDocumentOutcome) =>
    outcomes.inc({ mode, outcome });
  /** Requests whose text came from a manifest, so their document needs no hashing. */
  const byId = new WeakSet<GraphQLRequest>();
  /** Ids of parsed documents: Apollo hands back the same DocumentNode for the same text. */
  const ids = new WeakMap<DocumentNode, string>();
  const logged = new Set<string>();
  const idOf = (document: DocumentNode) => {
    let id = ids.get(document);
    if (id === undefined) {
      id = documentId(document);
      ids.set(document, id);
    }
    return id;
  };

  return {
    async requestDidStart({ request }) {
      const persisted = request.extensions?.persistedQuery as
        PersistedQueryExtension | undefined;
      if (
        request.query === undefined &&
        typeof persisted?.sha256Hash === "string"
      ) {
        const found = manifests.get(persisted.sha256Hash);
        if (found) {
          const { persistedQuery: _resolved, ...others } =
            request.extensions ?? {};
          request.query = found.body;
          request.extensions = others;
          byId.add(request);
        }
      }
      return {
        async didResolveOperation({ request, document, contextValue }) {
          if (byId.has(request)) return count("trusted");
          const id = idOf(document);
          if (manifests.has(id)) return count("trusted");
          if (mode === "log-unknown") {
            if (!logged.has(id) && logged.size < MAX_LOGGED_UNKNOWN) {
              logged.add(id);
              logger.warn(
                { documentId: id, operationName: request.operationName },
                "operation not in any trusted-document manifest",
              );
            }
            return count("unknown");
          }
          if (
            adminBypass &&
            contextValue.principal?.scopes.includes("admin") === true
          )
            return count("bypass");
          count("refused");
          throw codedError(
            "OPERATION_NOT_ALLOWED",
            "only trusted documents may run here: send the id of a document from the manifest",
            { documentId: id, http: { status: 403 } },
          );
        },
        async didEncounterErrors({ errors }) {
          if (
            errors.some(
              (error) => error.extensions.code === "PERSISTED_QUERY_NOT_FOUND",
            )
          )
            count("not_found");
        },
      };
    },
  };
}
