/**
 * Header rules (`router.headers` in switchyard.yaml, `ROUTER_HEADERS` as JSON): which client request
 * headers a subgraph fetch carries (`propagate`, `insert`, `remove`; for all subgraphs, then per
 * subgraph, in order), and which subgraph response headers reach the client (`Cache-Control`
 * merged to the most restrictive, `Set-Cookie` from one named subgraph). docs/headers.md.
 *
 * The router owns some headers outright: the client's `authorization` (verified at the edge and
 * never forwarded: subgraphs trust only the router token), the router token itself, the signed
 * service-call headers, the trace and request-id headers and the HTTP framing. A rule that names
 * one is refused when the configuration loads (HEADER_RULE_RESERVED); a `matching` rule that
 * happens to match one skips it (the decision is recorded as `reserved`). Whatever a rule does,
 * the data source writes the router's own headers after the rules, so none can be overridden.
 */
import { INTERNAL_TOKEN_HEADER } from "../../platform/internal-token.ts";
import { SERVICE_HEADERS } from "../../platform/service-auth.ts";
import { REQUEST_ID_HEADER } from "../../platform/correlation.ts";
import type { JsonSchema } from "../../platform/settings.ts";
import { perSubgraphSchema } from "../per-subgraph-schema.ts";

/** Headers no rule may send to a subgraph. Lower case. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  "authorization",
  "proxy-authorization",
  INTERNAL_TOKEN_HEADER,
  SERVICE_HEADERS.name,
  SERVICE_HEADERS.timestamp,
  SERVICE_HEADERS.signature,
  REQUEST_ID_HEADER,
  "traceparent",
  "tracestate",
  "baggage",
  "host",
  "content-type",
  "content-length",
  "content-encoding",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "expect",
  "accept-encoding",
]);

/** Codes of a refused header configuration (in the ConfigError's text, and on HeaderRuleError). */
export type HeaderRuleCode = "HEADER_RULE_RESERVED" | "HEADER_RULE_INVALID";

export class HeaderRuleError extends Error {
  constructor(
    readonly code: HeaderRuleCode,
    readonly path: string,
    problem: string,
  ) {
    super(`${path}: ${problem} (${code})`);
    this.name = "HeaderRuleError";
  }
}

export type RequestRule =
  | {
      readonly kind: "propagate";
      readonly rule: string;
      readonly named: string;
      readonly rename: string | undefined;
      readonly default: string | undefined;
    }
  | {
      readonly kind: "propagate-matching";
      readonly rule: string;
      readonly matching: RegExp;
    }
  | {
      readonly kind: "insert";
      readonly rule: string;
      readonly name: string;
      readonly value: string;
    }
  | { readonly kind: "remove"; readonly rule: string; readonly named: string }
  | {
      readonly kind: "remove-matching";
      readonly rule: string;
      readonly matching: RegExp;
    };

export interface HeaderRules {
  /** Applied to every subgraph fetch, before the subgraph's own. */
  readonly all: readonly RequestRule[];
  readonly subgraphs: Readonly<Record<string, readonly RequestRule[]>>;
  readonly response: {
    /** Merge every fetched response's `Cache-Control` into the most restrictive one. */
    readonly cacheControl: "most-restrictive" | "off";
    /** The one subgraph whose `Set-Cookie` reaches the client; undefined: none does (today). */
    readonly setCookieFrom: string | undefined;
  };
}

/** No rules: what the router did before header rules existed. */
export const NO_HEADER_RULES: HeaderRules = Object.freeze({
  all: [],
  subgraphs: {},
  response: { cacheControl: "off" as const, setCookieFrom: undefined },
});

export function hasRequestRules(rules: HeaderRules): boolean {
  return (
    rules.all.length > 0 ||
    Object.values(rules.subgraphs).some((list) => list.length > 0)
  );
}

/** RFC 9110 token: what a header name may be. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** No CR, LF or NUL: a value that cannot split a request. */
const SAFE_VALUE = /^[^\r\n\0]*$/;

const nameSchema: JsonSchema = { type: "string", pattern: TOKEN.source };
const ruleSchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
  properties: {
    propagate: {
      type: "object",
      additionalProperties: false,
      properties: {
        named: nameSchema,
        matching: {
          type: "string",
          description: "regular expression over lower-case names",
        },
        rename: nameSchema,
        default: { type: "string" },
      },
    },
    insert: {
      type: "object",
      additionalProperties: false,
      required: ["name", "value"],
      properties: { name: nameSchema, value: { type: "string" } },
    },
    remove: {
      type: "object",
      additionalProperties: false,
      properties: { named: nameSchema, matching: { type: "string" } },
    },
  },
};
const rulesOf: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: { request: { type: "array", items: ruleSchema } },
};

/** What the file accepts under `router.headers` (editors complete it from the generated schema). */
export const HEADER_RULES_SCHEMA: JsonSchema = perSubgraphSchema(rulesOf, {
  response: {
    type: "object",
    additionalProperties: false,
    properties: {
      cache_control: { type: "string", enum: ["most-restrictive", "off"] },
      set_cookie_from: { type: "string" },
    },
  },
});

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(path: string, problem: string): never {
  throw new HeaderRuleError("HEADER_RULE_INVALID", path, problem);
}

function onlyKeys(
  value: Record<string, unknown>,
  path: string,
  allowed: readonly string[],
) {
  for (const key of Object.keys(value))
    if (!allowed.includes(key))
      invalid(
        path,
        `unknown key ${JSON.stringify(key)} (expected ${allowed.join(", ")})`,
      );
}

function headerName(value: unknown, path: string): string {
  if (typeof value !== "string" || !TOKEN.test(value))
    invalid(path, `must be a header name, got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

function sendable(name: string, path: string): string {
  if (RESERVED_HEADERS.has(name))
    throw new HeaderRuleError(
      "HEADER_RULE_RESERVED",
      path,
      `must not send ${JSON.stringify(name)}: the router owns it (authorization and the router token never reach a subgraph from a rule)`,
    );
  return name;
}

function headerValue(value: unknown, path: string): string {
  if (typeof value !== "string" || !SAFE_VALUE.test(value))
    invalid(path, "must be a string without line breaks");
  return value;
}

function pattern(value: unknown, path: string): RegExp {
  if (typeof value !== "string" || value === "")
    invalid(path, "must be a regular expression");
  try {
    // Names are compared in lower case; `i` so `^X-Feature-` means what its author meant.
    return new RegExp(value, "i");
  } catch (error) {
    return invalid(
      path,
      `is not a valid regular expression: ${(error as Error).message}`,
    );
  }
}

function parseRule(raw: unknown, rule: string): RequestRule {
  if (!isRecord(raw) || Object.keys(raw).length !== 1)
    invalid(
      rule,
      "must be one of { propagate: … }, { insert: … }, { remove: … }",
    );
  const [kind, body] = Object.entries(raw)[0]!;
  if (!isRecord(body)) invalid(`${rule}.${kind}`, "must be a mapping");
  const at = `${rule}.${kind}`;
  switch (kind) {
    case "propagate": {
      onlyKeys(body, at, ["named", "matching", "rename", "default"]);
      if ((body.named === undefined) === (body.matching === undefined))
        invalid(at, "needs exactly one of named, matching");
      if (body.matching !== undefined) {
        if (body.rename !== undefined || body.default !== undefined)
          invalid(
            at,
            "rename and default need named (a pattern names no single header)",
          );
        return {
          kind: "propagate-matching",
          rule,
          matching: pattern(body.matching, `${at}.matching`),
        };
      }
      const named = headerName(body.named, `${at}.named`);
      const rename =
        body.rename === undefined
          ? undefined
          : sendable(headerName(body.rename, `${at}.rename`), `${at}.rename`);
      // The name sent is the one checked: renaming a harmless header to `authorization` is refused,
      // and so is forwarding the client's `authorization` under another name.
      sendable(named, `${at}.named`);
      return {
        kind: "propagate",
        rule,
        named,
        rename,
        default:
          body.default === undefined
            ? undefined
            : headerValue(body.default, `${at}.default`),
      };
    }
    case "insert":
      onlyKeys(body, at, ["name", "value"]);
      return {
        kind: "insert",
        rule,
        name: sendable(headerName(body.name, `${at}.name`), `${at}.name`),
        value: headerValue(body.value, `${at}.value`),
      };
    case "remove":
      onlyKeys(body, at, ["named", "matching"]);
      if ((body.named === undefined) === (body.matching === undefined))
        invalid(at, "needs exactly one of named, matching");
      return body.matching !== undefined
        ? {
            kind: "remove-matching",
            rule,
            matching: pattern(body.matching, `${at}.matching`),
          }
        : {
            kind: "remove",
            rule,
            named: headerName(body.named, `${at}.named`),
          };
    default:
      return invalid(
        rule,
        `unknown rule ${JSON.stringify(kind)} (expected propagate, insert or remove)`,
      );
  }
}

function parseRequestRules(raw: unknown, path: string): RequestRule[] {
  if (raw === undefined || raw === null) return [];
  if (!isRecord(raw)) invalid(path, "must be a mapping with `request`");
  onlyKeys(raw, path, ["request"]);
  if (raw.request === undefined || raw.request === null) return [];
  if (!Array.isArray(raw.request))
    invalid(`${path}.request`, "must be a list of rules");
  return raw.request.map((rule, index) =>
    parseRule(rule, `${path}.request[${index}]`),
  );
}

/** Parses and checks `router.headers`; throws a HeaderRuleError naming the rule that is wrong. */
export function parseHeaderRules(raw: unknown): HeaderRules {
  if (raw === undefined || raw === null) return NO_HEADER_RULES;
  if (!isRecord(raw))
    invalid("headers", "must be a mapping with all, subgraphs, response");
  onlyKeys(raw, "headers", ["all", "subgraphs", "response"]);
  const subgraphs: Record<string, readonly RequestRule[]> = {};
  if (raw.subgraphs !== undefined && raw.subgraphs !== null) {
    if (!isRecord(raw.subgraphs))
      invalid("subgraphs", "must map subgraph names to rules");
    for (const [name, rules] of Object.entries(raw.subgraphs))
      subgraphs[name] = Object.freeze(
        parseRequestRules(rules, `subgraphs.${name}`),
      );
  }
  let cacheControl: "most-restrictive" | "off" = "off";
  let setCookieFrom: string | undefined;
  if (raw.response !== undefined && raw.response !== null) {
    if (!isRecord(raw.response)) invalid("response", "must be a mapping");
    onlyKeys(raw.response, "response", ["cache_control", "set_cookie_from"]);
    const cache = raw.response.cache_control;
    if (cache !== undefined) {
      if (cache !== "most-restrictive" && cache !== "off")
        invalid(
          "response.cache_control",
          `must be most-restrictive or off, got ${JSON.stringify(cache)}`,
        );
      cacheControl = cache;
    }
    const from = raw.response.set_cookie_from;
    if (from !== undefined && from !== null) {
      if (typeof from !== "string" || from === "")
        invalid("response.set_cookie_from", "must name one subgraph");
      setCookieFrom = from;
    }
  }
  return Object.freeze({
    all: Object.freeze(parseRequestRules(raw.all, "all")),
    subgraphs: Object.freeze(subgraphs),
    response: Object.freeze({ cacheControl, setCookieFrom }),
  });
}
