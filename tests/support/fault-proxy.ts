import { connect, createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";

/**
 * How the proxy treats a new connection:
 * - `pass`: pipe it to the target (a healthy instance);
 * - `reset`: close it at once (a dead instance; the client sees a socket error);
 * - `hang`: accept it and never answer (a stuck instance);
 * - `status`: answer every request with `status` and `Connection: close` (an overloaded one).
 */
export type FaultMode = "pass" | "reset" | "hang" | "status";

/** The error response of the `status` mode and of `failNext`. */
export interface StatusOptions {
  /** @default 503 */
  status?: number;
  /** The `Retry-After` header's value; none when undefined. */
  retryAfter?: string;
}

/** The options with their defaults filled in. */
const statusResponse = ({ status = 503, retryAfter }: StatusOptions = {}) => ({
  status,
  retryAfter,
});

export interface FaultProxy {
  readonly url: string;
  /** Connections accepted so far, whatever the mode: each is one socket attempt by the router. */
  readonly connections: number;
  /** Requests answered with an error status (each on its own connection). */
  readonly failedRequests: number;
  /** Switches mode and drops every open connection, so kept-alive sockets cannot bypass it. */
  setMode(mode: FaultMode, options?: StatusOptions): void;
  /** The next `count` connections get one error status response each, then the mode applies again. */
  failNext(count: number, options?: StatusOptions): void;
  close(): Promise<void>;
}

/** A TCP proxy on loopback in front of a subgraph, for injecting faults and counting sockets. */
export async function startFaultProxy(
  targetUrl: string,
  mode: FaultMode = "pass",
): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  const sockets = new Set<Socket>();
  let current = mode;
  let statusOptions = statusResponse();
  let failing = 0;
  let failingOptions = statusOptions;
  let connections = 0;
  let failedRequests = 0;

  function answerWithStatus(
    socket: Socket,
    { status, retryAfter }: { status: number; retryAfter?: string },
  ) {
    socket.once("data", () => {
      failedRequests += 1;
      const body = "unavailable";
      const headers = [
        `HTTP/1.1 ${status} Unavailable`,
        "content-type: text/plain",
        `content-length: ${body.length}`,
        "connection: close",
      ];
      if (retryAfter !== undefined) headers.push(`retry-after: ${retryAfter}`);
      socket.end(`${headers.join("\r\n")}\r\n\r\n${body}`);
    });
  }

  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    if (failing > 0) {
      failing -= 1;
      answerWithStatus(socket, failingOptions);
      return;
    }
    switch (current) {
      case "reset":
        socket.destroy();
        return;
      case "hang":
        socket.resume();
        return;
      case "status":
        answerWithStatus(socket, statusOptions);
        return;
      case "pass": {
        const upstream = connect(Number(target.port), target.hostname);
        sockets.add(upstream);
        upstream.on("close", () => sockets.delete(upstream));
        upstream.on("error", () => socket.destroy());
        socket.on("close", () => upstream.destroy());
        socket.pipe(upstream).pipe(socket);
        return;
      }
      default: {
        const unknown: never = current;
        throw new Error(`unknown mode ${String(unknown)}`);
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const dropAll = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    get connections() {
      return connections;
    },
    get failedRequests() {
      return failedRequests;
    },
    setMode(next, options) {
      current = next;
      statusOptions = statusResponse(options);
      dropAll();
    },
    failNext(count, options) {
      failing = count;
      failingOptions = statusResponse(options);
      dropAll();
    },
    async close() {
      dropAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
