/**
 * Hive Gateway (@graphql-hive/gateway-runtime) as a benchmark peer, in a process of its own on the
 * Node it needs (bench/peers.ts installs both under .cache/peers/ and copies this file beside the
 * packages). Same protocol as bench/router-process.ts: reports `{ port }` over IPC once listening,
 * answers `cpu` with process.cpuUsage(), exits on `stop`.
 *
 * argv[2]: `defaults` (the runtime's defaults: outbound in-flight deduplication on, inbound off) or
 * `dedup` (plus inbound in-flight deduplication, the Guild benchmark's current configuration).
 */
import { createServer } from "node:http";
import process from "node:process";
import { createGatewayRuntime } from "@graphql-hive/gateway-runtime";

const mode = process.argv[2];
if (mode !== "defaults" && mode !== "dedup")
  throw new Error(`usage: serve.mjs defaults|dedup (got ${String(mode)})`);
const supergraph = process.env.SUPERGRAPH_PATH;
if (!supergraph) throw new Error("SUPERGRAPH_PATH is required");

const gateway = createGatewayRuntime({
  supergraph,
  logging: "error",
  ...(mode === "dedup" ? { inboundInflightRequestDeduplication: true } : {}),
});
const server = createServer(gateway);
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  process.on("message", (message) => {
    if (message === "cpu") process.send?.({ cpu: process.cpuUsage() });
    if (message === "stop") {
      server.closeAllConnections();
      server.close(
        () =>
          void Promise.resolve(gateway.dispose?.()).finally(() =>
            process.exit(0),
          ),
      );
    }
  });
  process.send?.({ port: server.address().port });
});
