import { describe, expect, it } from "vitest";
import { createTokenCache } from "../../../platform/token-cache.ts";

describe("the verified-token cache", () => {
  it("forgets an entry at its own expiry", () => {
    let now = 1_000;
    const cache = createTokenCache<string>({ now: () => now });
    cache.set("token", "principal", 2_000);
    expect(cache.get("token")?.value).toBe("principal");
    now = 2_000;
    expect(cache.get("token")).toBeUndefined();
  });

  it("keeps nothing longer than its maximum age, so key changes reach cached tokens", () => {
    let now = 0;
    const cache = createTokenCache<string>({ now: () => now, maxAgeMs: 100 });
    cache.set("long-lived", "principal", 1_000_000);
    now = 99;
    expect(cache.get("long-lived")).toBeDefined();
    now = 100;
    expect(cache.get("long-lived")).toBeUndefined();
  });

  it("stays bounded under a flood of distinct tokens, dropping the oldest first", () => {
    const cache = createTokenCache<number>({ maxEntries: 3 });
    for (let index = 0; index < 10; index += 1)
      cache.set(`token-${index}`, index, Date.now() + 60_000);
    expect(cache.size).toBe(3);
    expect(cache.get("token-6")).toBeUndefined();
    expect(cache.get("token-9")?.value).toBe(9);
  });

  it("remembers a null value (an anonymous caller) as a hit", () => {
    const cache = createTokenCache<null>();
    cache.set("anonymous", null, Date.now() + 60_000);
    expect(cache.get("anonymous")).toBeDefined();
    expect(cache.get("anonymous")!.value).toBeNull();
  });
});
