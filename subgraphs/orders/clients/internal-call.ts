import {
  unexpectedAnswer,
  type ServiceClient,
  type ServiceResponse,
} from "../../../platform/service-client.ts";

/** A field of an answer's JSON body, or undefined when the body is not an object. */
export const fieldOf = (body: unknown, name: string): unknown =>
  typeof body === "object" && body !== null
    ? (body as Record<string, unknown>)[name]
    : undefined;

/**
 * One call of a saga step: a POST retried on unavailability, which is safe because every internal
 * endpoint the saga calls is idempotent by the key inside `body` (reservation id, charge key).
 */
export function postIdempotent(
  client: Pick<ServiceClient, "call">,
  path: string,
  body: Record<string, unknown>,
): Promise<ServiceResponse> {
  return client.call({ method: "POST", path, body, retry: true });
}

/** Decodes an answer that carries nothing but success (a 200); any other answer is unexpected. */
export function expectOk(
  service: string,
  path: string,
  answer: ServiceResponse,
): void {
  if (answer.status !== 200) throw unexpectedAnswer(service, path, answer);
}
