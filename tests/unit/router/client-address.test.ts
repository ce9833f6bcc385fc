import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import {
  createClientAddressResolver,
  forwardedHops,
  parseTrustedProxies,
  type ClientAddressSettings,
} from "../../../router/client-address.ts";
import { loadRouterConfig } from "../../../router/config.ts";

const request = (
  remoteAddress: string,
  headers: Record<string, string | string[]> = {},
) => ({ socket: { remoteAddress }, headers }) as unknown as IncomingMessage;
const resolver = (
  trustedProxies: string[],
  header: ClientAddressSettings["header"] = "x-forwarded-for",
) => createClientAddressResolver({ trustedProxies, header });

describe("trusted proxy parsing", () => {
  it("accepts IPv4 and IPv6 CIDRs and bare addresses", () => {
    const list = parseTrustedProxies([
      "10.0.0.0/8",
      "192.168.1.7",
      "2001:db8::/32",
      "::1",
    ]);
    expect(list.check("10.200.3.4", "ipv4")).toBe(true);
    expect(list.check("192.168.1.7", "ipv4")).toBe(true);
    expect(list.check("192.168.1.8", "ipv4")).toBe(false);
    expect(list.check("2001:db8:ffff::1", "ipv6")).toBe(true);
    expect(list.check("::1", "ipv6")).toBe(true);
    expect(list.check("2001:db9::1", "ipv6")).toBe(false);
  });

  it.each([
    "10.0.0.0/33",
    "2001:db8::/129",
    "proxy.internal",
    "10.0.0.0/8/1",
    "10.0.0/8",
    "10.0.0.0/x",
  ])("refuses %s, and the router config names the variable", (entry) => {
    expect(() => parseTrustedProxies([entry])).toThrow();
    expect(() =>
      loadRouterConfig({ TRUSTED_PROXIES: `127.0.0.1,${entry}` }),
    ).toThrow(/TRUSTED_PROXIES/);
  });

  it("reads TRUSTED_PROXIES and TRUSTED_PROXY_HEADER into the router config, none trusted by default", () => {
    expect(loadRouterConfig({}).security.clientAddress).toEqual({
      trustedProxies: [],
      header: "x-forwarded-for",
    });
    expect(
      loadRouterConfig({
        TRUSTED_PROXIES: " 10.0.0.0/8 , fd00::/8 ",
        TRUSTED_PROXY_HEADER: "Forwarded",
      }).security.clientAddress,
    ).toEqual({
      trustedProxies: ["10.0.0.0/8", "fd00::/8"],
      header: "forwarded",
    });
    expect(() =>
      loadRouterConfig({ TRUSTED_PROXY_HEADER: "x-real-ip" }),
    ).toThrow(/TRUSTED_PROXY_HEADER/);
  });
});

describe("forwarding headers", () => {
  it.each([
    [
      "X-Forwarded-For hops, ports and brackets dropped",
      "x-forwarded-for",
      "203.0.113.7, 198.51.100.2:5555 , [2001:db8::9]:443, 2001:db8::a",
      ["203.0.113.7", "198.51.100.2", "2001:db8::9", "2001:db8::a"],
    ],
    [
      "RFC 7239 Forwarded `for` hops, quoted, bracketed, with other parameters and unknown nodes",
      "forwarded",
      'for=192.0.2.60;proto=http;by=203.0.113.43, For="[2001:db8:cafe::17]:4711", for=unknown, proto=https',
      ["192.0.2.60", "2001:db8:cafe::17", "unknown", ""],
    ],
  ] as const)("lists %s", (_, header, value, hops) => {
    expect(forwardedHops(header, value)).toEqual(hops);
  });
});

describe("choosing the client address", () => {
  it("takes the peer and ignores every header when no proxy is trusted", () => {
    expect(
      resolver([])(
        request("203.0.113.7", {
          "x-forwarded-for": "1.2.3.4",
          forwarded: "for=1.2.3.4",
        }),
      ),
    ).toBe("203.0.113.7");
  });

  it("ignores the header of a peer outside the trusted list", () => {
    expect(
      resolver(["10.0.0.0/8"])(
        request("203.0.113.7", { "x-forwarded-for": "1.2.3.4" }),
      ),
    ).toBe("203.0.113.7");
  });

  it("takes the right-most untrusted hop behind trusted proxies, so addresses a client prepends are skipped", () => {
    const resolve = resolver(["10.0.0.0/8"]);
    expect(
      resolve(request("10.0.0.2", { "x-forwarded-for": "198.51.100.9" })),
    ).toBe("198.51.100.9");
    // The client wrote "1.2.3.4"; the trusted proxies appended the real address and each other.
    expect(
      resolve(
        request("10.0.0.2", {
          "x-forwarded-for": "1.2.3.4, 198.51.100.9, 10.0.0.5",
        }),
      ),
    ).toBe("198.51.100.9");
    // Several header lines are one list.
    expect(
      resolve(
        request("10.0.0.2", { "x-forwarded-for": ["1.2.3.4", "198.51.100.9"] }),
      ),
    ).toBe("198.51.100.9");
  });

  it("reads only the configured header, so a client cannot use the one its proxy does not write", () => {
    const viaXff = resolver(["10.0.0.0/8"], "x-forwarded-for");
    expect(
      viaXff(
        request("10.0.0.2", {
          "x-forwarded-for": "198.51.100.9",
          forwarded: "for=1.2.3.4",
        }),
      ),
    ).toBe("198.51.100.9");
    const viaForwarded = resolver(["10.0.0.0/8"], "forwarded");
    expect(
      viaForwarded(
        request("10.0.0.2", {
          "x-forwarded-for": "1.2.3.4",
          forwarded: 'for="[2001:db8::7]:80", for=10.0.0.9',
        }),
      ),
    ).toBe("2001:db8::7");
  });

  it("falls back to the nearest trusted hop when the header is missing, garbage or all trusted", () => {
    const resolve = resolver(["10.0.0.0/8"]);
    expect(resolve(request("10.0.0.2"))).toBe("10.0.0.2");
    expect(
      resolve(
        request("10.0.0.2", {
          "x-forwarded-for": "1.2.3.4, not-an-address, 10.0.0.3",
        }),
      ),
    ).toBe("10.0.0.3");
    expect(
      resolve(request("10.0.0.2", { "x-forwarded-for": "10.0.0.7, 10.0.0.3" })),
    ).toBe("10.0.0.7");
  });

  it("treats IPv4-mapped IPv6 peers as IPv4 and trusts IPv6 proxies", () => {
    const cases: Array<[string[], string, string, string]> = [
      // [trusted proxies, peer, X-Forwarded-For, the client address]
      [["10.0.0.0/8"], "::ffff:10.0.0.2", "198.51.100.9", "198.51.100.9"],
      [["fd00::/8"], "fd00::1", "2001:db8::5", "2001:db8::5"],
      [["10.0.0.0/8"], "::ffff:203.0.113.7", "1.2.3.4", "203.0.113.7"],
    ];
    for (const [trusted, peer, forwardedFor, client] of cases)
      expect(
        resolver(trusted)(request(peer, { "x-forwarded-for": forwardedFor })),
      ).toBe(client);
  });
});
