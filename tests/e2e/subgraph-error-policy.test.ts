import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseErrorPolicies } from "../../router/error-policy/policy.ts";
import {
  echoError,
  startEchoSupergraph,
  type EchoBehaviour,
} from "../support/echo-subgraphs.ts";
import { serveRouter, testRouterConfig } from "../support/stack.ts";

/** Every fetch fails on its own: no retries, no breaker or outlier ejection between cases. */
const STEADY = {
  ROUTER_RETRY_MAX_ATTEMPTS: "1",
  ROUTER_BREAKER_VOLUME_THRESHOLD: "1000000",
  ROUTER_OUTLIER_CONSECUTIVE_FAILURES: "1000000",
};

type Seen = { status: number; errors: Array<Record<string, unknown>> };

/**
 * The matrix: a policy for `alpha` (beta keeps the defaults) × the router's mode × how both
 * subgraphs fail. Every router serves `{ alpha beta }`; both subgraphs fail the same way, so each
 * response shows side by side what the policy changed for alpha and what beta gets by default.
 */
const POLICIES: Record<string, unknown> = {
  today: undefined,
  mask: { subgraphs: { alpha: { mode: "mask" } } },
  "pass-through": {
    subgraphs: { alpha: { mode: "pass-through", extensions: ["detail"] } },
  },
  wrap: { subgraphs: { alpha: { mode: "wrap" } } },
  "status and on_4xx": {
    subgraphs: {
      alpha: {
        mode: "pass-through",
        status: "subgraph",
        on_4xx: "client-error",
      },
    },
  },
};
const KINDS: EchoBehaviour[] = [
  "graphql-error",
  "4xx",
  "4xx-no-body",
  "5xx",
  "network",
];

const code = (error: Record<string, unknown> | undefined) =>
  (error?.extensions as Record<string, unknown> | undefined)?.code;

/** What beta (no policy) shows, by kind, in development and production: today's behaviour. */
function expectToday(
  error: Record<string, unknown> | undefined,
  kind: EchoBehaviour,
  production: boolean,
) {
  if (kind === "graphql-error" || kind === "4xx") {
    expect(code(error)).toBe("INTERNAL_SERVER_ERROR");
    if (production) expect(error?.message).toBe("Internal server error");
    else expect(error?.message).toBe("secret detail from beta");
  } else expect(code(error)).toBe("SUBGRAPH_UNAVAILABLE");
}

describe.each([false, true])(
  "subgraph error policy through the router (production=%s)",
  (production) => {
    let echo: Awaited<ReturnType<typeof startEchoSupergraph>>;
    const routers: Record<string, { url: string; stop(): Promise<void> }> = {};

    beforeAll(async () => {
      echo = await startEchoSupergraph(["alpha", "beta"]);
      for (const [name, raw] of Object.entries(POLICIES))
        routers[name] = await serveRouter(
          testRouterConfig(
            {
              production,
              supergraphPath: echo.supergraphPath,
              subgraphErrors: parseErrorPolicies(raw),
            },
            STEADY,
          ),
        );
    });
    afterAll(async () => {
      for (const served of Object.values(routers)) await served.stop();
      await echo?.close();
    });

    async function ask(
      policy: string,
      kind: EchoBehaviour,
    ): Promise<{
      alpha: Seen["errors"];
      beta: Seen["errors"];
      status: number;
    }> {
      echo.subgraphs.alpha!.behaviour = kind;
      echo.subgraphs.beta!.behaviour = kind;
      const response = await fetch(routers[policy]!.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ alpha beta }" }),
      });
      const body = (await response.json()) as { errors?: Seen["errors"] };
      const errors = body.errors ?? [];
      const of = (name: string) =>
        errors.filter((error) => {
          const extensions = (error.extensions ?? {}) as Record<
            string,
            unknown
          >;
          return (
            (error.path as unknown[] | undefined)?.[0] === name ||
            extensions.service === name ||
            extensions.serviceName === name
          );
        });
      // No stack trace or file location in production, whatever the policy; none in a subgraph error a
      // policy rewrote, ever (router-made failures keep development's stack trace, as today).
      if (production)
        expect(JSON.stringify(body)).not.toMatch(/stacktrace|\.ts:1/);
      if (policy !== "today" && (kind === "graphql-error" || kind === "4xx"))
        expect(JSON.stringify(of("alpha"))).not.toMatch(/stacktrace|\.ts:1/);
      return { alpha: of("alpha"), beta: of("beta"), status: response.status };
    }

    it.each(KINDS)(
      "today (no policy), %s: both subgraphs as before",
      async (kind) => {
        const { alpha, beta, status } = await ask("today", kind);
        expect(status).toBe(200);
        for (const [errors, name] of [
          [alpha, "alpha"],
          [beta, "beta"],
        ] as const) {
          expect(errors).toHaveLength(1);
          if (kind === "graphql-error" || kind === "4xx") {
            expect(code(errors[0])).toBe("INTERNAL_SERVER_ERROR");
            expect(errors[0]?.message).toBe(
              production
                ? "Internal server error"
                : `secret detail from ${name}`,
            );
          } else expect(code(errors[0])).toBe("SUBGRAPH_UNAVAILABLE");
        }
      },
    );

    it.each(KINDS)("mask for alpha, %s", async (kind) => {
      const { alpha, beta, status } = await ask("mask", kind);
      expect(status).toBe(200);
      expect(alpha).toHaveLength(1);
      if (kind === "graphql-error" || kind === "4xx")
        expect(alpha[0]).toMatchObject({
          message: "The alpha service failed",
          extensions: { code: "INTERNAL_SERVER_ERROR", service: "alpha" },
        });
      else expect(code(alpha[0])).toBe("SUBGRAPH_UNAVAILABLE");
      expect(JSON.stringify(alpha)).not.toContain("secret detail");
      expectToday(beta[0], kind, production);
    });

    it.each(KINDS)(
      "pass-through for alpha (extensions: [detail]), %s: unmasked even in production",
      async (kind) => {
        const { alpha, beta } = await ask("pass-through", kind);
        if (kind === "graphql-error" || kind === "4xx")
          expect(alpha[0]).toEqual({
            message: echoError("alpha").message,
            ...(kind === "graphql-error"
              ? { path: ["alpha"] }
              : { path: ["alpha"] }),
            extensions: {
              code: "ECHO_REFUSED",
              detail: "alpha-detail",
              service: "alpha",
            },
          });
        else expect(code(alpha[0])).toBe("SUBGRAPH_UNAVAILABLE");
        expectToday(beta[0], kind, production);
      },
    );

    it.each(KINDS)("wrap for alpha, %s", async (kind) => {
      const { alpha, beta } = await ask("wrap", kind);
      if (kind === "graphql-error" || kind === "4xx")
        expect(alpha[0]).toEqual({
          message: "The alpha service answered with errors",
          extensions: {
            code: "SUBGRAPH_ERROR",
            service: "alpha",
            errors: [
              {
                message: echoError("alpha").message,
                path: ["alpha"],
                extensions: { code: "ECHO_REFUSED", detail: "alpha-detail" },
              },
            ],
          },
        });
      else expect(code(alpha[0])).toBe("SUBGRAPH_UNAVAILABLE");
      expectToday(beta[0], kind, production);
    });

    it.each([
      ["graphql-error", 200, "ECHO_REFUSED"],
      ["4xx", 400, "BAD_REQUEST"],
      ["4xx-no-body", 404, "NOT_FOUND"],
      ["5xx", 500, "SUBGRAPH_UNAVAILABLE"],
      ["network", 502, "SUBGRAPH_UNAVAILABLE"],
    ] as const)(
      "status: subgraph and on_4xx: client-error for alpha, %s → HTTP %s, %s",
      async (kind, httpStatus, alphaCode) => {
        const { alpha, beta, status } = await ask("status and on_4xx", kind);
        expect(status).toBe(httpStatus);
        expect(code(alpha[0])).toBe(alphaCode);
        expectToday(beta[0], kind, production);
      },
    );
  },
);
