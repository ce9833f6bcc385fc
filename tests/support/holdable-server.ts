import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** A local GraphQL endpoint whose answers can be held back: what dedup and header tests put behind the router. */
export interface HoldableServer {
  /** `http://127.0.0.1:<port>/graphql` */
  readonly url: string;
  /** Keeps answers waiting until `release` (requests sent together are then in flight together). */
  hold(): void;
  release(): void;
  close(): Promise<void>;
}

/**
 * Serves on a free port of 127.0.0.1. `handle` gets each request with its whole body and returns
 * the answer to send — run at once, or queued while the server is held — or nothing when it has
 * answered already (a readiness probe that must never wait on a hold).
 */
export async function startHoldableServer(
  handle: (
    req: IncomingMessage,
    res: ServerResponse,
    body: string,
  ) => (() => void) | undefined,
): Promise<HoldableServer> {
  let held: Array<() => void> | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const answer = handle(req, res, Buffer.concat(chunks).toString("utf8"));
      if (!answer) return;
      if (held) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
    hold() {
      held = [];
    },
    release() {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
