import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startProcess, type Service } from "../support/process.ts";
import { bearerFor, gql, waitUntil } from "../support/stack.ts";
import { ALL_PORTS_ZERO } from "../support/port-zero.ts";

const run = promisify(execFile);

/**
 * `npm start` as a newcomer meets it, as its own process on free ports (every port 0): what stdout
 * shows once it is ready, the README's curl flow pasted into a shell, and the log those leave.
 */

const README = readFileSync("README.md", "utf8");
/** The README's ```sh block that contains `marker`. */
function shBlock(marker: string): string {
  const block = [...README.matchAll(/```sh\n([\s\S]*?)```/g)]
    .map((match) => match[1]!)
    .find((text) => text.includes(marker));
  if (!block) throw new Error(`README.md has no sh block with ${marker}`);
  return block;
}

describe("npm start, the first ten minutes", () => {
  const dir = mkdtempSync(join(tmpdir(), "switchyard-first-"));
  const logFile = join(dir, "switchyard.log");
  let running: Service;
  let origin: string;
  /** stdout and stderr as they were the moment the ready line appeared. */
  let atReady: string;
  /** Runs README blocks in bash, pointed at this stack instead of localhost:4000. */
  const paste = async (blocks: string[], env: Record<string, string> = {}) =>
    (
      await run(
        "bash",
        ["-c", blocks.join("\n").replaceAll("http://localhost:4000", origin)],
        { timeout: 60_000, env: { ...process.env, ...env } },
      )
    ).stdout;

  beforeAll(async () => {
    // NODE_ENV as a developer has it (vitest sets 'test'); stdout is a pipe here, so JSON lines.
    running = await startProcess("main.ts", {
      env: {
        ...ALL_PORTS_ZERO,
        DATA_DIR: join(dir, "pglite"),
        LOG_FILE: logFile,
        NODE_ENV: "development",
        APOLLO_TELEMETRY_DISABLED: "true",
      },
      readyLine: /Router ready at http:\/\/localhost:\d+\/graphql/,
      timeoutMs: 120_000,
    });
    atReady = running.output();
    origin = new URL(
      /Router ready at (http:\/\/localhost:\d+)\/graphql/.exec(atReady)![1]!,
    ).origin;
  }, 150_000);
  afterAll(async () => {
    await running?.stop("SIGINT");
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the banner last, once the gateway has loaded the schema: URLs, the log file, the demo accounts", () => {
    const lines = atReady.trim().split("\n");
    const entries = lines.map(
      (line) =>
        JSON.parse(line) as {
          msg: string;
          service?: string;
          banner?: Array<[string, string]>;
        },
    );
    const banner = entries.at(-1)!;
    expect(banner.msg).toBe(`Router ready at ${origin}/graphql`);
    expect(banner.service).toBe("switchyard");
    expect(
      entries.findIndex((entry) =>
        /Gateway successfully loaded schema/.test(entry.msg),
      ),
    ).toBeGreaterThanOrEqual(0);
    expect(Object.fromEntries(banner.banner!)).toEqual({
      Home: `${origin}/  (every link below, in a browser)`,
      Explorer: `${origin}/graphql  (Apollo Sandbox; offline it opens GraphiQL)`,
      GraphiQL: `${origin}/graphiql`,
      Metrics: `${origin}/metrics`,
      "Log file": `${logFile}  (npm run trace -- <correlation id>)`,
      Accounts: expect.stringMatching(
        /^ada@switchyard\.dev, .*admin@switchyard\.dev \(ADMIN\); password switchyard-demo$/,
      ),
      Stop: "Ctrl-C (every service stops cleanly)",
    });
  });

  it("runs the README's first query as pasted", async () => {
    const body = JSON.parse(await paste([shBlock("products(first: 5)")])) as {
      data: { products: { totalCount: number; edges: unknown[] } };
    };
    expect(body.data.products.totalCount).toBe(50);
    expect(body.data.products.edges).toHaveLength(5);
  });

  it("the README's cross-service order is ada's, and runs for her", async () => {
    const query = /```graphql\n(query \{\n {2}order\(id: [\s\S]*?)```/.exec(
      README,
    )?.[1];
    expect(query).toBeDefined();
    const { data, errors } = await gql(
      `${origin}/graphql`,
      query!,
      {},
      await bearerFor(
        `${origin}/graphql`,
        "ada@switchyard.dev",
        "switchyard-demo",
      ),
    );
    expect(errors).toBeUndefined();
    expect(data.order.user.email).toBe("ada@switchyard.dev");
  });

  it("the README's curl flow: log in, order an in-stock product, read the notification; every log line names one service", async () => {
    // Each block in its own shell, as pasted one after the other into one terminal: the first
    // sets URL and TOKEN, which the others use (logging in once: logIn is rate limited).
    const session = await paste([
      shBlock("TOKEN=$("),
      'printf "%s\\n%s" "$URL" "$TOKEN"',
    ]);
    const [url, token] = session.trim().split("\n") as [string, string];
    expect(token).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
    type Notifications = {
      data: {
        me: {
          notifications: {
            edges: Array<{
              node: { correlationId: string; eventType: string };
            }>;
          };
        };
      };
    };
    const notificationsOf = async () => {
      const text = await paste([shBlock("notifications(first")], {
        URL: url,
        TOKEN: token,
      });
      const body = JSON.parse(text) as Notifications;
      if (!body.data?.me)
        throw new Error(`the notifications block answered ${text}`);
      return body.data.me.notifications.edges.map(({ node }) => node);
    };
    const before = new Set(
      (await notificationsOf()).map((node) => node.correlationId),
    );
    const ordered = JSON.parse(
      await paste([shBlock("placeOrder")], { URL: url, TOKEN: token }),
    ) as { data: { placeOrder: { id: string; status: string } } };
    expect(ordered.data.placeOrder.status).toBe("CONFIRMED");
    const orderId = ordered.data.placeOrder.id;
    // The order's notification: a new one, whose correlation id is the placeOrder request's.
    let correlationId: string | undefined;
    await waitUntil(
      "the order’s notification is readable",
      async () => {
        correlationId = (await notificationsOf()).find(
          (node) =>
            !before.has(node.correlationId) &&
            node.eventType.startsWith("orders."),
        )?.correlationId;
        return correlationId !== undefined;
      },
      { attempts: 120, everyMs: 500 },
    );

    // The log file (JSON, as `npm run trace` reads it) once the delivery is written to it.
    const logLines = () => readFileSync(logFile, "utf8").trim().split("\n");
    await waitUntil(
      "the delivery is in the log file",
      () =>
        logLines().some(
          (line) =>
            line.includes("notification delivered to log") &&
            line.includes(correlationId!),
        ),
      { attempts: 120, everyMs: 250 },
    );
    const lines = [...logLines(), ...running.output().trim().split("\n")];
    // Raw text, not parsed JSON: JSON.parse would keep the last of two "service" keys silently.
    const wrong = lines.filter(
      (line) => line.match(/"service":/g)?.length !== 1,
    );
    expect(wrong).toEqual([]);
    const delivered = logLines()
      .map((line) => JSON.parse(line) as { msg: string; service: string })
      .find((entry) => entry.msg === "notification delivered to log");
    expect(delivered?.service).toBe("dispatcher");

    // The README says that correlation id finds the order's path through the services.
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "scripts/trace.ts", correlationId!, logFile],
      { timeout: 60_000 },
    );
    expect(stdout).toMatch(
      new RegExp(
        `^correlation id ${correlationId}: \\d+ lines from \\d+ services \\(.*orders.*\\)`,
      ),
    );
    expect(stdout).toContain(orderId);
    expect(stdout).toMatch(/dispatcher/);
  }, 180_000);
});
