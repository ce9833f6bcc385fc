import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { HeaderMap, type ApolloServer, type BaseContext } from "@apollo/server";
import {
  correlationIdFrom,
  REQUEST_ID_HEADER,
  withCorrelation,
} from "./correlation.ts";
import { exceedsJsonDepth, MAX_JSON_DEPTH } from "./json-depth.ts";
import type { Logger } from "./logger.ts";
import type { ServiceMetrics } from "./metrics.ts";
import { contextFrom, inSpan, SpanKind } from "./tracing.ts";

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
) => Promise<void> | void;

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish (up to `graceMs`), then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/**
 * The HTTP surface every service shares: `/health`, `/ready`, `/metrics`, plus service routes.
 * Routes are matched on the path alone; unknown paths get 404. With `diagnostics` off (the router's
 * public port in production) `/ready` answers its status alone and `/metrics` is not served: the
 * details name internal addresses and breaker states, which belong on an admin port.
 */
export function createHttpHandler({
  routes,
  ready,
  metrics,
  logger,
  clientAddress,
  diagnostics = true,
}: {
  routes: Record<string, Handler>;
  ready: () => Promise<{ ready: boolean; details?: unknown }>;
  metrics: ServiceMetrics;
  logger: Logger;
  /** The client's address for the access line (the router's honours trusted proxies); unset = not logged. */
  clientAddress?: (req: IncomingMessage) => string;
  /** Serve `/metrics` and `/ready`'s details. @default true */
  diagnostics?: boolean;
}): Handler {
  const table: Record<string, Handler> = {
    "/health": (_req, res) => sendJson(res, 200, { status: "ok" }),
    "/ready": async (_req, res) => {
      const state = await ready().catch((error: unknown) => ({
        ready: false,
        details: { error: (error as Error).message },
      }));
      sendJson(res, state.ready ? 200 : 503, {
        status: state.ready ? "ready" : "not ready",
        ...(state.details && diagnostics ? { details: state.details } : {}),
      });
    },
    ...(diagnostics
      ? {
          "/metrics": async (_req: IncomingMessage, res: ServerResponse) => {
            const text = await metrics.registry.metrics();
            res.writeHead(200, {
              "content-type": metrics.registry.contentType,
            });
            res.end(text);
          },
        }
      : {}),
    ...routes,
  };
  /** Probes and scrapes are neither traced nor worth a span each. */
  const untraced = new Set(["/health", "/ready", "/metrics"]);
  const serve = async (
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    route: Handler | undefined,
  ) => {
    try {
      if (route) await route(req, res);
      else sendJson(res, 404, { error: "not found" });
    } catch (error) {
      logger.error({ err: error, path }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error" });
      else res.destroy();
    }
  };
  return async (req, res) => {
    const started = process.hrtime.bigint();
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const route = table[path];
    // Every request gets a correlation id: the caller's when it is valid, a fresh one otherwise.
    // It is echoed so a client can quote it, and bound to everything done for the request.
    const correlationId = correlationIdFrom(req.headers[REQUEST_ID_HEADER]);
    res.setHeader(REQUEST_ID_HEADER, correlationId);
    try {
      await withCorrelation(correlationId, () =>
        untraced.has(path) || !route
          ? serve(req, res, path, route)
          : inSpan(
              `${req.method ?? "GET"} ${path}`,
              {
                kind: SpanKind.SERVER,
                parent: contextFrom(req.headers),
                attributes: {
                  service: metrics.service,
                  "http.request.method": req.method ?? "GET",
                  "url.path": path,
                  "correlation.id": correlationId,
                },
              },
              async (span) => {
                await serve(req, res, path, route);
                span.setAttribute("http.response.status_code", res.statusCode);
              },
            ),
      );
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.httpDuration.observe(
        {
          route: route ? path : "unknown",
          method: req.method ?? "GET",
          status: String(res.statusCode),
        },
        seconds,
      );
      // The access line: one per served request (probes and scrapes excepted), tied to its id.
      if (route && !untraced.has(path) && logger.isLevelEnabled("info")) {
        withCorrelation(correlationId, () =>
          logger.info(
            {
              method: req.method,
              path,
              status: res.statusCode,
              ms: Math.round(seconds * 1e4) / 10,
              ...(clientAddress ? { client: clientAddress(req) } : {}),
            },
            "request served",
          ),
        );
      }
    }
  };
}

/**
 * Listens until `close`, which drains: the listening socket closes at once (no new connections),
 * idle keep-alive connections are closed, and every request already being handled runs to the
 * end. Responses sent while draining carry `Connection: close`, so a keep-alive client learns
 * from the response itself not to send another request on that connection (a request on a socket
 * the server is closing is the one a client sees reset). Connections still open after `graceMs`
 * are cut.
 */
export async function listen(
  handler: Handler,
  {
    port,
    host = "127.0.0.1",
    setting,
    upgrade,
  }: {
    port: number;
    host?: string;
    setting?: string;
    /** Takes HTTP upgrades (the router's WebSocket subscriptions); without it they are refused. */
    upgrade?: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  },
): Promise<RunningServer> {
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  const server: Server = createServer(
    { keepAliveTimeout: 65_000, requestTimeout: 60_000 },
    (req, res) => {
      if (draining) res.setHeader("connection", "close");
      inFlight.add(res);
      res.once("close", () => {
        inFlight.delete(res);
        // A response that started before the drain may have kept its connection alive.
        if (draining) setImmediate(() => server.closeIdleConnections());
      });
      void handler(req, res);
    },
  );
  if (upgrade) server.on("upgrade", upgrade);
  await new Promise<void>((resolve, reject) => {
    const refuse = (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new PortInUseError({ port, host, setting, cause: error })
          : error,
      );
    server.once("error", refuse);
    server.listen(port, host, () => {
      server.off("error", refuse);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" || host === "::" ? "localhost" : host;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    async close(graceMs = 10_000) {
      draining = true;
      for (const res of inFlight)
        if (!res.headersSent) res.setHeader("connection", "close");
      const closed = new Promise<void>((resolve) =>
        server.close(() => resolve()),
      );
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      timer.unref();
      await closed;
      clearTimeout(timer);
    },
  };
}

/**
 * Another process holds the port: one line naming the port and, when the caller says, the setting
 * that chose it (`port 4000 is in use (ROUTER_PORT / router.port)`). Not retriable: the holder will
 * not leave because we wait.
 */
export class PortInUseError extends Error {
  readonly code = "EADDRINUSE";
  readonly retriable = false;
  readonly port: number;
  constructor({
    port,
    host,
    setting,
    cause,
  }: {
    port: number;
    host: string;
    setting: string | undefined;
    cause: unknown;
  }) {
    super(
      `port ${port} is in use${host === "127.0.0.1" || host === "localhost" ? "" : ` on ${host}`}${setting ? ` (${setting})` : ""}`,
      { cause },
    );
    this.name = "PortInUseError";
    this.port = port;
  }
}

export class BodyTooLargeError extends Error {}

export async function readBody(
  req: IncomingMessage,
  maxBytes: number,
): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > maxBytes)
    throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      throw new BodyTooLargeError(`body exceeds ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A GraphQL-over-HTTP request as read off the socket, ready for Apollo Server. */
export interface GraphQLHttpRequest {
  readonly method: string;
  readonly headers: HeaderMap;
  readonly search: string;
  /** The parsed JSON body (or the raw text of a non-JSON one). */
  readonly body: unknown;
}

/** A response whose body is fully known: encoded once, so it can be written to several sockets. */
export interface CompleteGraphQLResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly payload: Buffer;
}

export type GraphQLHttpResponse =
  | CompleteGraphQLResponse
  | {
      readonly status: number;
      readonly headers: Record<string, string>;
      readonly chunks: AsyncIterable<string>;
    };

/** Parses a GET request's JSON parameter for the depth check only; a malformed one is Apollo Server's to refuse. */
function parsedParameter(url: URL, name: string): unknown {
  const raw = url.searchParams.get(name);
  if (raw === null) return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * Reads and parses the body; on a body too large, not JSON, or nested deeper than MAX_JSON_DEPTH
 * (platform/json-depth.ts: the body, or a GET's `variables` / `extensions`), answers the client
 * itself and returns undefined.
 */
export async function readGraphQLRequest(
  req: IncomingMessage,
  res: ServerResponse,
  maxBodyBytes: number,
): Promise<GraphQLHttpRequest | undefined> {
  const headers = new HeaderMap();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined)
      headers.set(key, Array.isArray(value) ? value.join(", ") : value);
  }
  let body: unknown;
  try {
    const raw = await readBody(req, maxBodyBytes);
    body =
      raw.length > 0 && (headers.get("content-type") ?? "").includes("json")
        ? JSON.parse(raw)
        : raw;
  } catch (error) {
    const tooLarge = error instanceof BodyTooLargeError;
    sendJson(res, tooLarge ? 413 : 400, {
      errors: [
        {
          message: tooLarge ? error.message : "request body is not valid JSON",
          extensions: { code: tooLarge ? "BAD_REQUEST" : "BAD_USER_INPUT" },
        },
      ],
    });
    if (tooLarge) req.resume();
    return undefined;
  }
  const url = new URL(req.url ?? "/", "http://localhost");
  // `variables` and `extensions` sit one level below the body; in a GET they are parameters.
  if (
    exceedsJsonDepth(body, MAX_JSON_DEPTH + 1) ||
    exceedsJsonDepth(parsedParameter(url, "variables")) ||
    exceedsJsonDepth(parsedParameter(url, "extensions"))
  ) {
    sendJson(res, 400, {
      errors: [
        {
          message: `request JSON nests deeper than ${MAX_JSON_DEPTH} levels`,
          extensions: { code: "BAD_REQUEST", maxDepth: MAX_JSON_DEPTH },
        },
      ],
    });
    return undefined;
  }
  return {
    method: (req.method ?? "GET").toUpperCase(),
    headers,
    search: url.search,
    body,
  };
}

/** Runs one request through Apollo Server's own HTTP semantics (CSRF prevention, GET handling, landing page). */
export async function executeGraphQL<Ctx extends BaseContext>(
  server: ApolloServer<Ctx>,
  request: GraphQLHttpRequest,
  context: () => Promise<Ctx>,
): Promise<GraphQLHttpResponse> {
  const response = await server.executeHTTPGraphQLRequest({
    httpGraphQLRequest: request,
    context,
  });
  const headers: Record<string, string> = {};
  for (const [key, value] of response.headers) headers[key] = value;
  const status = response.status ?? 200;
  if (response.body.kind === "chunked")
    return { status, headers, chunks: response.body.asyncIterator };
  // Encoded once here: given the string, Node measures its UTF-8 length for the header and then
  // encodes it again to write it, which for a large response was a fifth of the router's CPU.
  const payload = Buffer.from(response.body.string, "utf8");
  return {
    status,
    headers: { ...headers, "content-length": String(payload.length) },
    payload,
  };
}

export async function sendGraphQLResponse(
  res: ServerResponse,
  response: GraphQLHttpResponse,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  res.writeHead(response.status, { ...response.headers, ...extraHeaders });
  if ("payload" in response) {
    res.end(response.payload);
    return;
  }
  for await (const chunk of response.chunks) res.write(chunk);
  res.end();
}

/**
 * Serves an ApolloServer from Node's http module (no framework): body limit, JSON parsing, and the
 * server's own HTTP semantics via executeHTTPGraphQLRequest.
 */
export function graphqlHandler<Ctx extends BaseContext>(
  server: ApolloServer<Ctx>,
  {
    context,
    maxBodyBytes = 1_000_000,
  }: { context: (req: IncomingMessage) => Promise<Ctx>; maxBodyBytes?: number },
): Handler {
  return async (req, res) => {
    const request = await readGraphQLRequest(req, res, maxBodyBytes);
    if (!request) return;
    await sendGraphQLResponse(
      res,
      await executeGraphQL(server, request, () => context(req)),
    );
  };
}
