import { GraphQLError } from "graphql";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { loadRouterConfig } from "../../../../router/config.ts";
import { withErrorPolicy } from "../../../../router/error-policy/plugin.ts";
import {
  markOf,
  NO_ERROR_POLICIES,
  parseErrorPolicies,
  policyFor,
  type SubgraphErrorPolicy,
} from "../../../../router/error-policy/policy.ts";
import {
  errorKindOf,
  settleErrors,
} from "../../../../router/error-policy/subgraph-errors.ts";
import { SubgraphFailure } from "../../../../router/subgraph-pool.ts";
import { notesFor } from "../../../../router/request-notes.ts";

const silent = pino({ level: "silent" });
const ORIGINAL = {
  message: "relation products.secret does not exist",
  path: ["product"],
  extensions: { code: "ECHO_REFUSED", detail: "d", stacktrace: ["at x.ts:1"] },
};
const UNAVAILABLE = {
  errors: [
    {
      message: "The products service is unavailable",
      extensions: { code: "SUBGRAPH_UNAVAILABLE", service: "products" },
    },
  ],
};

type Case = {
  kind: "graphql" | "4xx" | "4xx-no-body" | "5xx" | "network";
};

/** One fetch's response as the data source would hand it to the policy, per error kind. */
function settle(policy: SubgraphErrorPolicy, { kind }: Case) {
  const unavailable = () => structuredClone(UNAVAILABLE);
  const reply = (status: number) => ({ reply: { status } });
  const input =
    kind === "graphql"
      ? {
          outcome: reply(200),
          response: { data: { product: null }, errors: [ORIGINAL] },
          routerMade: false,
        }
      : kind === "4xx"
        ? {
            outcome: reply(400),
            response: { errors: [ORIGINAL] },
            routerMade: false,
          }
        : kind === "4xx-no-body"
          ? { outcome: reply(404), response: unavailable(), routerMade: true }
          : kind === "5xx"
            ? {
                outcome: {
                  failure: {},
                  cause: new SubgraphFailure("http", "500", { status: 500 }),
                },
                response: unavailable(),
                routerMade: true,
              }
            : {
                outcome: {
                  failure: {},
                  cause: new SubgraphFailure("network", "reset"),
                },
                response: unavailable(),
                routerMade: true,
              };
  const notes = notesFor({});
  const result = settleErrors({
    policy,
    subgraph: "products",
    response: input.response,
    routerMade: input.routerMade,
    ...errorKindOf(input.outcome),
    unavailable,
    notes,
    logger: silent,
  });
  // What a client sees: through the router's formatError (production masking) with the policy on top.
  const format = withErrorPolicy((formatted) =>
    typeof formatted.extensions?.code === "string" &&
    [
      "SUBGRAPH_UNAVAILABLE",
      "BAD_REQUEST",
      "NOT_FOUND",
      "INTERNAL_SERVER_ERROR",
    ].includes(formatted.extensions.code)
      ? formatted
      : {
          message: "Internal server error",
          extensions: { code: "INTERNAL_SERVER_ERROR" },
        },
  );
  const seen = (result.errors ?? []).map((error) => {
    const graphqlError = new GraphQLError(error.message, {
      path: error.path,
      extensions: { ...error.extensions, serviceName: "products" },
    });
    return format(graphqlError.toJSON(), graphqlError);
  });
  const status = (result.errors ?? []).map(
    (error) => markOf(error.extensions)?.status,
  );
  return { result, seen, status, notes };
}

const policy = (raw: unknown) =>
  policyFor(parseErrorPolicies({ subgraphs: { products: raw } }), "products");

describe("subgraph error policy: policy × error kind", () => {
  const kinds: Case["kind"][] = [
    "graphql",
    "4xx",
    "4xx-no-body",
    "5xx",
    "network",
  ];

  it.each(kinds)(
    "no policy, %s: the response is passed on untouched (today)",
    (kind) => {
      const today = policyFor(NO_ERROR_POLICIES, "products");
      const { seen, result } = settle(today, { kind });
      if (kind === "graphql" || kind === "4xx") {
        expect(result.errors?.[0]).toBe(ORIGINAL);
        // …and the router's production formatError masks it, as it always did.
        expect(seen[0]).toEqual({
          message: "Internal server error",
          extensions: { code: "INTERNAL_SERVER_ERROR" },
        });
      } else expect(seen[0]?.extensions?.code).toBe("SUBGRAPH_UNAVAILABLE");
    },
  );

  /**
   * What each mode turns an answered error into (a GraphQL error, or a 4xx with a GraphQL body);
   * the kinds with no error to keep (4xx-no-body, 5xx, network) are SUBGRAPH_UNAVAILABLE in every mode.
   */
  const answered: Record<string, unknown> = {
    mask: {
      message: "The products service failed",
      path: ["product"],
      extensions: { code: "INTERNAL_SERVER_ERROR", service: "products" },
    },
    "pass-through": {
      message: ORIGINAL.message,
      path: ["product"],
      extensions: { code: "ECHO_REFUSED", detail: "d", service: "products" },
    },
    wrap: {
      message: "The products service answered with errors",
      extensions: {
        code: "SUBGRAPH_ERROR",
        service: "products",
        errors: [
          {
            message: ORIGINAL.message,
            path: ["product"],
            extensions: { code: "ECHO_REFUSED", detail: "d" },
          },
        ],
      },
    },
  };
  for (const [mode, want] of Object.entries(answered))
    it.each(kinds)(`${mode}, %s`, (kind) => {
      const { seen } = settle(policy({ mode }), { kind });
      expect(seen).toHaveLength(1);
      if (kind === "graphql" || kind === "4xx") {
        expect(seen[0]).toEqual(want);
        // The stack a subgraph sent never survives a policy, nor does the gateway's serviceName.
        expect(JSON.stringify(seen)).not.toMatch(
          /stacktrace|serviceName|x\.ts:1/,
        );
      } else expect(seen[0]?.extensions?.code).toBe("SUBGRAPH_UNAVAILABLE");
    });

  it("an allow-list keeps only the listed extension keys (code and service always)", () => {
    expect(
      settle(policy({ mode: "pass-through", extensions: [] }), {
        kind: "graphql",
      }).seen[0]?.extensions,
    ).toEqual({
      code: "ECHO_REFUSED",
      service: "products",
    });
    expect(
      settle(policy({ mode: "mask", extensions: ["detail"] }), {
        kind: "graphql",
      }).seen[0]?.extensions,
    ).toEqual({
      code: "INTERNAL_SERVER_ERROR",
      detail: "d",
      service: "products",
    });
  });

  it.each([
    ["answer", "graphql", "ECHO_REFUSED"],
    ["client-error", "4xx", "BAD_REQUEST"],
    ["client-error", "4xx-no-body", "NOT_FOUND"],
    ["unavailable", "4xx", "SUBGRAPH_UNAVAILABLE"],
    ["unavailable", "4xx-no-body", "SUBGRAPH_UNAVAILABLE"],
  ] as const)("on_4xx: %s turns a %s into %s", (on4xx, kind, code) => {
    const case4xx = kind === "graphql" ? "4xx" : kind;
    const { seen } = settle(policy({ mode: "pass-through", on_4xx: on4xx }), {
      kind: case4xx,
    });
    expect(seen[0]?.extensions?.code).toBe(code);
  });

  it.each([
    [502, "graphql", 502],
    [502, "network", 502],
    ["subgraph", "graphql", 200],
    ["subgraph", "4xx", 400],
    ["subgraph", "5xx", 500],
    ["subgraph", "network", 502],
  ] as const)(
    "status %s on %s gives the response HTTP %s",
    (status, kind, expectedStatus) => {
      expect(settle(policy({ status }), { kind }).status).toEqual([
        expectedStatus,
      ]);
    },
  );

  it("a status alone keeps today's messages and masking", () => {
    const { seen, status } = settle(policy({ status: 502 }), {
      kind: "graphql",
    });
    expect(status).toEqual([502]);
    expect(seen[0]).toEqual({
      message: "Internal server error",
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    });
  });

  it("records the original beside what the client got, for the plan-debug view", () => {
    const { notes } = settle(policy({ mode: "mask" }), { kind: "graphql" });
    expect(notes.errors).toEqual([
      {
        subgraph: "products",
        mode: "mask",
        kind: "graphql",
        original: [ORIGINAL],
        sent: [
          {
            message: "The products service failed",
            path: ["product"],
            extensions: { code: "INTERNAL_SERVER_ERROR", service: "products" },
          },
        ],
      },
    ]);
  });

  it("tells the kinds of failure apart: an open breaker is a network failure, a passed deadline a timeout", () => {
    expect(
      errorKindOf({ failure: {}, cause: new SubgraphFailure("open", "open") })
        .kind,
    ).toBe("network");
    expect(
      errorKindOf({
        failure: {},
        cause: new SubgraphFailure("timeout", "slow"),
      }).kind,
    ).toBe("timeout");
    expect(
      errorKindOf({
        failure: {},
        cause: new SubgraphFailure("http", "429", { status: 429 }),
      }),
    ).toEqual({
      kind: "4xx",
      httpStatus: 429,
      replied: false,
    });
    expect(errorKindOf({ failure: {} }).kind).toBe("timeout");
  });

  it("falls back per field: a subgraph's own policy, then `all`, then today", () => {
    const policies = parseErrorPolicies({
      all: { mode: "mask", status: 502 },
      subgraphs: { payments: { mode: "pass-through" } },
    });
    expect(policyFor(policies, "payments")).toEqual({
      mode: "pass-through",
      extensions: undefined,
      status: 502,
      on4xx: "answer",
    });
    expect(policyFor(policies, "users")).toEqual({
      mode: "mask",
      extensions: undefined,
      status: 502,
      on4xx: "answer",
    });
    expect(loadRouterConfig({}).subgraphErrors).toBe(NO_ERROR_POLICIES);
    expect(() => parseErrorPolicies({ all: { mode: "hide" } })).toThrow(
      /all\.mode must be one of mask, pass-through, wrap/,
    );
    expect(() =>
      loadRouterConfig({ ROUTER_SUBGRAPH_ERRORS: '{"all":{"status":99}}' }),
    ).toThrow(/ROUTER_SUBGRAPH_ERRORS all\.status must be an HTTP status/);
  });
});
