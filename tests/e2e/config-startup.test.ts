import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../support/process.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "switchyard-startup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a real entry point to its exit, with only the environment given (plus PATH). */
function run(
  entry: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ["--import", "tsx", entry], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        APOLLO_TELEMETRY_DISABLED: "true",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // A process that would start instead of refusing must not outlive the test.
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

function configFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("start-up refusals, as an operator sees them", () => {
  it("npm start with a typo in a key of switchyard.yaml: one line naming the key and the closest valid one, exit 2", async () => {
    const file = configFile(
      "typo.yaml",
      `router:\n  port: ${await freePort()}\n  limits:\n    max_dpeth: 5\n`,
    );
    const { code, stdout, stderr } = await run("main.ts", {
      SWITCHYARD_CONFIG: file,
    });
    expect(stderr).toBe(
      `switchyard: invalid configuration: ${file}: unknown key router.limits.max_dpeth; did you mean router.limits.max_depth?\n`,
    );
    expect(stdout).toBe("");
    expect(code).toBe(2);
  }, 90_000);

  it("several bad values, from the file and the environment, are reported together without a stack trace", async () => {
    const file = configFile(
      "values.yaml",
      "router:\n  port: eighty\nlog:\n  level: loud\n",
    );
    const { code, stderr } = await run("router/main.ts", {
      SWITCHYARD_CONFIG: file,
      ROUTER_MAX_DEPTH: "0",
    });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toEqual([
      "switchyard: invalid configuration (3 problems):",
      `  ${file}: log.level (LOG_LEVEL) must be one of fatal, error, warn, info, debug, trace, silent, got "loud"`,
      `  ${file}: router.port (ROUTER_PORT) must be an integer, got "eighty"`,
      "  ROUTER_MAX_DEPTH must be between 1 and 100, got 0",
    ]);
  }, 90_000);

  it("a bad OpenTelemetry variable (environment only, read outside the config modules) is one line too", async () => {
    const { code, stderr } = await run("main.ts", {
      OTEL_TRACES_SAMPLER_ARG: "2",
      ROUTER_PORT: String(await freePort()),
    });
    expect(stderr).toBe(
      "switchyard: invalid configuration: OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1\n",
    );
    expect(code).toBe(2);
  }, 90_000);

  it("the image health check asks the port the file sets, as the service does", async () => {
    const server = createServer((socket) =>
      socket.end(
        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
      ),
    );
    await new Promise<void>((listening) =>
      server.listen(0, "127.0.0.1", listening),
    );
    try {
      const file = configFile(
        "health.yaml",
        `pipeline:\n  worker_port: ${(server.address() as { port: number }).port}\n`,
      );
      expect(
        (
          await run("deploy/healthcheck.ts", {
            SERVICE: "worker",
            SWITCHYARD_CONFIG: file,
          })
        ).code,
      ).toBe(0);
      expect(
        (
          await run("deploy/healthcheck.ts", {
            SERVICE: "worker",
            SWITCHYARD_CONFIG: file,
            WORKER_PORT: String(await freePort()),
          })
        ).code,
      ).toBe(1);
    } finally {
      server.close();
    }
  }, 90_000);

  it("a port in use is one line naming the port and the setting that chose it", async () => {
    const holder: Server = createServer();
    await new Promise<void>((listening) =>
      holder.listen(0, "127.0.0.1", listening),
    );
    const port = (holder.address() as { port: number }).port;
    try {
      const { code, stdout, stderr } = await run("router/main.ts", {
        ROUTER_PORT: String(port),
        LOG_LEVEL: "silent",
        SUPERGRAPH_PATH: join(ROOT, "supergraph.graphql"),
      });
      expect(stderr).toBe(
        `switchyard: port ${port} is in use (ROUTER_PORT / router.port)\n`,
      );
      expect(stdout).toBe("");
      expect(code).toBe(1);
    } finally {
      holder.close();
    }
  }, 90_000);
});
