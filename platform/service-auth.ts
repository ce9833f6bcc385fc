import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";

/**
 * Service-to-service authentication for internal REST endpoints: the caller signs
 * `service \n timestamp \n method \n path \n sha256(body)` with a shared secret (HMAC-SHA256).
 * A request is accepted only within `maxSkewMs` of its timestamp, so a captured request cannot be
 * replayed later; within the window replays are harmless because every internal call is idempotent.
 */
export const SERVICE_HEADERS = {
  name: "x-switchyard-service",
  timestamp: "x-switchyard-timestamp",
  signature: "x-switchyard-signature",
} as const;

function signature(
  secret: string,
  parts: {
    service: string;
    timestamp: string;
    method: string;
    path: string;
    body: string;
  },
): string {
  const bodyHash = createHash("sha256").update(parts.body).digest("hex");
  return createHmac("sha256", secret)
    .update(
      [
        parts.service,
        parts.timestamp,
        parts.method.toUpperCase(),
        parts.path,
        bodyHash,
      ].join("\n"),
    )
    .digest("base64url");
}

export function signServiceRequest({
  secret,
  service,
  method,
  path,
  body,
  now = Date.now(),
}: {
  secret: string;
  service: string;
  method: string;
  path: string;
  body: string;
  now?: number;
}): Record<string, string> {
  const timestamp = String(now);
  return {
    [SERVICE_HEADERS.name]: service,
    [SERVICE_HEADERS.timestamp]: timestamp,
    [SERVICE_HEADERS.signature]: signature(secret, {
      service,
      timestamp,
      method,
      path,
      body,
    }),
  };
}

/** Returns the calling service's name, or undefined when the request is not validly signed. */
export function verifyServiceRequest({
  secret,
  headers,
  method,
  path,
  body,
  allowed,
  now = Date.now(),
  maxSkewMs = 60_000,
}: {
  secret: string;
  headers: IncomingHttpHeaders;
  method: string;
  path: string;
  body: string;
  allowed: readonly string[];
  now?: number;
  maxSkewMs?: number;
}): string | undefined {
  const service = headers[SERVICE_HEADERS.name];
  const timestamp = headers[SERVICE_HEADERS.timestamp];
  const given = headers[SERVICE_HEADERS.signature];
  if (
    typeof service !== "string" ||
    typeof timestamp !== "string" ||
    typeof given !== "string"
  )
    return undefined;
  if (
    !allowed.includes(service) ||
    !/^\d{1,16}$/.test(timestamp) ||
    Math.abs(now - Number(timestamp)) > maxSkewMs
  )
    return undefined;
  const expected = Buffer.from(
    signature(secret, { service, timestamp, method, path, body }),
  );
  const actual = Buffer.from(given);
  return expected.length === actual.length && timingSafeEqual(expected, actual)
    ? service
    : undefined;
}
