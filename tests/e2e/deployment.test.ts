import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runNodeToExit } from "../support/run-to-exit.ts";

const ROOT = resolve(import.meta.dirname, "../..");

/** Runs a TypeScript entry point of the repository to its end, as `node --import tsx`. */
const run = (script: string, env: Record<string, string>) =>
  runNodeToExit(["--import", "tsx", script], { cwd: ROOT, env });

describe("the container entry points as processes", () => {
  it("the health check refuses an unknown SERVICE, and follows /ready on the service’s configured port", async () => {
    const unknown = await run("deploy/healthcheck.ts", { SERVICE: "productz" });
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain("SERVICE must be one of users, products");
    let ready = true;
    const server = createServer((req, res) => {
      res.writeHead(req.url === "/ready" && ready ? 200 : 503);
      res.end();
    });
    await new Promise<void>((listening) =>
      server.listen(0, "127.0.0.1", listening),
    );
    try {
      const port = String((server.address() as AddressInfo).port);
      expect(
        (
          await run("deploy/healthcheck.ts", {
            SERVICE: "worker",
            WORKER_PORT: port,
          })
        ).code,
      ).toBe(0);
      ready = false;
      expect(
        (
          await run("deploy/healthcheck.ts", {
            SERVICE: "worker",
            WORKER_PORT: port,
          })
        ).code,
      ).toBe(1);
    } finally {
      server.close();
    }
  }, 30_000);
});
