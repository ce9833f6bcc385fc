import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createInternalTokenSigner,
  INTERNAL_TOKEN_HEADER,
} from "../../platform/internal-token.ts";
import { pgliteBackend } from "../support/storage.ts";
import { gql, stackForFile } from "../support/stack.ts";

/** Misspellings whose graphql-js errors would suggest the real schema name. */
const GUESSES: Array<[string, string, Record<string, unknown>]> = [
  ["an unknown field", "{ prodcts(first: 1) { totalCount } }", {}],
  ["an unknown argument", "{ products(frist: 1) { totalCount } }", {}],
  [
    "an unknown input field in a literal",
    'mutation { signUp(input: { emial: "a@example.com", name: "A", password: "long enough password" }) { token } }',
    {},
  ],
  [
    "an unknown input field in variables",
    "mutation($input: SignUpInput!) { signUp(input: $input) { token } }",
    {
      input: {
        emial: "a@example.com",
        name: "A",
        password: "long enough password",
      },
    },
  ],
  [
    "an unknown type in a fragment",
    "{ products(first: 1) { edges { node { ... on Prodct { id } } } } }",
    {},
  ],
];

describe.each([false, true])(
  "the router surface with production=%s",
  (production) => {
    const internalTokenSecret = randomBytes(32).toString("base64url");
    // An admin listener on a free port (production's default is 4090, which a test must not bind).
    const stack = stackForFile(pgliteBackend, {
      production,
      internalTokenSecret,
      routerEnv: { ROUTER_ADMIN_PORT: "0" },
    });

    it.each(GUESSES)(
      `${production ? "never suggest" : "suggest"} names for %s at the router`,
      async (_label, query, variables) => {
        const response = await gql(stack().routerUrl, query, variables);
        expect(response.errors?.length).toBeGreaterThan(0);
        const text = JSON.stringify(response.errors);
        if (production)
          expect(text).not.toMatch(
            /Did you mean|"products"|"first"|"email"|"Product"/,
          );
        else expect(text).toMatch(/Did you mean/);
      },
    );

    it(`${production ? "never suggest" : "suggest"} names in a subgraph called directly with a router token`, async () => {
      const token = await createInternalTokenSigner({
        secret: internalTokenSecret,
      }).sign(null);
      for (const [, query, variables] of GUESSES.filter(
        ([, query]) => !query.includes("signUp"),
      )) {
        const response = await fetch(stack().subgraphs.products.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            [INTERNAL_TOKEN_HEADER]: token,
          },
          body: JSON.stringify({ query, variables }),
        });
        const text = await response.text();
        expect(text).toMatch(/errors/);
        if (production) expect(text).not.toMatch(/Did you mean/);
        else expect(text).toMatch(/Did you mean/);
      }
    });

    it(`${production ? "keeps" : "also serves"} instance details and metrics ${production ? "off" : "on"} the public port; /health stays public`, async () => {
      const base = stack().routerUrl.replace(/\/graphql$/, "");
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const ready = await fetch(`${base}/ready`);
      expect(ready.status).toBe(200);
      const text = await ready.text();
      const metrics = await fetch(`${base}/metrics`);
      if (production) {
        expect(JSON.parse(text)).toEqual({ status: "ready" });
        expect(metrics.status).toBe(404);
        expect(await metrics.text()).not.toMatch(/router_breaker_state/);
      } else {
        expect(text).toMatch(/"breaker":"closed"/);
        expect(await metrics.text()).toMatch(/router_breaker_state/);
      }
    });

    it("serves /health, the detailed /ready and /metrics on the admin port, bound to loopback", async () => {
      const admin = stack().routerAdminUrl!;
      expect(new URL(admin).hostname).toBe("127.0.0.1");
      expect((await fetch(`${admin}/health`)).status).toBe(200);
      const ready = (await (await fetch(`${admin}/ready`)).json()) as {
        status: string;
        details: {
          subgraphs: Array<{
            name: string;
            instances: Array<{ instance: string; breaker: string }>;
          }>;
        };
      };
      expect(ready.status).toBe("ready");
      expect(
        ready.details.subgraphs.map((subgraph) => subgraph.name).sort(),
      ).toEqual(Object.keys(stack().subgraphs).sort());
      expect(ready.details.subgraphs[0]!.instances[0]).toMatchObject({
        instance: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        breaker: "closed",
      });
      expect(await (await fetch(`${admin}/metrics`)).text()).toMatch(
        /router_breaker_state\{/,
      );
      // The admin port serves nothing else: no GraphQL on it.
      expect(
        (
          await fetch(`${admin}/graphql`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"query":"{ __typename }"}',
          })
        ).status,
      ).toBe(404);
    });
  },
);
