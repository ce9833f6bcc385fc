/**
 * What the router decided for one client request that a reader of the plan-debug view wants to
 * see: which headers each subgraph fetch carried and why, which subgraph response headers reached
 * the client, and the originals of subgraph errors the error policy rewrote. Kept beside the
 * request's context object (a WeakMap, so nothing outlives the request) and only written when
 * header rules or an error policy are configured.
 *
 * A request that joined another's execution (router/deduplication.ts) has the leader's notes
 * copied to it once the shared execution ends.
 */
export interface HeaderDecision {
  readonly subgraph: string;
  /** The header as sent to the subgraph (after a rename). */
  readonly header: string;
  readonly action:
    | "propagated"
    | "defaulted"
    | "inserted"
    | "removed"
    /** A `matching` rule matched a header the router owns (authorization, its token…): not sent. */
    | "reserved";
  /** The client header it came from, when renamed or reserved. */
  readonly from?: string;
  /** Where the rule is in the configuration (`all.request[0]`, `subgraphs.products.request[1]`). */
  readonly rule: string;
}

export interface ResponseHeaderDecision {
  readonly header: string;
  readonly value: string;
  /** Subgraphs whose responses it was merged from. */
  readonly from: readonly string[];
}

export interface ErrorDecision {
  readonly subgraph: string;
  readonly mode: string;
  /** `graphql` (an error in a subgraph's body), `4xx`, `5xx`, `network`, `timeout`. */
  readonly kind: string;
  /** What the subgraph sent (or what failed), before the policy: never shown to a client unless asked. */
  readonly original: unknown;
  /** What the client was sent instead. */
  readonly sent: unknown;
}

/** The response headers one subgraph fetch brought back that a response rule reads. */
export interface FetchedHeaders {
  readonly subgraph: string;
  /** Undefined: the fetch failed, or the subgraph sent none. */
  readonly cacheControl: string | undefined;
  readonly setCookie: readonly string[];
}

export interface RequestNotes {
  readonly headers: HeaderDecision[];
  /** Raw material of the response rules, one entry per fetch. */
  readonly fetched: FetchedHeaders[];
  readonly responseHeaders: ResponseHeaderDecision[];
  readonly errors: ErrorDecision[];
}

const notes = new WeakMap<object, RequestNotes>();

/** The notes of the request whose context this is, created on first use. */
export function notesFor(context: object): RequestNotes {
  let found = notes.get(context);
  if (!found) {
    found = { headers: [], fetched: [], responseHeaders: [], errors: [] };
    notes.set(context, found);
  }
  return found;
}

/** The notes recorded so far, if any (the plan-debug view reads them when it builds the response). */
export function peekNotes(context: object): RequestNotes | undefined {
  return notes.get(context);
}

/** A joiner of a shared execution sees what its leader's fetches decided. */
export function copyNotes(from: object, to: object): void {
  const found = notes.get(from);
  if (!found || from === to) return;
  const target = notesFor(to);
  target.headers.push(...found.headers);
  target.fetched.push(...found.fetched);
  target.responseHeaders.push(...found.responseHeaders);
  target.errors.push(...found.errors);
}
