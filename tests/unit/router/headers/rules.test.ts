import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { thrownBy } from "../../../support/thrown.ts";
import {
  ConfigurationRefused,
  loadResolved,
  resolveEnvironment,
} from "../../../../platform/config-file.ts";
import {
  loadRouterConfig,
  ROUTER_SETTINGS_READ,
} from "../../../../router/config.ts";
import {
  HeaderRuleError,
  NO_HEADER_RULES,
  parseHeaderRules,
} from "../../../../router/headers/rules.ts";

const refusal = (raw: unknown): HeaderRuleError =>
  thrownBy(HeaderRuleError, () => parseHeaderRules(raw), "accepted");

describe("header rules", () => {
  it("no rules is today's behaviour: nothing propagated, nothing passed back", () => {
    expect(loadRouterConfig({}).headers).toBe(NO_HEADER_RULES);
    expect(parseHeaderRules({})).toMatchObject({
      all: [],
      subgraphs: {},
      response: { cacheControl: "off", setCookieFrom: undefined },
    });
  });

  it("reads propagate (named, renamed, defaulted, matching), insert and remove, names in lower case", () => {
    const rules = parseHeaderRules({
      all: {
        request: [
          { propagate: { named: "X-Tenant" } },
          {
            propagate: {
              named: "x-client-version",
              rename: "x-version",
              default: "unknown",
            },
          },
          { propagate: { matching: "^x-feature-" } },
          { insert: { name: "x-gateway", value: "switchyard" } },
        ],
      },
      subgraphs: { payments: { request: [{ remove: { named: "x-tenant" } }] } },
      response: { cache_control: "most-restrictive", set_cookie_from: "users" },
    });
    expect(rules.all.map((rule) => rule.kind)).toEqual([
      "propagate",
      "propagate",
      "propagate-matching",
      "insert",
    ]);
    expect(rules.all[0]).toMatchObject({ named: "x-tenant" });
    expect(rules.all[1]).toMatchObject({
      named: "x-client-version",
      rename: "x-version",
      default: "unknown",
      rule: "all.request[1]",
    });
    expect(rules.subgraphs.payments).toEqual([
      {
        kind: "remove",
        named: "x-tenant",
        rule: "subgraphs.payments.request[0]",
      },
    ]);
    expect(rules.response).toEqual({
      cacheControl: "most-restrictive",
      setCookieFrom: "users",
    });
  });

  it.each([
    [
      "propagating authorization",
      { propagate: { named: "Authorization" } },
      "authorization",
    ],
    [
      "renaming a header to authorization",
      { propagate: { named: "x-auth", rename: "authorization" } },
      "authorization",
    ],
    [
      "forwarding authorization under another name",
      { propagate: { named: "authorization", rename: "x-auth" } },
      "authorization",
    ],
    [
      "inserting the router token",
      { insert: { name: "x-switchyard-internal-token", value: "forged" } },
      "x-switchyard-internal-token",
    ],
    [
      "propagating the service signature",
      { propagate: { named: "x-switchyard-signature" } },
      "x-switchyard-signature",
    ],
    [
      "propagating proxy-authorization",
      { propagate: { named: "proxy-authorization" } },
      "proxy-authorization",
    ],
    [
      "setting the framing",
      { insert: { name: "content-length", value: "1" } },
      "content-length",
    ],
  ])("refuses %s at load with HEADER_RULE_RESERVED", (_, rule, header) => {
    const error = refusal({ subgraphs: { users: { request: [rule] } } });
    expect(error.code).toBe("HEADER_RULE_RESERVED");
    expect(error.message).toContain(header);
    expect(error.message).toContain("subgraphs.users.request[0]");
  });

  it.each([
    [
      "two kinds in one rule",
      { propagate: { named: "a" }, insert: { name: "b", value: "c" } },
    ],
    ["a name that is not a token", { propagate: { named: "x tenant" } }],
    [
      "named and matching together",
      { propagate: { named: "a", matching: "b" } },
    ],
    ["a rename of a pattern", { propagate: { matching: "^x-", rename: "y" } }],
    ["a bad regular expression", { propagate: { matching: "(" } }],
    [
      "a value with a line break",
      { insert: { name: "x-a", value: "1\r\nx-b: 2" } },
    ],
    ["an unknown rule", { copy: { named: "a" } }],
  ])("refuses %s with HEADER_RULE_INVALID", (_, rule) => {
    expect(refusal({ all: { request: [rule] } }).code).toBe(
      "HEADER_RULE_INVALID",
    );
  });

  it("reads the rules as a YAML tree from switchyard.yaml, and refuses a reserved one naming the key and the code", () => {
    const dir = mkdtempSync(join(tmpdir(), "header-rules-"));
    try {
      const file = join(dir, "switchyard.yaml");
      writeFileSync(
        file,
        [
          "router:",
          "  headers:",
          "    all:",
          "      request:",
          "        - propagate: { named: x-tenant }",
          "    response:",
          "      cache_control: most-restrictive",
        ].join("\n"),
      );
      const load = (env: Record<string, string>) =>
        loadResolved(
          resolveEnvironment(
            { SWITCHYARD_CONFIG: file, ...env },
            ROUTER_SETTINGS_READ,
            { cwd: dir },
          ),
          ROUTER_SETTINGS_READ,
          loadRouterConfig,
        );
      const config = load({});
      expect(config.headers.all).toMatchObject([
        { kind: "propagate", named: "x-tenant" },
      ]);
      expect(config.headers.response.cacheControl).toBe("most-restrictive");

      writeFileSync(
        file,
        [
          "router:",
          "  headers:",
          "    all:",
          "      request:",
          "        - propagate: { named: authorization }",
        ].join("\n"),
      );
      expect(() => load({})).toThrow(ConfigurationRefused);
      expect(() => load({})).toThrow(
        /router\.headers \(ROUTER_HEADERS\).*all\.request\[0\]\.propagate\.named.*HEADER_RULE_RESERVED/,
      );
      // The environment (JSON) wins over the file, as for every setting.
      expect(
        load({
          ROUTER_HEADERS:
            '{"all":{"request":[{"insert":{"name":"x-a","value":"1"}}]}}',
        }).headers.all,
      ).toMatchObject([{ kind: "insert", name: "x-a" }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
