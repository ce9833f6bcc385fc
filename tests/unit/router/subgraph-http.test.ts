import {
  createServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { Agent, errors } from "undici";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  postToSubgraph,
  SubgraphHttpTimeout,
} from "../../../router/subgraph-http.ts";

/**
 * postToSubgraph replaces undici's `request()` + `body.text()` in the subgraph pool; each case here
 * is something the pool read from those and must read the same way from it.
 */
const routes = new Map<
  string,
  (req: IncomingMessage, res: ServerResponse, body: string) => void
>();
const sockets = new Set<Socket>();
const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (part: Buffer) => parts.push(part));
  req.on("end", () =>
    routes.get(req.url ?? "")!(req, res, Buffer.concat(parts).toString()),
  );
});
server.on("connection", (socket) => {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
});
const agent = new Agent({ connections: 4, pipelining: 1 });
let origin = "";

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await agent.close();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const post = (path: string, timeoutMs = 60_000, body = "{}") =>
  postToSubgraph(agent, {
    origin,
    path,
    headers: { "content-type": "application/json", "x-probe": "1" },
    body,
    timeoutMs,
  });

describe("postToSubgraph", () => {
  it("sends the body and headers as a POST and returns status, read headers and text", async () => {
    routes.set("/echo", (req, res, body) => {
      res.writeHead(200, {
        "Content-Type": "application/json; charset=utf-8",
        "Cache-Control": "max-age=60",
        "X-Other": "not read",
      });
      res.end(
        JSON.stringify({
          method: req.method,
          body,
          type: req.headers["content-type"],
          probe: req.headers["x-probe"],
        }),
      );
    });
    const response = await post("/echo", 60_000, '{"query":"{ a }"}');
    expect(response.status).toBe(200);
    expect(response.headers).toEqual({
      contentType: ["application/json; charset=utf-8"],
      cacheControl: ["max-age=60"],
      setCookie: undefined,
      retryAfter: undefined,
    });
    expect(JSON.parse(response.text)).toEqual({
      method: "POST",
      body: '{"query":"{ a }"}',
      type: "application/json",
      probe: "1",
    });
  });

  it("keeps repeated headers in order, as undici's header parsing does", async () => {
    routes.set("/cookies", (_req, res) => {
      res.setHeader("Set-Cookie", ["a=1; Path=/", "b=2; HttpOnly"]);
      res.setHeader("Cache-Control", ["private", "max-age=0"]);
      res.setHeader("Retry-After", "7");
      res.writeHead(503);
      res.end("down");
    });
    const response = await post("/cookies");
    expect(response.status).toBe(503);
    expect(response.headers).toEqual({
      contentType: undefined,
      cacheControl: ["private", "max-age=0"],
      setCookie: ["a=1; Path=/", "b=2; HttpOnly"],
      retryAfter: ["7"],
    });
    expect(response.text).toBe("down");
  });

  it("decodes a body split across chunks inside a multi-byte character, and drops a leading byte-order mark", async () => {
    const text = '{"name":"Zoë ✓ 𝄞"}';
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(text),
    ]);
    routes.set("/chunked", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // One byte at a time: every multi-byte character arrives split.
      let index = 0;
      const next = () => {
        if (index >= bytes.length) return res.end();
        res.write(bytes.subarray(index, index + 1), next);
        index += 1;
      };
      next();
    });
    const response = await post("/chunked");
    expect(response.text).toBe(text);
    expect(response.text).toBe(await undiciText("/chunked"));
  });

  it("reads an empty body as the empty string", async () => {
    routes.set("/empty", (_req, res) => {
      res.writeHead(204);
      res.end();
    });
    const response = await post("/empty");
    expect(response).toMatchObject({ status: 204, text: "" });
  });

  it("skips an informational answer and returns the final one", async () => {
    routes.set("/hints", (_req, res) => {
      res.writeEarlyHints({ link: "</style.css>; rel=preload" }, () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"data":{}}');
      });
    });
    const response = await post("/hints");
    expect(response.status).toBe(200);
    expect(response.headers.contentType).toEqual(["application/json"]);
    expect(response.text).toBe('{"data":{}}');
  });

  it("rejects with SubgraphHttpTimeout when no complete answer arrives in time, headers sent or not", async () => {
    const held: ServerResponse[] = [];
    routes.set("/silent", (_req, res) => held.push(res));
    routes.set("/half", (_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"data":');
      held.push(res);
    });
    await expect(post("/silent", 50)).rejects.toBeInstanceOf(
      SubgraphHttpTimeout,
    );
    await expect(post("/half", 50)).rejects.toBeInstanceOf(SubgraphHttpTimeout);
    for (const res of held) res.destroy();
  });

  it("rejects with undici's error when the connection is dropped mid-answer", async () => {
    routes.set("/drop", (_req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial", () => res.socket?.destroy());
    });
    const failure = await post("/drop").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(errors.UndiciError);
    expect(failure).not.toBeInstanceOf(SubgraphHttpTimeout);
  });

  it("rejects with undici's error when the connection is refused at once", async () => {
    // A server this test holds the port of, dropping every connection (a port freed beforehand
    // could be taken by another process meanwhile).
    const dropping = createServer();
    dropping.on("connection", (socket) => socket.destroy());
    await new Promise<void>((resolve) =>
      dropping.listen(0, "127.0.0.1", resolve),
    );
    const { port } = dropping.address() as AddressInfo;
    const failure = await postToSubgraph(agent, {
      origin: `http://127.0.0.1:${port}`,
      path: "/",
      headers: {},
      body: "{}",
      timeoutMs: 60_000,
    }).catch((error: unknown) => error);
    await new Promise<void>((resolve) => dropping.close(() => resolve()));
    expect(failure).toBeInstanceOf(errors.UndiciError);
    expect(failure).not.toBeInstanceOf(SubgraphHttpTimeout);
  });
});

/** What the pool read before: undici's request() and body.text(). */
async function undiciText(path: string): Promise<string> {
  const response = await agent.request({
    origin,
    path,
    method: "POST",
    body: "{}",
  });
  return response.body.text();
}
