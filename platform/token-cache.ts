/**
 * Remembers what verifying (or signing) a token produced, so the hot path pays WebCrypto once per
 * token instead of once per request: ES256/HS256 through jose cost more router CPU per request than
 * planning the query. Entries live until their own expiry, and never longer than `maxAgeMs`, so a
 * key change (rotation, a new secret) reaches every cached entry within that time. Bounded: past
 * `maxEntries` the oldest entry is dropped, so a flood of distinct tokens cannot grow memory.
 */
export function createTokenCache<Value>({
  maxEntries = 10_000,
  maxAgeMs = 60_000,
  now = Date.now,
}: { maxEntries?: number; maxAgeMs?: number; now?: () => number } = {}) {
  const entries = new Map<string, { value: Value; expiresAt: number }>();
  return {
    get(key: string): { value: Value } | undefined {
      const entry = entries.get(key);
      if (!entry) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry;
    },
    /** `expiresAt` is epoch ms; the entry is kept until then or `maxAgeMs`, whichever comes first. */
    set(key: string, value: Value, expiresAt: number): void {
      if (entries.size >= maxEntries && !entries.has(key))
        entries.delete(entries.keys().next().value!);
      entries.set(key, {
        value,
        expiresAt: Math.min(expiresAt, now() + maxAgeMs),
      });
    },
    get size() {
      return entries.size;
    },
  };
}
