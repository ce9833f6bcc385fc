import { composeServices } from "@apollo/composition";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "graphql";
import { startHoldableServer, type HoldableServer } from "./holdable-server.ts";

/**
 * How an echo subgraph answers its next requests: `ok` (the headers it received, as the field's
 * JSON string), a GraphQL error in a 200, a 4xx with or without a GraphQL body, a 5xx, or a
 * dropped connection.
 */
export type EchoBehaviour =
  "ok" | "graphql-error" | "4xx" | "4xx-no-body" | "5xx" | "network";

/** The error an echo subgraph answers with: an unknown code, a detail, and a stack a client must never see. */
export const echoError = (name: string) => ({
  message: `secret detail from ${name}`,
  extensions: {
    code: "ECHO_REFUSED",
    detail: `${name}-detail`,
    stacktrace: [`at ${name}.ts:1`],
  },
});

export interface EchoSubgraph extends HoldableServer {
  readonly name: string;
  /** Headers of every request received, in order. */
  readonly received: IncomingHttpHeaders[];
  behaviour: EchoBehaviour;
  /** Response headers sent with every answer (`cache-control`, `set-cookie`). */
  responseHeaders: Record<string, string | string[]>;
}

/**
 * A subgraph with one root field (`Query.<name>: String`) that answers with the headers it
 * received, or fails as told: what header-rule and error-policy tests run the real router against.
 */
export async function startEchoSubgraph(name: string): Promise<EchoSubgraph> {
  const echo = {
    name,
    received: [] as IncomingHttpHeaders[],
    behaviour: "ok" as EchoBehaviour,
    responseHeaders: {} as Record<string, string | string[]>,
  };
  const server = await startHoldableServer((req, res, body) => {
    // Readiness probes are not part of what a test counts.
    if (body.includes("__typename") && !body.includes(name)) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"data":{"__typename":"Query"}}');
      return undefined;
    }
    echo.received.push(req.headers);
    return () => {
      const json = (status: number, payload: unknown) => {
        res.writeHead(status, {
          "content-type": "application/json",
          ...echo.responseHeaders,
        });
        res.end(JSON.stringify(payload));
      };
      switch (echo.behaviour) {
        case "ok":
          return json(200, {
            data: { [name]: JSON.stringify(req.headers) },
          });
        case "graphql-error":
          return json(200, {
            data: { [name]: null },
            errors: [{ ...echoError(name), path: [name] }],
          });
        case "4xx":
          return json(400, {
            errors: [{ ...echoError(name), path: [name] }],
          });
        case "4xx-no-body":
          res.writeHead(404, { "content-type": "text/plain" });
          return res.end("not here");
        case "5xx":
          return json(500, { errors: [echoError(name)] });
        case "network":
          return req.socket.destroy();
        default: {
          const unknown: never = echo.behaviour;
          throw new Error(`unknown behaviour ${String(unknown)}`);
        }
      }
    };
  });
  return Object.assign(echo, server);
}

/**
 * Echo subgraphs by name, composed into a supergraph file; `close` stops them and removes the file.
 */
export async function startEchoSupergraph(names: readonly string[]): Promise<{
  subgraphs: Record<string, EchoSubgraph>;
  supergraphPath: string;
  close(): Promise<void>;
}> {
  const subgraphs: Record<string, EchoSubgraph> = {};
  for (const name of names) subgraphs[name] = await startEchoSubgraph(name);
  const composed = composeServices(
    names.map((name) => ({
      name,
      url: subgraphs[name]!.url,
      typeDefs: parse(
        `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@shareable"])
         type Query { ${name}: String }`,
      ),
    })),
  );
  if (composed.errors)
    throw new Error(composed.errors.map((error) => error.message).join("\n"));
  const dir = mkdtempSync(join(tmpdir(), "echo-supergraph-"));
  const supergraphPath = join(dir, "supergraph.graphql");
  writeFileSync(supergraphPath, composed.supergraphSdl);
  return {
    subgraphs,
    supergraphPath,
    async close() {
      await Promise.all(Object.values(subgraphs).map((echo) => echo.close()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
