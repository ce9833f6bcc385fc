import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoUsers } from "../../platform/demo-data.ts";
import { withSubgraphSettings } from "../../router/config.ts";
import type { Stack } from "../../stack.ts";
import { pgliteBackend } from "../support/storage.ts";
import {
  bearerFor,
  bootStack,
  gql,
  memoryLogger,
  routerDefaults,
  serveRouter,
  silentLogger,
  staticDiscoveryOf,
  waitUntil,
} from "../support/stack.ts";

const pglite = pgliteBackend;
const PRODUCTS = "{ products(first: 1) { totalCount } }";
const LOG_IN =
  "mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }";
const SIGN_UP =
  "mutation($input: SignUpInput!) { signUp(input: $input) { token } }";
const victim = demoUsers[0]!;

/** Which identity the router's rate limits count a request against. */
describe("rate-limit identity", () => {
  const internalTokenSecret = randomBytes(32).toString("base64url");
  const cleanups: Array<() => Promise<void>> = [];
  let stack: Stack;
  let drop: () => Promise<void>;
  /** Real signed tokens of three different accounts (from the stack's own router, whose budgets are separate). */
  let tokens: Array<Record<string, string>>;

  beforeAll(async () => {
    const opened = await pglite.open();
    drop = opened.drop;
    stack = await bootStack(opened.storage, { internalTokenSecret });
    tokens = await Promise.all(
      demoUsers
        .slice(1, 4)
        .map((user) => bearerFor(stack.routerUrl, user.email)),
    );
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await stack?.stop();
    await drop?.();
  });

  /** A router of its own in front of the stack's subgraphs, configured by `env` as a deployment would be. */
  async function routerWith(
    env: Record<string, string>,
    logger: import("pino").Logger = silentLogger,
  ): Promise<string> {
    const defaults = routerDefaults(env);
    const served = await serveRouter(
      {
        ...withSubgraphSettings(defaults, staticDiscoveryOf(stack)),
        security: {
          ...defaults.security,
          internalTokenSecret,
          jwksUrl: stack.subgraphs.users.url.replace(
            "/graphql",
            "/.well-known/jwks.json",
          ),
        },
      },
      logger,
    );
    cleanups.push(served.stop);
    return served.url;
  }

  describe("behind trusted proxies", () => {
    it("gives two clients behind a trusted proxy separate budgets", async () => {
      // The test's own connections come from loopback: here loopback is the load balancer.
      const url = await routerWith({
        TRUSTED_PROXIES: "127.0.0.1/32,::1/128",
        ROUTER_RATE_LIMIT_FIELDS: "Query.products=2/1h",
      });
      const alice = { "x-forwarded-for": "203.0.113.10" };
      const bob = { "x-forwarded-for": "203.0.113.20" };
      for (let call = 0; call < 2; call += 1)
        expect((await gql(url, PRODUCTS, {}, alice)).errors).toBeUndefined();
      expect((await gql(url, PRODUCTS, {}, alice)).status).toBe(429);
      for (let call = 0; call < 2; call += 1)
        expect((await gql(url, PRODUCTS, {}, bob)).errors).toBeUndefined();
      expect((await gql(url, PRODUCTS, {}, bob)).status).toBe(429);
      // An address the client prepends itself is skipped: the proxy's entry (right-most) counts.
      expect(
        (
          await gql(
            url,
            PRODUCTS,
            {},
            { "x-forwarded-for": "198.51.100.99, 203.0.113.10" },
          )
        ).status,
      ).toBe(429);
    });

    it("logs the client address a trusted proxy forwarded on the access line", async () => {
      const { logger, lines } = memoryLogger("info");
      const url = await routerWith(
        { TRUSTED_PROXIES: "127.0.0.1,::1" },
        logger,
      );
      await gql(url, PRODUCTS, {}, { "x-forwarded-for": "203.0.113.77" });
      await waitUntil("the access line is written", () =>
        lines.some((line) => line.msg === "request served"),
      );
      expect(lines.find((line) => line.msg === "request served")).toMatchObject(
        { path: "/graphql", client: "203.0.113.77" },
      );
    });

    it("reads RFC 7239 Forwarded when that is the configured header", async () => {
      const url = await routerWith({
        TRUSTED_PROXIES: "127.0.0.1,::1",
        TRUSTED_PROXY_HEADER: "forwarded",
        ROUTER_RATE_LIMIT_FIELDS: "Query.products=1/1h",
      });
      expect(
        (
          await gql(
            url,
            PRODUCTS,
            {},
            { forwarded: 'for="[2001:db8::1]:4711"' },
          )
        ).errors,
      ).toBeUndefined();
      expect(
        (
          await gql(
            url,
            PRODUCTS,
            {},
            { forwarded: 'for="[2001:db8::1]:4711"' },
          )
        ).status,
      ).toBe(429);
      expect(
        (
          await gql(
            url,
            PRODUCTS,
            {},
            { forwarded: "for=192.0.2.60;proto=https" },
          )
        ).errors,
      ).toBeUndefined();
    });
  });

  it("ignores a spoofed forwarding header from an untrusted peer: every made-up address shares the peer budget", async () => {
    // Loopback is not in the list, so the test's connections are clients, not proxies.
    const url = await routerWith({
      TRUSTED_PROXIES: "10.0.0.0/8",
      ROUTER_RATE_LIMIT_FIELDS: "Query.products=2/1h",
    });
    expect(
      (await gql(url, PRODUCTS, {}, { "x-forwarded-for": "203.0.113.1" }))
        .errors,
    ).toBeUndefined();
    expect(
      (
        await gql(
          url,
          PRODUCTS,
          {},
          { "x-forwarded-for": "203.0.113.2", forwarded: "for=203.0.113.2" },
        )
      ).errors,
    ).toBeUndefined();
    const third = await gql(
      url,
      PRODUCTS,
      {},
      { "x-forwarded-for": "203.0.113.3", forwarded: "for=203.0.113.3" },
    );
    expect(third.status).toBe(429);
    expect(third.errors?.[0]?.extensions?.code).toBe("RATE_LIMITED");
  });

  describe("credential mutations", () => {
    const guess = (email: string) => ({
      email,
      password: `wrong-${randomUUID()}`,
    });

    it("counts logIn by client address whatever account token comes with it", async () => {
      const url = await routerWith({
        ROUTER_RATE_LIMIT_FIELDS: "Mutation.logIn=3/1h",
      });
      // Three guesses, each carrying another account's valid token, then a fourth with yet another.
      for (const [index, headers] of tokens.entries()) {
        const response = await gql(
          url,
          LOG_IN,
          guess(`someone-${index}@example.com`),
          headers,
        );
        expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      }
      const fourth = await gql(
        url,
        LOG_IN,
        guess("someone-else@example.com"),
        tokens[0],
      );
      expect(fourth.status).toBe(429);
      expect(fourth.errors?.[0]?.extensions).toMatchObject({
        code: "RATE_LIMITED",
        field: "Mutation.logIn",
      });
      // Other root fields of those accounts keep their own budgets.
      expect((await gql(url, PRODUCTS, {}, tokens[0])).errors).toBeUndefined();
    });

    it("counts logIn by target email too, so guesses from many addresses meet one budget per account", async () => {
      const url = await routerWith({
        TRUSTED_PROXIES: "127.0.0.1,::1",
        ROUTER_RATE_LIMIT_FIELDS: "Mutation.logIn=3/1h",
      });
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const response = await gql(url, LOG_IN, guess(victim.email), {
          "x-forwarded-for": `198.51.100.${attempt + 1}`,
          ...tokens[attempt % tokens.length],
        });
        expect(response.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
      }
      // A fresh address, the same account (spelt differently): refused; the email is read from variables and literals alike.
      const fresh = await gql(
        url,
        LOG_IN,
        guess(` ${victim.email.toUpperCase()}`),
        { "x-forwarded-for": "198.51.100.50" },
      );
      expect(fresh.status).toBe(429);
      const literal = await gql(
        url,
        `mutation { logIn(email: "${victim.email}", password: "wrong") { token } }`,
        {},
        { "x-forwarded-for": "198.51.100.51" },
      );
      expect(literal.status).toBe(429);
      // The real owner is refused too until the window passes (the price of a per-account budget);
      // another account from a fresh address is not.
      expect(
        (
          await gql(url, LOG_IN, guess("another@example.com"), {
            "x-forwarded-for": "198.51.100.52",
          })
        ).errors?.[0]?.extensions?.code,
      ).toBe("UNAUTHENTICATED");
    });

    it("counts signUp by client address, so each new account brings no new budget", async () => {
      const url = await routerWith({
        ROUTER_RATE_LIMIT_FIELDS: "Mutation.signUp=2/1h",
      });
      /** Signs up a new account, carrying `headers` (the account created before). */
      const signUp = (headers: Record<string, string>) =>
        gql<{ signUp: { token: string } }>(
          url,
          SIGN_UP,
          {
            input: {
              email: `factory-${randomUUID()}@example.com`,
              name: "Factory",
              password: "correct horse battery staple",
            },
          },
          headers,
        );
      let headers: Record<string, string> = {};
      for (let account = 0; account < 2; account += 1) {
        const response = await signUp(headers);
        expect(response.errors).toBeUndefined();
        // The next sign-up carries the account just created.
        headers = { authorization: `Bearer ${response.data!.signUp.token}` };
      }
      const third = await signUp(headers);
      expect(third.status).toBe(429);
      expect(third.errors?.[0]?.extensions).toMatchObject({
        code: "RATE_LIMITED",
        field: "Mutation.signUp",
      });
    });
  });
});
