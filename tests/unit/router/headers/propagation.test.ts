import { describe, expect, it } from "vitest";
import {
  fetchedHeaders,
  headerShareKey,
  mostRestrictiveCacheControl,
  outboundHeaders,
  responseHeaders,
} from "../../../../router/headers/propagation.ts";
import {
  NO_HEADER_RULES,
  parseHeaderRules,
} from "../../../../router/headers/rules.ts";

const client = (headers: Record<string, string>) =>
  new Map(Object.entries(headers));

const RULES = parseHeaderRules({
  all: {
    request: [
      { propagate: { named: "x-tenant" } },
      { propagate: { matching: "^x-feature-" } },
      { insert: { name: "x-gateway", value: "switchyard" } },
    ],
  },
  subgraphs: {
    users: {
      request: [
        {
          propagate: {
            named: "x-client-version",
            rename: "x-version",
            default: "unknown",
          },
        },
      ],
    },
    payments: {
      request: [
        { remove: { matching: "^x-feature-" } },
        { remove: { named: "x-tenant" } },
      ],
    },
    products: {
      request: [{ insert: { name: "x-tenant", value: "catalogue" } }],
    },
  },
});

const CLIENT = client({
  "x-tenant": "acme",
  "x-feature-fast": "on",
  "x-client-version": "7",
  "x-other": "never",
  authorization: "Bearer secret",
  "x-switchyard-internal-token": "forged",
});

describe("header rules × subgraphs", () => {
  // The matrix: what each subgraph receives from the same client request under the same rules.
  it.each([
    [
      "users (all + propagate renamed)",
      "users",
      {
        "x-tenant": "acme",
        "x-feature-fast": "on",
        "x-gateway": "switchyard",
        "x-version": "7",
      },
    ],
    ["payments (all, then removes)", "payments", { "x-gateway": "switchyard" }],
    [
      "products (all, then an insert overriding a propagated value)",
      "products",
      {
        "x-tenant": "catalogue",
        "x-feature-fast": "on",
        "x-gateway": "switchyard",
      },
    ],
    [
      "a subgraph with no rules of its own (all only)",
      "inventory",
      { "x-tenant": "acme", "x-feature-fast": "on", "x-gateway": "switchyard" },
    ],
  ])("%s", (_, subgraph, expected) => {
    expect(outboundHeaders(RULES, subgraph, CLIENT).headers).toEqual(expected);
  });

  it("uses the default when the client sent nothing, and records why each header was sent", () => {
    const { headers, decisions } = outboundHeaders(RULES, "users", client({}));
    expect(headers).toEqual({
      "x-gateway": "switchyard",
      "x-version": "unknown",
    });
    expect(decisions).toEqual([
      {
        subgraph: "users",
        header: "x-gateway",
        action: "inserted",
        rule: "all.request[2]",
      },
      {
        subgraph: "users",
        header: "x-version",
        action: "defaulted",
        from: "x-client-version",
        rule: "subgraphs.users.request[0]",
      },
    ]);
    expect(outboundHeaders(RULES, "payments", CLIENT).decisions).toContainEqual(
      {
        subgraph: "payments",
        header: "x-tenant",
        action: "removed",
        rule: "subgraphs.payments.request[1]",
      },
    );
  });

  it("a matching rule never sends authorization or the router token, and says so", () => {
    const everything = parseHeaderRules({
      all: { request: [{ propagate: { matching: ".*" } }] },
    });
    const { headers, decisions } = outboundHeaders(everything, "users", CLIENT);
    expect(headers).not.toHaveProperty("authorization");
    expect(headers).not.toHaveProperty("x-switchyard-internal-token");
    expect(headers).toHaveProperty("x-other", "never");
    expect(
      decisions
        .filter((decision) => decision.action === "reserved")
        .map((decision) => decision.header)
        .sort(),
    ).toEqual(["authorization", "x-switchyard-internal-token"]);
  });

  it("no rules: nothing is sent (today)", () => {
    expect(outboundHeaders(NO_HEADER_RULES, "users", CLIENT)).toEqual({
      headers: {},
      decisions: [],
    });
  });
});

describe("what deduplication keys on", () => {
  it("is every client header a rule reads, and nothing else", () => {
    const key = (headers: Record<string, string>) =>
      headerShareKey(RULES, client(headers));
    expect(key({ "x-tenant": "a" })).not.toBe(key({ "x-tenant": "b" }));
    expect(key({ "x-feature-x": "1" })).not.toBe(key({ "x-feature-x": "2" }));
    expect(key({ "x-client-version": "1" })).not.toBe(
      key({ "x-client-version": "2" }),
    );
    expect(key({ "x-tenant": "a", "x-other": "1" })).toBe(
      key({ "x-other": "2", "x-tenant": "a" }),
    );
    expect(headerShareKey(NO_HEADER_RULES, CLIENT)).toBe("");
  });

  it("is undefined (never share) when a subgraph's cookies reach the client", () => {
    const cookies = parseHeaderRules({
      response: { set_cookie_from: "users" },
    });
    expect(headerShareKey(cookies, CLIENT)).toBeUndefined();
  });
});

describe("response headers back to the client", () => {
  it.each([
    [["max-age=60, public", "max-age=30, public"], "public, max-age=30"],
    [["max-age=60, public", "max-age=30, private"], "private, max-age=30"],
    [["max-age=60", "max-age=30, s-maxage=10"], "max-age=30"],
    [
      ["public, max-age=60, s-maxage=20", "public, max-age=30, s-maxage=10"],
      "public, max-age=30, s-maxage=10",
    ],
    [["max-age=60", "no-cache"], "no-cache"],
    [["max-age=60", "no-store"], "no-store"],
    [["max-age=60", undefined], "no-store"],
    [["private"], "no-store"],
  ])(
    "Cache-Control %j merge to %s (the most restrictive)",
    (values, expected) => {
      expect(mostRestrictiveCacheControl(values)).toBe(expected);
    },
  );

  it("takes Set-Cookie from the named subgraph only, and records nothing when no response rule is set", () => {
    const rules = parseHeaderRules({
      response: { cache_control: "most-restrictive", set_cookie_from: "users" },
    });
    const fetched = [
      fetchedHeaders(rules, "users", {
        cacheControl: "max-age=10",
        setCookie: ["session=u"],
      })!,
      fetchedHeaders(rules, "products", {
        cacheControl: "max-age=60",
        setCookie: ["tracker=p"],
      })!,
    ];
    expect(responseHeaders(rules, fetched)).toEqual([
      {
        header: "cache-control",
        value: "max-age=10",
        from: ["users", "products"],
      },
      { header: "set-cookie", value: "session=u", from: ["users"] },
    ]);
    expect(
      fetchedHeaders(NO_HEADER_RULES, "users", {
        cacheControl: "max-age=1",
        setCookie: ["a=b"],
      }),
    ).toBeUndefined();
  });
});
