import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import {
  GraphQLError,
  parse,
  type ExecutionArgs,
  type ExecutionResult,
  type FormattedExecutionResult,
} from "graphql";
import { createHandler } from "graphql-sse/lib/use/http";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../../platform/logger.ts";
import type { Principal } from "../../platform/principal.ts";
import type { JwtVerifier } from "../auth/verify-jwt.ts";
import type { LiveCaller, LiveResult, LiveService } from "./live-service.ts";

/** The path that serves GraphQL over Server-Sent Events (graphql-sse, distinct connections mode). */
export const SSE_PATH = "/graphql/stream";
/** The path whose upgrade serves GraphQL over WebSocket (graphql-transport-ws), as Sandbox expects. */
export const WS_PATH = "/graphql";

/** A caller verified from the request's Authorization header (throws a coded 401 on a bad token). */
async function callerOf(
  verifier: JwtVerifier,
  clientAddressOf: (req: IncomingMessage) => string,
  req: IncomingMessage,
  authorization: string | undefined,
  connectionId: string,
): Promise<LiveCaller> {
  const token = await verifier.verifyToken(authorization);
  const clientAddress = clientAddressOf(req);
  return {
    principal: token?.principal ?? null,
    clientId: token ? `user:${token.principal.id}` : `ip:${clientAddress}`,
    clientAddress,
    connectionId,
    ...(token ? { expiresAt: token.expiresAt } : {}),
  };
}

const statusOf = (error: GraphQLError) => {
  const http = error.extensions.http as { status?: unknown } | undefined;
  return typeof http?.status === "number" ? http.status : 401;
};

/** graphql-sse's types want graphql-js results; ours are the formatted (JSON) form of the same. */
const asResult = (result: LiveResult) => result as unknown as ExecutionResult;

/**
 * GraphQL over SSE: `POST /graphql/stream` with `Accept: text/event-stream` and the usual JSON
 * body; each request is one operation and one stream (graphql-sse "distinct connections" mode,
 * the library client's default). The token is verified once, when the stream opens, and the
 * stream ends when it expires (router/live/fan-out.ts); graphql-sse sends a keep-alive comment
 * every 12 s.
 */
export function createSseHandler({
  live,
  verifier,
  clientAddressOf,
}: {
  live: LiveService;
  verifier: JwtVerifier;
  clientAddressOf: (req: IncomingMessage) => string;
}): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return createHandler({
    // No reservation tokens: single-connection mode is off, every stream is its own request.
    authenticate: () => null,
    async onSubscribe(req, params) {
      let caller: LiveCaller;
      try {
        caller = await callerOf(
          verifier,
          clientAddressOf,
          req.raw,
          req.raw.headers.authorization,
          randomUUID(),
        );
      } catch (error) {
        if (!(error instanceof GraphQLError)) throw error;
        return [
          JSON.stringify({ errors: [error.toJSON()] }),
          {
            status: statusOf(error),
            statusText: "Unauthorized",
            headers: { "content-type": "application/json; charset=utf-8" },
          },
        ];
      }
      const result = await live.operation(params, caller);
      return Symbol.asyncIterator in result
        ? (result as unknown as AsyncGenerator<ExecutionResult>)
        : asResult(result);
    },
  });
}

const SUBSCRIPTION_SHAPE = parse("subscription { __typename }");
const QUERY_SHAPE = parse("{ __typename }");
/** WebSocket close code 1001: the server is going away (RFC 6455 §7.4.1). */
const GOING_AWAY = 1001;

/** Per-connection state graphql-ws keeps in `ctx.extra`. */
type WsExtra = { caller?: LiveCaller };

export interface WsTransport {
  /** Hands an HTTP upgrade of `/graphql` to the WebSocket server; other paths are refused. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Closes every socket (1001, going away) after the drain sent each subscription its last message. */
  close(): Promise<void>;
}

/**
 * GraphQL over WebSocket (graphql-transport-ws, the graphql-ws library): the token comes in
 * `connection_init` (`{ "authorization": "Bearer …" }`, what browsers can send) or on the upgrade
 * request; a bad token closes the socket with 4403. Pings every `keepAliveMs`.
 */
export function createWsTransport({
  live,
  verifier,
  clientAddressOf,
  keepAliveMs,
  logger,
}: {
  live: LiveService;
  verifier: JwtVerifier;
  clientAddressOf: (req: IncomingMessage) => string;
  keepAliveMs: number;
  logger: Logger;
}): WsTransport {
  const wss = new WebSocketServer({ noServer: true });
  const server = useServer<Record<string, unknown> | undefined, WsExtra>(
    {
      async onConnect(ctx) {
        // Apollo Sandbox sends its headers pane as connection params, keys as typed.
        const fromParams =
          ctx.connectionParams?.authorization ??
          ctx.connectionParams?.Authorization;
        const authorization =
          typeof fromParams === "string"
            ? fromParams
            : ctx.extra.request.headers.authorization;
        try {
          ctx.extra.caller = await callerOf(
            verifier,
            clientAddressOf,
            ctx.extra.request,
            authorization,
            randomUUID(),
          );
          return true;
        } catch (error) {
          logger.info(
            { err: error },
            "live WebSocket refused: token not accepted",
          );
          return false;
        }
      },
      // Everything is ours: parse, validate and run in the live service; graphql-ws only carries.
      async onSubscribe(ctx, _id, payload) {
        const caller: LiveCaller = ctx.extra.caller ?? {
          principal: null as Principal | null,
          clientId: "anonymous",
          clientAddress: "",
          connectionId: "none",
        };
        const result = await live.operation(payload, caller);
        if (!(Symbol.asyncIterator in result) && result.data === null)
          return (result.errors ?? []).map(
            (error) =>
              new GraphQLError(error.message, {
                extensions: error.extensions ?? {},
              }),
          );
        // graphql-ws only reads the operation type off the document; the work is done already.
        const streamed = Symbol.asyncIterator in result;
        return {
          schema: undefined as unknown as ExecutionArgs["schema"],
          document: streamed ? SUBSCRIPTION_SHAPE : QUERY_SHAPE,
          contextValue: result,
        };
      },
      // Results are already in their JSON form (Apollo Server formatted and masked them).
      onNext: (_ctx, _id, _payload, _args, result) =>
        result as unknown as FormattedExecutionResult,
      execute: (args) => args.contextValue as ExecutionResult,
      subscribe: (args) =>
        args.contextValue as AsyncGenerator<ExecutionResult, void, unknown>,
    },
    wss,
    keepAliveMs,
  );
  return {
    upgrade(req, socket, head) {
      const path = new URL(req.url ?? "/", "http://router").pathname;
      if (path !== WS_PATH) {
        socket.destroy();
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) =>
        wss.emit("connection", ws, req),
      );
    },
    async close() {
      // The drain resolved as each transport took its stream's end; its `complete` is queued in
      // microtasks that run before this turn of the event loop is over.
      await new Promise((resolve) => setImmediate(resolve));
      for (const client of wss.clients as Set<WebSocket>)
        client.close(GOING_AWAY, "router shutting down");
      await server.dispose();
    },
  };
}
