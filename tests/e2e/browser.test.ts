import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStorage, type Storage } from "../../platform/database.ts";
import { DEMO_PASSWORD } from "../../platform/demo-data.ts";
import {
  EXPLORER_PATH,
  GRAPHIQL_PATH,
  SANDBOX_CDN,
  SANDBOX_LOAD_TIMEOUT_MS,
} from "../../router/landing-page.ts";
import type { Stack } from "../../stack.ts";
import {
  chromiumReason,
  launchBrowser,
  type TestBrowser,
} from "../support/browser.ts";
import { placeOrderAt } from "../support/place-order.ts";
import { newProduct } from "../support/saga.ts";
import { bearerFor, bootStack, inProcessEvents } from "../support/stack.ts";
import { waitFor } from "../support/wait.ts";

/**
 * What a person sees in a browser, in a real one: headless Chromium against the router of an
 * in-process stack on free ports. This machine has no internet, so `/graphql` meets the real
 * offline case: Apollo's CDN does not answer. Screenshots land in .artifacts/browser/.
 */

/** GraphiQL's editors are CodeMirror 5 instances; the wrapper element carries the instance. */
async function editorText(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (element) =>
    (
      element as unknown as { CodeMirror: { getValue(): string } }
    ).CodeMirror.getValue(),
  );
}

/** Replaces an editor's text the way a person pasting would (no auto-closed brackets from typing). */
async function paste(
  page: Page,
  selector: string,
  text: string,
): Promise<void> {
  await page.click(`${selector} .CodeMirror-lines`);
  await page.keyboard.press("Control+A");
  await page.keyboard.press("Delete");
  await page.keyboard.insertText(text);
  await expect
    .poll(() => editorText(page, `${selector} .CodeMirror`), {
      timeout: 10_000,
    })
    .toBe(text);
}

/**
 * GraphiQL takes a query edit in after a debounce (~0.5 s), and until then runs with the previous
 * operation name; a person is slower than that, a test is not. Its tab state in localStorage shows
 * when the edit is in.
 */
async function pasteQuery(page: Page, text: string): Promise<void> {
  await paste(page, QUERY_EDITOR, text);
  const activeQuery = () =>
    page.evaluate(() => {
      // Runs in the page (the project's TypeScript has no DOM library).
      const { localStorage } = globalThis as unknown as {
        localStorage: { getItem(key: string): string | null };
      };
      const state = JSON.parse(
        localStorage.getItem("graphiql:tabState") ?? '{"tabs":[]}',
      ) as { activeTabIndex: number; tabs: Array<{ query: string }> };
      return state.tabs[state.activeTabIndex]?.query;
    });
  await expect.poll(activeQuery, { timeout: 10_000 }).toBe(text);
}

const QUERY_EDITOR = ".graphiql-query-editor";
const HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden)";
const RESULT = ".result-window .CodeMirror";

/** Runs what the query editor holds and returns the parsed response shown in the result pane. */
async function run(
  page: Page,
  expected: RegExp,
): Promise<{ data?: Record<string, unknown>; errors?: unknown[] }> {
  await page.click(".graphiql-execute-button");
  await expect
    .poll(() => editorText(page, RESULT), { timeout: 30_000 })
    .toMatch(expected);
  return JSON.parse(await editorText(page, RESULT)) as {
    data?: Record<string, unknown>;
    errors?: unknown[];
  };
}

/** Logs in as ada in GraphiQL, as a person would: the logIn mutation, then its token in the headers pane. */
async function logInInGraphiql(page: Page): Promise<string> {
  await pasteQuery(
    page,
    `mutation LogIn {\n  logIn(email: "ada@switchyard.dev", password: "${DEMO_PASSWORD}") { token }\n}`,
  );
  const login = await run(page, /"token"/);
  const token = (login.data?.logIn as { token: string }).token;
  expect(token).toMatch(/^ey/);
  await paste(
    page,
    HEADERS_EDITOR,
    JSON.stringify({ Authorization: `Bearer ${token}` }, null, 2),
  );
  return token;
}

/**
 * Keeps, in the page, every text the result pane shows: a subscription's payloads replace one
 * another there, faster than a test could poll (PENDING and CONFIRMED arrive milliseconds apart).
 */
async function recordResults(page: Page): Promise<() => Promise<string[]>> {
  await page.$eval(RESULT, (element) => {
    const shown: string[] = [];
    (globalThis as unknown as { shownResults: string[] }).shownResults = shown;
    (
      element as unknown as {
        CodeMirror: {
          on(
            event: "change",
            listener: (cm: { getValue(): string }) => void,
          ): void;
        };
      }
    ).CodeMirror.on("change", (cm) => shown.push(cm.getValue()));
  });
  return () =>
    page.evaluate(
      () => (globalThis as unknown as { shownResults: string[] }).shownResults,
    );
}

describe.skipIf(chromiumReason)(
  "the router in a real browser (headless Chromium)",
  () => {
    let storage: Storage;
    let stack: Stack;
    let origin: string;
    let browser: TestBrowser;
    beforeAll(async () => {
      storage = await openStorage({ dataDir: "memory://" });
      // With the event pipeline on the in-process log, as `npm start` runs: live order updates.
      stack = await bootStack(storage, { events: inProcessEvents() });
      origin = new URL(stack.routerUrl).origin;
      browser = await launchBrowser();
    });
    afterAll(async () => {
      await browser?.close();
      await stack?.stop();
      await storage?.close();
    });

    it("the landing page at / links every door, and every link answers", async () => {
      const page = await browser.context.newPage();
      await page.goto(`${origin}/`);
      await expect(page.locator("h1").textContent()).resolves.toMatch(
        /Switchyard/,
      );
      const links = await page.$$eval("a", (anchors) =>
        anchors.map((anchor) => anchor.getAttribute("href") ?? ""),
      );
      for (const path of [
        EXPLORER_PATH,
        GRAPHIQL_PATH,
        "/docs/README.md",
        "/health",
        "/ready",
        "/metrics",
      ])
        expect(links, path).toContain(path);
      for (const link of links) {
        // As a browser asks: /graphql answers a page only to a request that accepts HTML.
        const response = await page.request.get(new URL(link, origin).href, {
          headers: { accept: "text/html" },
        });
        expect(response.status(), link).toBe(200);
      }
      // The curl command on the page is filled in with the address the page was opened at.
      await expect(page.locator("#curl").textContent()).resolves.toContain(
        `${origin}${EXPLORER_PATH}`,
      );
      await browser.screenshot(page, "landing");
      // A doc opens as text in the browser (not as a download).
      await page.click('a[href="/docs/README.md"]');
      await expect(page.locator("body").textContent()).resolves.toContain(
        readFileSync("README.md", "utf8").split("\n")[0],
      );
      await page.close();
    }, 120_000);

    it("offline, /graphql says Sandbox cannot load and opens GraphiQL by itself", async () => {
      const page = await browser.context.newPage();
      const cdnRequests: string[] = [];
      page.on("request", (request) => {
        if (request.url().startsWith(SANDBOX_CDN))
          cdnRequests.push(request.url());
      });
      await page.goto(`${origin}${EXPLORER_PATH}`, { waitUntil: "commit" });
      const alert = page.locator('#switchyard-sandbox-status[role="alert"]');
      await alert.waitFor({ timeout: 30_000 });
      await expect(alert.textContent()).resolves.toMatch(
        /Apollo Sandbox cannot load here[\s\S]*Opening GraphiQL/,
      );
      await browser.screenshot(page, "sandbox-offline");
      // The real offline case: the name of Apollo's CDN does not resolve (a failed load), or, on a
      // network that drops packets, the page's own timeout.
      await page.waitForURL(
        new RegExp(`${GRAPHIQL_PATH}\\?sandbox=(unreachable|timeout)$`),
        { timeout: 30_000 },
      );
      expect(cdnRequests.length).toBeGreaterThan(0);
      await page.locator(".graphiql-container").waitFor({ timeout: 30_000 });
      await expect(
        page.locator("#switchyard-notice").isVisible(),
      ).resolves.toBe(true);
      await expect(
        page.locator("#switchyard-notice").textContent(),
      ).resolves.toMatch(/Apollo Sandbox could not load/);
      await browser.screenshot(page, "graphiql-after-sandbox");
      await page.close();
    }, 120_000);

    /** Opens /graphql with Apollo's CDN answered by `handler` instead of the (absent) network. */
    async function sandboxWith(
      handler: Parameters<Page["route"]>[1],
    ): Promise<Page> {
      const page = await browser.context.newPage();
      await page.route(`${SANDBOX_CDN}**`, handler);
      await page.goto(`${origin}${EXPLORER_PATH}`, { waitUntil: "commit" });
      return page;
    }

    it("when Sandbox's script loads, /graphql stays Sandbox: no message, no GraphiQL", async () => {
      // A stand-in for Apollo's script: defines the EmbeddedSandbox the page starts.
      const page = await sandboxWith((route) =>
        route.fulfill({
          contentType: "text/javascript",
          body: 'window.EmbeddedSandbox = function (config) { document.querySelector(config.target).textContent = "stand-in sandbox"; };',
        }),
      );
      await expect
        .poll(() => page.locator("html").getAttribute("data-sandbox"), {
          timeout: 30_000,
        })
        .toBe("loaded");
      await expect(
        page.locator("#embeddableSandbox").textContent(),
      ).resolves.toBe("stand-in sandbox");
      await expect(
        page.locator("#switchyard-sandbox-status").isVisible(),
      ).resolves.toBe(false);
      expect(new URL(page.url()).pathname).toBe(EXPLORER_PATH);
      await page.close();
    }, 120_000);

    it("when Sandbox's script never arrives, /graphql gives up after its timeout and opens GraphiQL", async () => {
      // A network that drops packets: the request stays pending until the page is closed.
      const page = await sandboxWith(() => undefined);
      await page.waitForURL(new RegExp(`${GRAPHIQL_PATH}\\?sandbox=timeout$`), {
        timeout: SANDBOX_LOAD_TIMEOUT_MS + 30_000,
      });
      await expect(
        page.locator("#switchyard-notice-reason").textContent(),
      ).resolves.toMatch(/did not arrive within 10 s/);
      await page.unrouteAll({ behavior: "ignoreErrors" });
      await page.close();
    }, 120_000);

    it("when Sandbox's script fails to load, /graphql opens GraphiQL at once, without waiting for its timeout", async () => {
      const page = await sandboxWith((route) => route.abort("namenotresolved"));
      await page.waitForURL(
        new RegExp(`${GRAPHIQL_PATH}\\?sandbox=unreachable$`),
        { timeout: SANDBOX_LOAD_TIMEOUT_MS - 1000 },
      );
      await page.close();
    }, 120_000);

    it("when Sandbox's script loads but does not start Sandbox, /graphql opens GraphiQL", async () => {
      const page = await sandboxWith((route) =>
        route.fulfill({
          contentType: "text/javascript",
          body: "/* not the Sandbox script */",
        }),
      );
      await page.waitForURL(new RegExp(`${GRAPHIQL_PATH}\\?sandbox=broken$`), {
        timeout: 30_000,
      });
      await page.close();
    }, 120_000);

    it("runs the first query, then logs in and runs a signed-in query, in GraphiQL", async () => {
      const page = await browser.context.newPage();
      await page.goto(`${origin}${GRAPHIQL_PATH}`);
      await page.locator(".graphiql-container").waitFor({ timeout: 30_000 });
      // No notice when GraphiQL was opened directly.
      await expect(
        page.locator("#switchyard-notice").isVisible(),
      ).resolves.toBe(false);
      const first = await run(page, /"totalCount"/);
      expect(first.errors).toBeUndefined();
      expect((first.data?.products as { edges: unknown[] }).edges).toHaveLength(
        5,
      );
      await browser.screenshot(page, "graphiql-first-query");

      await logInInGraphiql(page);
      await pasteQuery(page, "query Me {\n  me { name email role }\n}");
      const me = await run(page, /"me"/);
      expect(me).toEqual({
        data: {
          me: {
            name: "Ada Lovelace",
            email: "ada@switchyard.dev",
            role: "CUSTOMER",
          },
        },
      });
      await browser.screenshot(page, "graphiql-me");
      await page.close();
    }, 120_000);

    it("follows an order live in GraphiQL: a subscription over WebSocket shows it PENDING, then CONFIRMED, with fields from four subgraphs", async () => {
      const productId = await newProduct(stack, 10);
      const page = await browser.context.newPage();
      const sockets: string[] = [];
      const streams: string[] = [];
      page.on("websocket", (socket) => sockets.push(socket.url()));
      page.on("request", (request) => {
        if (new URL(request.url()).pathname === "/graphql/stream")
          streams.push(request.url());
      });
      await page.goto(`${origin}${GRAPHIQL_PATH}`);
      await page.locator(".graphiql-container").waitFor({ timeout: 30_000 });
      const follow = `subscription FollowMyOrders {
  orderUpdated {
    id
    status
    user { name }
    items { product { name } }
    payment { status }
  }
}`;
      // Signed out (the headers pane's empty Authorization), the router refuses it, and the pane says why.
      await pasteQuery(page, follow);
      const refused = await run(page, /UNAUTHENTICATED/);
      expect(refused.data).toBeUndefined();

      await logInInGraphiql(page);
      const shown = await recordResults(page);
      await pasteQuery(page, follow);
      await page.click(".graphiql-execute-button");
      // Subscribed (the router holds it) before the order exists: its PENDING event is the first.
      await waitFor(
        () => (stack.router.live.fanOut.size === 1 ? true : undefined),
        { what: "GraphiQL's subscription held by the router" },
      );
      expect(sockets).toEqual(
        Array(2).fill(`${origin.replace(/^http/, "ws")}/graphql`),
      );

      // Another client of ada's places the order, through the router.
      const placed = await placeOrderAt(
        stack.routerUrl,
        await bearerFor(stack.routerUrl, "ada@switchyard.dev"),
        productId,
      );
      expect(placed.errors).toBeUndefined();
      const orderId = placed.data!.placeOrder.id;

      interface Followed {
        id: string;
        status: string;
        user: { name: string } | null;
        items: Array<{ product: { name: string } | null }>;
        payment: { status: string } | null;
      }
      /** The payloads for the order the pane has shown, in order (the pane also shows "" between runs). */
      const payloads = async () =>
        (await shown()).flatMap((text) => {
          const order = (
            (text ? JSON.parse(text) : {}) as {
              data?: { orderUpdated?: Followed };
            }
          ).data?.orderUpdated;
          return order?.id === orderId ? [order] : [];
        });
      await expect
        .poll(async () => (await payloads()).map((order) => order.status), {
          timeout: 30_000,
        })
        .toEqual(["PENDING", "CONFIRMED"]);
      const confirmed = (await payloads())[1]!;
      expect(confirmed).toMatchObject({
        user: { name: "Ada Lovelace" },
        items: [{ product: { name: expect.stringMatching(/^Test product/) } }],
        payment: { status: expect.any(String) },
      });
      // What a person sees: the pane holds the last payload, CONFIRMED.
      expect(
        JSON.parse(await editorText(page, RESULT)) as {
          data: { orderUpdated: Followed };
        },
      ).toEqual({ data: { orderUpdated: confirmed } });
      await browser.screenshot(page, "graphiql-follow-order");
      expect(streams).toEqual([]);

      // The stop button ends the subscription at the router.
      await page.click(".graphiql-execute-button");
      await waitFor(
        () => (stack.router.live.fanOut.size === 0 ? true : undefined),
        { what: "the subscription released after GraphiQL stopped it" },
      );
      await page.close();
    }, 120_000);
  },
);
