import { Agent, request, type IncomingMessage } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { listen, type RunningServer } from "../../../platform/http-server.ts";

/** A GET on a keep-alive agent, resolving with the response and its body. */
function get(
  agent: Agent,
  port: number,
  path: string,
): Promise<{ response: IncomingMessage; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, agent },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ response, body }));
        response.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("graceful HTTP drain (platform/http-server.ts listen().close)", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    return { open, opened };
  }

  it("finishes a request in flight with Connection: close, refuses new connections, and resolves only after it", async () => {
    const slow = gate();
    const started = gate();
    let running: RunningServer | undefined = await listen(
      async (req, res) => {
        if (req.url === "/slow") {
          started.open();
          await slow.opened;
        }
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`done ${req.url}`);
      },
      { port: 0 },
    );
    cleanups.push(() => running?.close(0));
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    cleanups.push(() => agent.destroy());
    const port = running.port;

    // One connection busy with a slow request, one idle in the agent's pool.
    const inFlight = get(agent, port, "/slow");
    await started.opened;
    const idle = await get(agent, port, "/quick");
    expect(idle.response.headers.connection).toBe("keep-alive");

    let closed = false;
    const closing = running.close(20_000).then(() => (closed = true));
    // The listener closes at once: a new connection is refused. That round trip also gives a
    // close() that did not wait for the request in flight the time to resolve.
    await expect(get(new Agent(), port, "/late")).rejects.toMatchObject({
      code: "ECONNREFUSED",
    });
    expect(closed).toBe(false);

    slow.open();
    const finished = await inFlight;
    expect(finished.response.statusCode).toBe(200);
    expect(finished.body).toBe("done /slow");
    expect(finished.response.headers.connection).toBe("close");
    await closing;
    running = undefined;
  });

  it("closes a keep-alive connection whose response had started before the drain, once that response ends", async () => {
    const rest = gate();
    const headersSent = gate();
    const running = await listen(
      async (_req, res) => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.write("first half, ");
        headersSent.open();
        await rest.opened;
        res.end("second half");
      },
      { port: 0 },
    );
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    const streaming = get(agent, running.port, "/stream");
    await headersSent.opened;
    // A grace far beyond this test's timeout: only closing the connection after its response lets close() resolve.
    const closing = running.close(60_000);
    rest.open();
    const done = await streaming;
    expect(done.body).toBe("first half, second half");
    await closing;
  }, 5000);
});
