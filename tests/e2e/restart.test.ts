import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { demoProducts } from "../../platform/demo-data.ts";
import { gql } from "../support/stack.ts";
import { startProcess, type Service } from "../support/process.ts";

describe("npm start on embedded defaults", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "switchyard-data-"));
  let running: Service | undefined;
  afterAll(async () => {
    await running?.stop("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it(
    "keeps data written through the API across a Ctrl-C and a restart",
    { timeout: 120_000 },
    async () => {
      // Every port 0: the process listens wherever the OS says and prints the router's URL. No test
      // binds a default port (one may be taken by a Switchyard already running here), nor a port
      // freed a moment ago for another process to take first.
      const ports = {
        ROUTER_PORT: "0",
        USERS_PORT: "0",
        PRODUCTS_PORT: "0",
        ORDERS_PORT: "0",
        PAYMENTS_PORT: "0",
        NOTIFICATIONS_PORT: "0",
      };
      // NODE_ENV as a developer has it: vitest's 'test' would hide Apollo's own signal handlers.
      const env = {
        ...ports,
        DATA_DIR: dataDir,
        LOG_LEVEL: "warn",
        APOLLO_TELEMETRY_DISABLED: "true",
        NODE_ENV: "development",
      };
      const READY = /Router ready at (http:\/\/localhost:\d+\/graphql)/;
      const routerUrlOf = (service: Service) =>
        READY.exec(service.output())![1]!;
      const credentials = {
        email: "persistent@switchyard.dev",
        password: "survives restarts",
      };

      running = await startProcess("main.ts", { env, readyLine: READY });
      let url = routerUrlOf(running);
      const signUp = await gql(
        url,
        `mutation($input: SignUpInput!) { signUp(input: $input) { user { id } } }`,
        { input: { ...credentials, name: "Persistent Customer" } },
      );
      expect(signUp.errors).toBeUndefined();
      // Ctrl-C: every service stops cleanly and the process exits 0.
      expect(await running.stop("SIGINT")).toBe(0);

      running = await startProcess("main.ts", { env, readyLine: READY });
      url = routerUrlOf(running);
      const logIn = await gql(
        url,
        `mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { user { id name } } }`,
        credentials,
      );
      expect(logIn.errors).toBeUndefined();
      expect(logIn.data.logIn.user).toEqual({
        id: signUp.data.signUp.user.id,
        name: "Persistent Customer",
      });
      // The demo data was seeded once, not again on the second start.
      const { data } = await gql(url, "{ products(first: 0) { totalCount } }");
      expect(data.products.totalCount).toBe(demoProducts.length);
      expect(await running.stop("SIGTERM")).toBe(0);
      running = undefined;
    },
  );
});
