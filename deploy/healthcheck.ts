/**
 * The image's HEALTHCHECK: GET /ready of the deployable named by SERVICE, on the port its config
 * module reads. Exit 0 when ready, 1 otherwise (Docker's contract). Docker runs it every 10 s in
 * every container, so the image runs its bundle (`node dist/healthcheck.js`: the config modules
 * and nothing else, no transpiler), and it asks with `node:http`, not `fetch`: fetch loads undici
 * on first use, which multiplied the check's time and added ~45 MB (docs/deployment.md).
 */
import { get } from "node:http";
import { resolveEnvironment } from "../platform/config-file.ts";
import { ALL_SETTINGS } from "./configuration.ts";
import { deployable } from "./deployables.ts";

function fail(message: string): never {
  console.error(`not ready: ${message}`);
  process.exit(1);
}

try {
  // The port as the service itself resolved it: switchyard.yaml under the environment.
  const port = deployable(process.env.SERVICE).port(
    resolveEnvironment(process.env, ALL_SETTINGS).env,
  );
  const request = get(
    { host: "127.0.0.1", port, path: "/ready", timeout: 4000 },
    (response) => {
      response.resume();
      process.exit(response.statusCode === 200 ? 0 : 1);
    },
  );
  request.on("timeout", () =>
    request.destroy(new Error("no answer within 4 s")),
  );
  request.on("error", (error) => fail(error.message));
} catch (error) {
  fail((error as Error).message);
}
