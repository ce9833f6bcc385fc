/**
 * Evaluating header rules (router/headers/rules.ts): the headers one subgraph fetch carries, the
 * part of a client request that decides them (what deduplication must key on), and the response
 * headers merged back to the client.
 */
import type {
  FetchedHeaders,
  HeaderDecision,
  ResponseHeaderDecision,
} from "../request-notes.ts";
import {
  RESERVED_HEADERS,
  type HeaderRules,
  type RequestRule,
} from "./rules.ts";

/** A client request's headers as Apollo Server and the gateway hold them (names in lower case). */
export interface ClientHeaders extends Iterable<[string, string]> {
  get(name: string): string | null | undefined;
}

export interface OutboundHeaders {
  /** Header → value to add to the fetch, before the router's own headers (which always win). */
  readonly headers: Readonly<Record<string, string>>;
  /** One entry per header sent or withheld, for the plan-debug view. */
  readonly decisions: readonly HeaderDecision[];
}

const EMPTY: OutboundHeaders = Object.freeze({ headers: {}, decisions: [] });

function rulesFor(
  rules: HeaderRules,
  subgraph: string,
): readonly RequestRule[] {
  const own = rules.subgraphs[subgraph];
  return own && own.length > 0 ? [...rules.all, ...own] : rules.all;
}

/**
 * The headers `subgraph`'s fetch carries for a client request with `client` headers. Rules run in
 * order (every subgraph's, then this subgraph's), each on what the previous ones built, so a
 * subgraph's `remove` can take back what `all` propagated.
 */
export function outboundHeaders(
  rules: HeaderRules,
  subgraph: string,
  client: ClientHeaders | undefined,
): OutboundHeaders {
  const list = rulesFor(rules, subgraph);
  if (list.length === 0) return EMPTY;
  const sent = new Map<string, { value: string; decision: HeaderDecision }>();
  const withheld: HeaderDecision[] = [];
  for (const rule of list) {
    switch (rule.kind) {
      case "propagate": {
        const value = client?.get(rule.named) ?? undefined;
        const header = rule.rename ?? rule.named;
        const from = rule.rename ? rule.named : undefined;
        if (value !== undefined)
          sent.set(header, {
            value,
            decision: {
              subgraph,
              header,
              action: "propagated",
              from,
              rule: rule.rule,
            },
          });
        else if (rule.default !== undefined)
          sent.set(header, {
            value: rule.default,
            decision: {
              subgraph,
              header,
              action: "defaulted",
              from,
              rule: rule.rule,
            },
          });
        break;
      }
      case "propagate-matching":
        for (const [name, value] of client ?? []) {
          if (!rule.matching.test(name)) continue;
          if (RESERVED_HEADERS.has(name)) {
            withheld.push({
              subgraph,
              header: name,
              action: "reserved",
              from: name,
              rule: rule.rule,
            });
            continue;
          }
          sent.set(name, {
            value,
            decision: {
              subgraph,
              header: name,
              action: "propagated",
              rule: rule.rule,
            },
          });
        }
        break;
      case "insert":
        sent.set(rule.name, {
          value: rule.value,
          decision: {
            subgraph,
            header: rule.name,
            action: "inserted",
            rule: rule.rule,
          },
        });
        break;
      case "remove":
        if (sent.delete(rule.named))
          withheld.push({
            subgraph,
            header: rule.named,
            action: "removed",
            rule: rule.rule,
          });
        break;
      case "remove-matching":
        for (const name of [...sent.keys()])
          if (rule.matching.test(name)) {
            sent.delete(name);
            withheld.push({
              subgraph,
              header: name,
              action: "removed",
              rule: rule.rule,
            });
          }
        break;
      default: {
        const unknown: never = rule;
        throw new Error(`unknown header rule ${JSON.stringify(unknown)}`);
      }
    }
  }
  const headers: Record<string, string> = {};
  const decisions: HeaderDecision[] = [];
  for (const [name, { value, decision }] of sent) {
    headers[name] = value;
    decisions.push(decision);
  }
  return { headers, decisions: [...decisions, ...withheld] };
}

/**
 * The part of a client request that header rules read, as one string: two requests may share one
 * execution or one subgraph fetch only when it is equal (router/deduplication.ts, the data source).
 * Undefined when requests must never share (a rule passes `Set-Cookie` back: a cookie meant for
 * one browser must not reach another that happened to ask the same thing at the same time).
 */
export function headerShareKey(
  rules: HeaderRules,
  client: ClientHeaders | undefined,
): string | undefined {
  if (rules.response.setCookieFrom !== undefined) return undefined;
  const named = new Set<string>();
  const patterns: RegExp[] = [];
  for (const rule of [...rules.all, ...Object.values(rules.subgraphs).flat()]) {
    if (rule.kind === "propagate") named.add(rule.named);
    else if (rule.kind === "propagate-matching") patterns.push(rule.matching);
  }
  if (named.size === 0 && patterns.length === 0) return "";
  const read: Array<[string, string]> = [];
  for (const [name, value] of client ?? [])
    if (named.has(name) || patterns.some((pattern) => pattern.test(name)))
      read.push([name, value]);
  read.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(read);
}

/** The response headers of one subgraph fetch that a response rule may use (nothing when none is configured). */
export function fetchedHeaders(
  rules: HeaderRules,
  subgraph: string,
  response:
    | {
        readonly cacheControl: string | undefined;
        readonly setCookie: readonly string[];
      }
    | undefined,
): FetchedHeaders | undefined {
  const { cacheControl, setCookieFrom } = rules.response;
  if (cacheControl === "off" && setCookieFrom !== subgraph) return undefined;
  return {
    subgraph,
    cacheControl: cacheControl === "off" ? undefined : response?.cacheControl,
    setCookie: setCookieFrom === subgraph ? (response?.setCookie ?? []) : [],
  };
}

interface CachePolicy {
  noStore: boolean;
  noCache: boolean;
  private: boolean;
  public: boolean;
  maxAge: number | undefined;
  sMaxAge: number | undefined;
}

function parseCacheControl(value: string | undefined): CachePolicy {
  // No header, or one the router cannot read, allows no caching: the merge may only get stricter.
  const policy: CachePolicy = {
    noStore: value === undefined,
    noCache: false,
    private: false,
    public: false,
    maxAge: undefined,
    sMaxAge: undefined,
  };
  for (const part of (value ?? "").split(",")) {
    const [rawName, rawValue] = part.trim().split("=", 2) as [
      string,
      string | undefined,
    ];
    const name = rawName.toLowerCase();
    const seconds =
      rawValue !== undefined && /^\d+$/.test(rawValue.replace(/"/g, ""))
        ? Number(rawValue.replace(/"/g, ""))
        : undefined;
    if (name === "no-store") policy.noStore = true;
    else if (name === "no-cache") policy.noCache = true;
    else if (name === "private") policy.private = true;
    else if (name === "public") policy.public = true;
    else if (name === "max-age" && seconds !== undefined)
      policy.maxAge = seconds;
    else if (name === "s-maxage" && seconds !== undefined)
      policy.sMaxAge = seconds;
  }
  if (value !== undefined && policy.maxAge === undefined && !policy.noCache)
    policy.noStore = true;
  return policy;
}

/**
 * The most restrictive of the given `Cache-Control` values: `no-store` when any forbids storing (or
 * sent none), else `no-cache` when any requires revalidation, else the smallest `max-age` (and
 * `s-maxage` only when every one gives it), `private` when any is private, `public` only when all are.
 */
export function mostRestrictiveCacheControl(
  values: readonly (string | undefined)[],
): string {
  if (values.length === 0) return "no-store";
  const policies = values.map(parseCacheControl);
  if (policies.some((policy) => policy.noStore)) return "no-store";
  const visibility = policies.some((policy) => policy.private)
    ? ["private"]
    : policies.every((policy) => policy.public)
      ? ["public"]
      : [];
  if (policies.some((policy) => policy.noCache))
    return [...visibility, "no-cache"].join(", ");
  const maxAge = Math.min(...policies.map((policy) => policy.maxAge!));
  const sMaxAges = policies.map((policy) => policy.sMaxAge);
  const parts = [...visibility, `max-age=${maxAge}`];
  if (
    !visibility.includes("private") &&
    sMaxAges.every((age) => age !== undefined)
  )
    parts.push(`s-maxage=${Math.min(...(sMaxAges as number[]))}`);
  return parts.join(", ");
}

/** The headers the client response gets from its subgraph fetches, by the response rules. */
export function responseHeaders(
  rules: HeaderRules,
  fetched: readonly FetchedHeaders[],
): ResponseHeaderDecision[] {
  const decisions: ResponseHeaderDecision[] = [];
  if (rules.response.cacheControl === "most-restrictive" && fetched.length > 0)
    decisions.push({
      header: "cache-control",
      value: mostRestrictiveCacheControl(
        fetched.map((fetch) => fetch.cacheControl),
      ),
      from: [...new Set(fetched.map((fetch) => fetch.subgraph))],
    });
  const cookies = fetched.filter((fetch) => fetch.setCookie.length > 0);
  for (const fetch of cookies)
    for (const value of fetch.setCookie)
      decisions.push({ header: "set-cookie", value, from: [fetch.subgraph] });
  return decisions;
}
