/**
 * Retry timing shared by every client that retries: the router's subgraph fetches and the
 * service-to-service REST client.
 *
 * Full-jitter exponential backoff: attempt n (the first retry is 1) waits a uniformly random time
 * in [0, min(maxDelay, base·2^(n-1))]. Jitter spreads retries from many requests that failed
 * together, so they do not hit a recovering service in one wave.
 */
export function backoffDelayMs(
  retry: number,
  { baseDelayMs, maxDelayMs }: { baseDelayMs: number; maxDelayMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    maxDelayMs,
    baseDelayMs * 2 ** Math.max(0, retry - 1),
  );
  return Math.floor(random() * ceiling);
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date); undefined when absent or unusable. */
export function parseRetryAfterMs(
  header: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (header === null || header === undefined || header.trim() === "")
    return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
