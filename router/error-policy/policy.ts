/**
 * Subgraph error policy (`router.subgraph_errors` in switchyard.yaml, `ROUTER_SUBGRAPH_ERRORS` as
 * JSON): per subgraph (falling back to `all`, then to today's behaviour), how the errors a subgraph
 * answers with reach the client. docs/error-policy.md.
 *
 * - `mode`: `mask` (generic message, documented code kept), `pass-through` (the subgraph's message
 *   and code, even in production), `wrap` (one SUBGRAPH_ERROR per fetch holding the originals).
 *   Unset: today — coded errors pass, the rest are masked by the router's formatError in production.
 * - `extensions`: the extension keys that survive (`code` always does; `service` names the subgraph).
 * - `status`: the HTTP status of a response carrying this subgraph's errors (`subgraph`: its own).
 * - `on_4xx`: a subgraph's 4xx is its `answer` (today), a `client-error`, or `unavailable`.
 *
 * Failures the router makes itself (5xx, network, timeout → SUBGRAPH_UNAVAILABLE / SUBGRAPH_TIMEOUT)
 * are already generic and keep their code under every mode; `status` applies to them too.
 */
import type { GraphQLFormattedError } from "graphql";
import { ERROR_CODES, type ErrorCode } from "../../platform/errors.ts";
import type { JsonSchema } from "../../platform/settings.ts";
import { perSubgraphSchema } from "../per-subgraph-schema.ts";

export const ERROR_MODES = ["mask", "pass-through", "wrap"] as const;
export type ErrorMode = (typeof ERROR_MODES)[number];
export const ON_4XX = ["answer", "client-error", "unavailable"] as const;
export type On4xx = (typeof ON_4XX)[number];

export interface SubgraphErrorPolicy {
  /** Undefined: today's behaviour (the router's formatError decides). */
  readonly mode: ErrorMode | undefined;
  /** Extension keys that survive a mode; undefined: all but `stacktrace` and `exception`. */
  readonly extensions: readonly string[] | undefined;
  /** HTTP status of a response with this subgraph's errors; undefined: Apollo Server's (200 with partial data). */
  readonly status: number | "subgraph" | undefined;
  readonly on4xx: On4xx;
}

export interface ErrorPolicies {
  readonly all: SubgraphErrorPolicy;
  readonly subgraphs: Readonly<Record<string, Partial<SubgraphErrorPolicy>>>;
}

const TODAY: SubgraphErrorPolicy = Object.freeze({
  mode: undefined,
  extensions: undefined,
  status: undefined,
  on4xx: "answer",
});

/** No policy configured: every subgraph as before policies existed. */
export const NO_ERROR_POLICIES: ErrorPolicies = Object.freeze({
  all: TODAY,
  subgraphs: {},
});

/** `subgraph`'s policy: its own fields, else `all`'s. */
export function policyFor(
  policies: ErrorPolicies,
  subgraph: string,
): SubgraphErrorPolicy {
  const own = policies.subgraphs[subgraph];
  if (!own) return policies.all;
  return {
    mode: own.mode ?? policies.all.mode,
    extensions: own.extensions ?? policies.all.extensions,
    status: own.status ?? policies.all.status,
    on4xx: own.on4xx ?? policies.all.on4xx,
  };
}

export function isToday(policy: SubgraphErrorPolicy): boolean {
  return (
    policy.mode === undefined &&
    policy.extensions === undefined &&
    policy.status === undefined &&
    policy.on4xx === "answer"
  );
}

const policySchema: JsonSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    mode: { type: "string", enum: [...ERROR_MODES] },
    extensions: { type: "array", items: { type: "string" } },
    status: {
      anyOf: [
        { type: "integer", minimum: 200, maximum: 599 },
        { type: "string", enum: ["subgraph"] },
      ],
    },
    on_4xx: { type: "string", enum: [...ON_4XX] },
  },
};

export const ERROR_POLICIES_SCHEMA: JsonSchema =
  perSubgraphSchema(policySchema);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` when it is one of `values`; otherwise an error naming `path` and the choices. */
function oneOfAt<const V extends string>(
  path: string,
  values: readonly V[],
  value: unknown,
): V {
  if (!(values as readonly unknown[]).includes(value))
    throw new Error(
      `${path} must be one of ${values.join(", ")}, got ${JSON.stringify(value)}`,
    );
  return value as V;
}

function parsePolicy(raw: unknown, path: string): Partial<SubgraphErrorPolicy> {
  if (raw === null || raw === undefined) return {};
  if (!isRecord(raw)) throw new Error(`${path} must be a mapping`);
  const policy: {
    -readonly [K in keyof SubgraphErrorPolicy]?: SubgraphErrorPolicy[K];
  } = {};
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case "mode":
        policy.mode = oneOfAt(`${path}.mode`, ERROR_MODES, value);
        break;
      case "extensions":
        if (
          !Array.isArray(value) ||
          !value.every((item) => typeof item === "string" && item !== "")
        )
          throw new Error(
            `${path}.extensions must be a list of extension keys`,
          );
        policy.extensions = Object.freeze([...(value as string[])]);
        break;
      case "status":
        if (value === "subgraph") policy.status = "subgraph";
        else if (
          Number.isInteger(value) &&
          (value as number) >= 200 &&
          (value as number) <= 599
        )
          policy.status = value as number;
        else
          throw new Error(
            `${path}.status must be an HTTP status (200–599) or "subgraph", got ${JSON.stringify(value)}`,
          );
        break;
      case "on_4xx":
        policy.on4xx = oneOfAt(`${path}.on_4xx`, ON_4XX, value);
        break;
      default:
        throw new Error(
          `${path} has an unknown key ${JSON.stringify(key)} (expected mode, extensions, status, on_4xx)`,
        );
    }
  }
  return Object.freeze(policy);
}

/** Parses and checks `router.subgraph_errors`; throws a plain Error naming the wrong key. */
export function parseErrorPolicies(raw: unknown): ErrorPolicies {
  if (raw === undefined || raw === null) return NO_ERROR_POLICIES;
  if (!isRecord(raw)) throw new Error("must be a mapping with all, subgraphs");
  for (const key of Object.keys(raw))
    if (key !== "all" && key !== "subgraphs")
      throw new Error(
        `has an unknown key ${JSON.stringify(key)} (expected all, subgraphs)`,
      );
  const subgraphs: Record<string, Partial<SubgraphErrorPolicy>> = {};
  if (raw.subgraphs !== undefined && raw.subgraphs !== null) {
    if (!isRecord(raw.subgraphs))
      throw new Error("subgraphs must map subgraph names to policies");
    for (const [name, policy] of Object.entries(raw.subgraphs))
      subgraphs[name] = parsePolicy(policy, `subgraphs.${name}`);
  }
  return Object.freeze({
    all: Object.freeze({ ...TODAY, ...parsePolicy(raw.all, "all") }),
    subgraphs: Object.freeze(subgraphs),
  });
}

// ---- applying a policy -----------------------------------------------------------------------

/** What a subgraph fetch ended with, as far as error policy is concerned. */
export type ErrorKind = "graphql" | "4xx" | "5xx" | "network" | "timeout";

/**
 * Put on every error a policy rewrote (a symbol-keyed extension: object spreads keep it, JSON drops
 * it, so it follows the error through the gateway and never reaches a client). The router's
 * formatError sends exactly `message` and `extensions` for such an error, unmasked, and the
 * status plugin reads `status`.
 */
export const POLICY_APPLIED: unique symbol = Symbol("switchyard.errorPolicy");

export interface PolicyMark {
  readonly message: string;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly status: number | undefined;
  /** Only the status is the policy's: message and extensions stay today's (formatError decides). */
  readonly statusOnly?: boolean;
}

type MarkedExtensions = Record<string, unknown> & {
  [POLICY_APPLIED]?: PolicyMark;
};

/** A GraphQL error as it travels in a subgraph response, possibly marked. */
export interface SubgraphError {
  readonly message: string;
  readonly path?: ReadonlyArray<string | number>;
  readonly locations?: GraphQLFormattedError["locations"];
  readonly extensions?: MarkedExtensions;
}

const KNOWN_CODES = new Set<string>(Object.keys(ERROR_CODES));
/** Never survive a default allow-list: they describe the subgraph's code, not the client's request. */
const NEVER_BY_DEFAULT = new Set(["stacktrace", "exception"]);

function allowedExtensions(
  extensions: Readonly<Record<string, unknown>> | undefined,
  allow: readonly string[] | undefined,
): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(extensions ?? {}))
    if (allow ? allow.includes(key) : !NEVER_BY_DEFAULT.has(key))
      kept[key] = value;
  return kept;
}

function documentedCode(code: unknown): ErrorCode {
  return typeof code === "string" && KNOWN_CODES.has(code)
    ? (code as ErrorCode)
    : "INTERNAL_SERVER_ERROR";
}

/** The HTTP status `policy` gives a response with an error of `kind` from a reply of `httpStatus`. */
export function statusFor(
  policy: SubgraphErrorPolicy,
  kind: ErrorKind,
  httpStatus: number | undefined,
): number | undefined {
  if (policy.status === undefined) return undefined;
  if (policy.status !== "subgraph") return policy.status;
  if (httpStatus !== undefined && httpStatus >= 400) return httpStatus;
  return kind === "timeout"
    ? 504
    : kind === "network" || kind === "5xx"
      ? 502
      : 200;
}

function mark(error: SubgraphError, status: number | undefined): SubgraphError {
  const extensions: MarkedExtensions = { ...(error.extensions ?? {}) };
  const { message } = error;
  const visible = { ...extensions };
  delete visible[POLICY_APPLIED];
  extensions[POLICY_APPLIED] = Object.freeze({
    message,
    extensions: Object.freeze(visible),
    status,
  });
  return { ...error, extensions };
}

/** A subgraph's own extensions never carry a mark: only this module's output may. */
function unmarked(error: SubgraphError): SubgraphError {
  if (!error.extensions || !(POLICY_APPLIED in error.extensions)) return error;
  const extensions = { ...error.extensions };
  delete extensions[POLICY_APPLIED];
  return { ...error, extensions };
}

/**
 * The errors of one subgraph answer as `policy` says the client sees them. Returns `errors`
 * untouched under today's policy; otherwise marked errors (see POLICY_APPLIED).
 */
export function applyErrorPolicy(
  policy: SubgraphErrorPolicy,
  subgraph: string,
  errors: readonly SubgraphError[],
  { kind, httpStatus }: { kind: ErrorKind; httpStatus: number | undefined },
): SubgraphError[] {
  const status = statusFor(policy, kind, httpStatus);
  const clean = errors.map(unmarked);
  if (policy.mode === undefined) {
    // Today's messages (the router's formatError still masks in production), fewer extensions.
    const filtered =
      policy.extensions === undefined
        ? clean
        : clean.map((error) => ({
            ...error,
            extensions: {
              ...allowedExtensions(error.extensions, policy.extensions),
              ...(error.extensions?.code === undefined
                ? {}
                : { code: error.extensions.code }),
            },
          }));
    return status === undefined
      ? filtered
      : filtered.map((error) => markStatusOnly(error, status));
  }
  switch (policy.mode) {
    case "wrap": {
      const inner = clean.map((error) => ({
        message: error.message,
        ...(error.path ? { path: error.path } : {}),
        extensions: allowedExtensions(error.extensions, policy.extensions),
      }));
      return [
        mark(
          {
            message: `The ${subgraph} service answered with errors`,
            extensions: {
              code: "SUBGRAPH_ERROR",
              service: subgraph,
              errors: inner,
            },
          },
          status,
        ),
      ];
    }
    case "mask":
      return clean.map((error) =>
        mark(
          {
            message: `The ${subgraph} service failed`,
            ...(error.path ? { path: error.path } : {}),
            ...(error.locations ? { locations: error.locations } : {}),
            extensions: {
              ...allowedExtensions(error.extensions, policy.extensions ?? []),
              code: documentedCode(error.extensions?.code),
              service: subgraph,
            },
          },
          status,
        ),
      );
    case "pass-through":
      return clean.map((error) =>
        mark(
          {
            ...error,
            extensions: {
              ...allowedExtensions(error.extensions, policy.extensions),
              code:
                typeof error.extensions?.code === "string"
                  ? error.extensions.code
                  : "SUBGRAPH_ERROR",
              service: subgraph,
            },
          },
          status,
        ),
      );
    default: {
      const unknown: never = policy.mode;
      throw new Error(`unknown error mode ${String(unknown)}`);
    }
  }
}

/**
 * Today's message and extensions with a status: the router's formatError still decides what the
 * client sees (the mark's message is empty), only the status plugin reads it.
 */
export function markStatusOnly(
  error: SubgraphError,
  status: number,
): SubgraphError {
  return {
    ...error,
    extensions: {
      ...(error.extensions ?? {}),
      [POLICY_APPLIED]: Object.freeze({
        message: "",
        extensions: {},
        status,
        statusOnly: true,
      }),
    },
  };
}

/** The error a subgraph's 4xx becomes under `on_4xx: client-error`, by its status. */
export function clientErrorCode(status: number): ErrorCode {
  switch (status) {
    case 401:
      return "UNAUTHENTICATED";
    case 403:
      return "FORBIDDEN";
    case 404:
      return "NOT_FOUND";
    default:
      return "BAD_REQUEST";
  }
}

export function markOf(extensions: unknown): PolicyMark | undefined {
  if (typeof extensions !== "object" || extensions === null) return undefined;
  return (extensions as MarkedExtensions)[POLICY_APPLIED];
}
