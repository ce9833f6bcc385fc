import type { IncomingMessage, ServerResponse } from "node:http";
import {
  BodyTooLargeError,
  readBody,
  sendJson,
  type Handler,
} from "./http-server.ts";
import type { Logger } from "./logger.ts";
import { verifyServiceRequest } from "./service-auth.ts";

/** What an internal endpoint answers: an HTTP status and a JSON body. */
export interface InternalReply {
  status: number;
  body: unknown;
}

/** Thrown by request parsers: becomes a 400 with the message, never a 500. */
export class InvalidRequestError extends Error {}

/**
 * An internal REST endpoint (service-to-service, never exposed through the supergraph): POST only,
 * JSON body of at most 64 KiB, signed by an allowed service (see service-auth.ts), parsed and
 * validated before the handler sees it.
 */
export function internalEndpoint<Request>({
  secret,
  allowed,
  logger,
  parse,
  handle,
}: {
  secret: string;
  allowed: readonly string[];
  logger: Logger;
  parse: (body: unknown) => Request;
  handle: (request: Request) => Promise<InternalReply>;
}): Handler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== "POST")
      return sendJson(
        res,
        405,
        { code: "BAD_REQUEST", message: "use POST" },
        { allow: "POST" },
      );
    let raw: string;
    try {
      raw = await readBody(req, 64 * 1024);
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        return sendJson(res, 413, {
          code: "BAD_REQUEST",
          message: error.message,
        });
      throw error;
    }
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const caller = verifyServiceRequest({
      secret,
      headers: req.headers,
      method: "POST",
      path,
      body: raw,
      allowed,
    });
    if (!caller)
      return sendJson(res, 401, {
        code: "UNAUTHENTICATED",
        message: "internal endpoints need a valid service signature",
      });
    let request: Request;
    try {
      request = parse(raw.length > 0 ? JSON.parse(raw) : {});
    } catch (error) {
      if (error instanceof InvalidRequestError || error instanceof SyntaxError)
        return sendJson(res, 400, {
          code: "BAD_REQUEST",
          message: error.message,
        });
      throw error;
    }
    const reply = await handle(request);
    logger.debug({ caller, path, status: reply.status }, "internal call");
    sendJson(res, reply.status, reply.body);
  };
}

const UUID =
  /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/** Small validators for internal request bodies: each names the field it rejects. */
export const field = {
  object(value: unknown, name = "body"): Record<string, unknown> {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      throw new InvalidRequestError(`${name} must be an object`);
    return value as Record<string, unknown>;
  },
  uuid(value: unknown, name: string): string {
    if (typeof value !== "string" || !UUID.test(value))
      throw new InvalidRequestError(`${name} must be a UUID`);
    return value.toLowerCase();
  },
  int(value: unknown, name: string, min: number, max: number): number {
    if (
      !Number.isSafeInteger(value) ||
      (value as number) < min ||
      (value as number) > max
    )
      throw new InvalidRequestError(
        `${name} must be an integer from ${min} to ${max}`,
      );
    return value as number;
  },
  string(value: unknown, name: string, maxLength = 200): string {
    if (
      typeof value !== "string" ||
      value.length === 0 ||
      value.length > maxLength
    )
      throw new InvalidRequestError(
        `${name} must be a non-empty string of at most ${maxLength} characters`,
      );
    return value;
  },
  array(value: unknown, name: string, min: number, max: number): unknown[] {
    if (!Array.isArray(value) || value.length < min || value.length > max)
      throw new InvalidRequestError(
        `${name} must be an array of ${min} to ${max} entries`,
      );
    return value;
  },
};
