/**
 * What a browser gets from the router outside production:
 * - `/`, a landing page linking every door: the explorer, GraphiQL, the docs, health, readiness, metrics;
 * - `/graphql`, Apollo Sandbox opened on the README's first query, with an Authorization header
 *   ready for a token. Sandbox's script comes from Apollo's CDN: when that script fails to load, or
 *   has not loaded within SANDBOX_LOAD_TIMEOUT_MS, the page says so and opens GraphiQL itself;
 * - `/graphiql`, a GraphiQL served from node_modules, for offline laptops and locked-down networks.
 * Production serves none of them (Sandbox off, `/` and `/graphiql` 404).
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginLandingPageLocalDefault } from "@apollo/server/plugin/landingPage/default";
import { DEMO_PASSWORD, demoUsers } from "../platform/demo-data.ts";
import type { Handler } from "../platform/http-server.ts";
import { DEBUG_HEADER } from "./plan-debug/recorder.ts";

/** The query Sandbox and GraphiQL open with; README.md's first query (a test keeps them equal). */
export const FIRST_QUERY = `query FirstLook {
  products(first: 5) {
    totalCount
    edges { node { id name price currency inStock } }
  }
}
`;

/**
 * Headers the editors start with. An empty Authorization is an anonymous request to the router
 * (so the first query runs in one click); paste `Bearer <token from logIn>` to act as a user. The
 * debug header asks for the plan-debug view, which the router gives only to an ADMIN token
 * (docs/plan-debug.md): signed in as the admin, every answer then shows its plan and fetches.
 */
export const INITIAL_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  Authorization: "",
  [DEBUG_HEADER]: "plan",
});

export const GRAPHIQL_PATH = "/graphiql";
/** Where Sandbox (the explorer) is served: the GraphQL endpoint itself, on a browser's GET. */
export const EXPLORER_PATH = "/graphql";
/** The docs the landing page links (path → file relative to the repo root), served by the router itself so the links work offline. */
export const DOCS: Readonly<Record<string, string>> = Object.freeze({
  "/docs/README.md": "README.md",
  "/docs/clients.md": "docs/clients.md",
  "/docs/observability.md": "docs/observability.md",
  "/docs/errors.md": "docs/errors.md",
  "/docs/configuration.md": "docs/configuration.md",
});

/** Where Apollo's page loads Sandbox's script from; a failure to load anything under it means no Sandbox. */
export const SANDBOX_CDN = "https://embeddable-sandbox.cdn.apollographql.com/";
/**
 * How long `/graphql` waits for Sandbox's script before opening GraphiQL. An offline machine
 * usually fails at once (no DNS); this bounds the networks that drop packets instead of refusing.
 * Long enough for the ~1 MB script over a slow link: a shorter one would send people with a
 * working but slow connection to GraphiQL.
 */
export const SANDBOX_LOAD_TIMEOUT_MS = 10_000;
/** How long the "Sandbox cannot load" message shows before GraphiQL opens (it says so again there). */
const FALLBACK_NOTICE_MS = 1500;

/**
 * Where the landing page sends people for health, readiness and metrics: the router's own paths
 * unless the deployment serves them elsewhere (an admin port).
 */
export interface LandingLinks {
  /** @default "/health" */
  readonly health: string;
  /** @default "/ready" */
  readonly ready: string;
  /** @default "/metrics" */
  readonly metrics: string;
}

const require = createRequire(import.meta.url);
/** Browser builds GraphiQL 3 documents for script-tag use: React 18 UMD globals, then GraphiQL. */
// Package folders, found through package.json: the files below are not in the packages' exports.
const inPackage = (name: string, file: string) => () =>
  join(dirname(require.resolve(`${name}/package.json`)), file);
/** A file the router serves for GraphiQL, and its content type. */
interface Asset {
  readonly file: () => string;
  readonly type: string;
}
const asset =
  (type: string) =>
  (name: string, file: string): Asset => ({
    file: inPackage(name, file),
    type,
  });
const script = asset("text/javascript");
const stylesheet = asset("text/css");
const ASSETS: Record<string, Asset> = {
  [`${GRAPHIQL_PATH}/react.js`]: script("react", "umd/react.production.min.js"),
  [`${GRAPHIQL_PATH}/react-dom.js`]: script(
    "react-dom",
    "umd/react-dom.production.min.js",
  ),
  [`${GRAPHIQL_PATH}/graphiql.js`]: script("graphiql", "graphiql.min.js"),
  // graphql-ws's browser build (global `graphqlWs`): GraphiQL's subscriptions over WebSocket.
  [`${GRAPHIQL_PATH}/graphql-ws.js`]: script(
    "graphql-ws",
    "umd/graphql-ws.min.js",
  ),
  [`${GRAPHIQL_PATH}/graphiql.css`]: stylesheet("graphiql", "graphiql.min.css"),
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A value for an inline `<script>`: JSON that cannot close the script element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

const LOG_IN_MUTATION = `mutation { logIn(email: "ada@switchyard.dev", password: "${DEMO_PASSWORD}") { token } }`;

/** The colours and type every Switchyard page shares (no web fonts: the pages must work offline). */
const BASE_STYLE = `
  :root { --ink: #0b1c2c; --paper: #f6f8fa; --line: #d8dee4; --accent: #0969da; --muted: #57606a; --warn: #9a6700; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--paper); }
  a { color: var(--accent); }
  code, pre { font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }`;

/**
 * The states `/graphql` reports to GraphiQL in `?sandbox=`, and what GraphiQL's notice says for each.
 * Keys are what the page's detector sets; the test drives every one.
 */
const SANDBOX_FAILURES: Readonly<Record<string, string>> = Object.freeze({
  unreachable: "its script, served by Apollo’s CDN, could not be fetched",
  timeout: `its script, served by Apollo’s CDN, did not arrive within ${SANDBOX_LOAD_TIMEOUT_MS / 1000} s`,
  broken: "its script from Apollo’s CDN loaded but did not start Sandbox",
});

/**
 * Runs first in Sandbox's page (right after Apollo's CSP, under its nonce): watches the CDN script
 * itself. A load `error` on it, a load that defines no `EmbeddedSandbox`, or no load within the
 * timeout all mean Sandbox will not appear; the page then says why and replaces itself with GraphiQL.
 * Listeners sit on `document` in the capture phase: resource `load`/`error` events do not bubble,
 * and `load` never reaches `window`.
 */
function sandboxWatchdog(nonce: string): string {
  return `<script nonce="${nonce}">
(function () {
  var cdn = ${scriptJson(SANDBOX_CDN)};
  var reasons = ${scriptJson(SANDBOX_FAILURES)};
  var settled = false;
  var isSandboxScript = function (node) { return !!node && node.tagName === 'SCRIPT' && String(node.src).indexOf(cdn) === 0; };
  var giveUp = function (why) {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    document.documentElement.setAttribute('data-sandbox', 'unavailable');
    var target = ${scriptJson(GRAPHIQL_PATH)} + '?sandbox=' + why;
    var status = document.getElementById('switchyard-sandbox-status');
    if (!status) {
      status = document.createElement('div');
      status.id = 'switchyard-sandbox-status';
      (document.body || document.documentElement).appendChild(status);
    }
    status.setAttribute('role', 'alert');
    status.innerHTML = '<h1>Apollo Sandbox cannot load here</h1><p></p>'
      + '<p>Opening <b>GraphiQL</b>, served by this router (it works offline)… <a></a></p>';
    status.querySelector('p').textContent = 'Sandbox runs from Apollo’s servers, and ' + reasons[why] + ': this browser is probably offline, or a network policy blocks Apollo’s CDN.';
    var link = status.querySelector('a');
    link.href = target;
    link.textContent = 'open it now';
    setTimeout(function () { location.replace(target); }, ${FALLBACK_NOTICE_MS});
  };
  var timer = setTimeout(function () { giveUp('timeout'); }, ${SANDBOX_LOAD_TIMEOUT_MS});
  document.addEventListener('error', function (event) { if (isSandboxScript(event.target)) giveUp('unreachable'); }, true);
  document.addEventListener('load', function (event) {
    if (!isSandboxScript(event.target) || settled) return;
    if (!window.EmbeddedSandbox) return giveUp('broken');
    settled = true;
    clearTimeout(timer);
    document.documentElement.setAttribute('data-sandbox', 'loaded');
  }, true);
})();
</script>`;
}

/**
 * Styles for Sandbox's page, under its CSP nonce (without it the browser drops them): the status
 * shown while Sandbox loads or when it cannot, and a bar on how to sign in, the docs, and GraphiQL.
 */
function sandboxStyle(nonce: string): string {
  return `<style nonce=${nonce}>${BASE_STYLE}
  #switchyard-sandbox-status { position: relative; z-index: 1; max-width: 44rem; margin: 12vh auto 0; padding: 1.5rem 2rem;
    background: #fff; border: 1px solid var(--line); border-radius: 10px; }
  #switchyard-sandbox-status h1 { margin: 0 0 .5rem; font-size: 1.4rem; }
  html[data-sandbox="loaded"] #switchyard-sandbox-status { display: none; }
  html[data-sandbox="unavailable"] #switchyard-sandbox-status { opacity: 1; animation: none; border-color: #d4a72c; background: #fff8c5; }
  html[data-sandbox="unavailable"] #embeddableSandbox { display: none; }
  #switchyard-help { position: fixed; bottom: 0; right: 0; z-index: 10; padding: 4px 10px; font-size: 12px;
    background: var(--ink); color: #e6edf3; border-top-left-radius: 6px; opacity: 0.92; }
  #switchyard-help a { color: #7cc4ff; }
  #switchyard-help code { font-size: 11px; }
</style>`;
}

/** What Sandbox's page shows while the script loads (fading in after a second, as Apollo's did). */
function sandboxStatus(): string {
  return `<div class="fallback" id="switchyard-sandbox-status">
  <h1>Loading Apollo Sandbox…</h1>
  <p>Sandbox is loaded from Apollo’s CDN. Offline, or behind a firewall? Use <a href="${GRAPHIQL_PATH}">GraphiQL</a>, served by this router;
  this page opens it by itself if Sandbox cannot load.</p>
</div>`;
}

/** A bar over Sandbox: how to sign in, where the docs are, and the offline editor. */
function helpBar(): string {
  return `<div id="switchyard-help"><a href="/">Switchyard</a>: run <b>FirstLook</b> anonymously, or log in with
  <code>${escapeHtml(LOG_IN_MUTATION)}</code>
  and set the Authorization header to <code>Bearer &lt;token&gt;</code> ·
  docs: <a href="/docs/README.md" target="_blank">README</a>, <a href="/docs/clients.md" target="_blank">clients</a> ·
  no Sandbox (offline)? <a href="${GRAPHIQL_PATH}">GraphiQL</a></div>`;
}

/**
 * Apollo's Sandbox page, adapted: our watchdog and styles under its nonce, our status in place of
 * its "you might be offline" line, and no Google Fonts stylesheet (render-blocking, and unreachable
 * offline; Sandbox brings its own fonts inside its frame). Every change depends on markup of
 * @apollo/server's page that tests/landing-page.test.ts pins: when that markup moves, the test says so.
 */
export function adaptSandboxPage(page: string): string {
  const nonce = /<style nonce=([0-9a-f]+)>/.exec(page)?.[1];
  // Apollo's CSP only lets scripts and styles with its nonce run: without one, add nothing.
  if (!nonce) return page;
  return page
    .replace(
      /(<meta http-equiv="Content-Security-Policy"[^>]*>)/,
      `$1\n${sandboxWatchdog(nonce)}\n${sandboxStyle(nonce)}`,
    )
    .replace(
      /\s*<link rel="preconnect" href="https:\/\/fonts\.gstatic\.com" \/>/,
      "",
    )
    .replace(
      /\s*<link\s+href="https:\/\/fonts\.googleapis\.com\/[^"]*"\s+rel="stylesheet"\s*\/>/,
      "",
    )
    .replace(
      /<title>[^<]*<\/title>/,
      "<title>Switchyard · Apollo Sandbox</title>",
    )
    .replace(/<div class="fallback">[\s\S]*?<\/div>/, sandboxStatus())
    .replace("</body>", `${helpBar()}\n</body>`);
}

/** Apollo's local Sandbox page with our additions (adaptSandboxPage). */
function sandboxPlugin(): ApolloServerPlugin {
  const sandbox = ApolloServerPluginLandingPageLocalDefault({
    embed: {
      endpointIsEditable: false,
      initialState: { pollForSchemaUpdates: false },
    },
    document: FIRST_QUERY,
    headers: { ...INITIAL_HEADERS },
    includeCookies: false,
  });
  return {
    async serverWillStart(service) {
      const listener = await sandbox.serverWillStart!(service);
      if (!listener?.renderLandingPage) return listener;
      return {
        ...listener,
        async renderLandingPage() {
          const { html } = await listener.renderLandingPage!();
          return {
            async html() {
              return adaptSandboxPage(
                typeof html === "string" ? html : await html(),
              );
            },
          };
        },
      };
    },
  };
}

function graphiqlPage(): string {
  const props = scriptJson({
    defaultQuery: FIRST_QUERY,
    defaultHeaders: JSON.stringify(INITIAL_HEADERS, null, 2),
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Switchyard · GraphiQL</title>
  <link rel="stylesheet" href="${GRAPHIQL_PATH}/graphiql.css" />
  <style>${BASE_STYLE}
    body { height: 100vh; display: flex; flex-direction: column; }
    #graphiql { flex: 1; min-height: 0; }
    #switchyard-notice { display: flex; gap: 1rem; align-items: baseline; padding: .5rem 1rem; background: #fff8c5; border-bottom: 1px solid #d4a72c; font-size: 14px; }
    #switchyard-notice[hidden] { display: none; }
    #switchyard-notice button { margin-left: auto; border: 0; background: none; font-size: 18px; cursor: pointer; }
  </style>
</head>
<body>
  <div id="switchyard-notice" role="status" hidden>
    <span><b>Apollo Sandbox could not load</b>: <span id="switchyard-notice-reason"></span>. This is <b>GraphiQL</b>, served by this
    router, which needs no internet. <a href="/">All pages</a></span>
    <button type="button" aria-label="Dismiss">×</button>
  </div>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="${GRAPHIQL_PATH}/react.js"></script>
  <script src="${GRAPHIQL_PATH}/react-dom.js"></script>
  <script src="${GRAPHIQL_PATH}/graphiql.js"></script>
  <script src="${GRAPHIQL_PATH}/graphql-ws.js"></script>
  <script>
    const props = ${props};
    // Sent here by /graphql when Sandbox could not load: say why, once, above the editor.
    const reasons = ${scriptJson(SANDBOX_FAILURES)};
    const why = new URLSearchParams(location.search).get('sandbox');
    if (why && Object.hasOwn(reasons, why)) {
      const notice = document.getElementById('switchyard-notice');
      document.getElementById('switchyard-notice-reason').textContent = reasons[why];
      notice.hidden = false;
      notice.querySelector('button').addEventListener('click', () => { notice.hidden = true; });
    }
    // Same origin as /graphql, so the router's CSRF check is met by the JSON content type.
    const http = GraphiQL.createFetcher({ url: new URL('/graphql', location.href).href });
    // Subscriptions go over WebSocket (graphql-transport-ws, the upgrade of /graphql, as Sandbox
    // uses). A browser's WebSocket cannot carry an Authorization header, so the headers pane is
    // sent as the connection_init payload, where the router reads it (docs/subscriptions.md). One
    // socket per run: a header edited between runs applies to the next one.
    // An Observable, not an async generator: GraphiQL's stop button calls unsubscribe(), which must
    // close the socket at once; a generator's return() waits until the next event arrives.
    const wsUrl = new URL('/graphql', location.href);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    const describeFailure = (error) => error && typeof error.code === 'number'
      ? 'WebSocket closed: ' + error.code + (error.reason ? ' ' + error.reason : '')
      : String((error && error.message) || error);
    const live = (params, opts) => ({
      subscribe(sink) {
        const client = graphqlWs.createClient({
          url: wsUrl.href,
          connectionParams: (opts && opts.headers) || {},
          // A refused token (4403) or a router going away ends the run; the person runs it again.
          retryAttempts: 0,
        });
        const stop = client.subscribe(params, {
          next: (result) => sink.next(result),
          // An 'error' message carries GraphQL errors (UNAUTHENTICATED, FORBIDDEN…); a close, its code.
          error: (error) => {
            sink.next({ errors: Array.isArray(error) ? error : [{ message: describeFailure(error) }] });
            client.dispose();
            sink.complete();
          },
          complete: () => {
            client.dispose();
            sink.complete();
          },
        });
        return { unsubscribe: () => { stop(); client.dispose(); } };
      },
    });
    // GraphiQL hands the parsed document: the operation it runs decides the transport.
    const isSubscription = (params, opts) => {
      const operations = ((opts && opts.documentAST && opts.documentAST.definitions) || [])
        .filter((definition) => definition.kind === 'OperationDefinition');
      const operation = params.operationName
        ? operations.find((definition) => definition.name && definition.name.value === params.operationName)
        : operations[0];
      return !!operation && operation.operation === 'subscription';
    };
    const fetcher = (params, opts) => isSubscription(params, opts) ? live(params, opts) : http(params, opts);
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery: props.defaultQuery, defaultHeaders: props.defaultHeaders, defaultEditorToolsVisibility: 'headers', shouldPersistHeaders: false }),
    );
  </script>
  <noscript>${escapeHtml("GraphiQL needs JavaScript.")}</noscript>
</body>
</html>
`;
}

/** A link card on the landing page. */
function door(href: string, title: string, text: string): string {
  return `<a class="door" href="${escapeHtml(href)}"><b>${escapeHtml(title)}</b><span>${text}</span><code>${escapeHtml(href)}</code></a>`;
}

/** `/`: every door in one page, so a person who opens the router's address finds the rest. */
function homePage(links: LandingLinks): string {
  const docs = Object.entries(DOCS)
    .map(
      ([path, file]) =>
        `<li><a href="${escapeHtml(path)}">${escapeHtml(file)}</a></li>`,
    )
    .join("\n        ");
  const accounts = demoUsers
    .map(
      (user) =>
        `<tr><td><code>${escapeHtml(user.email)}</code></td><td>${escapeHtml(user.role)}</td></tr>`,
    )
    .join("\n          ");
  const firstQuery = JSON.stringify({
    query: FIRST_QUERY.replace(/\s+/g, " ").trim(),
  });
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <meta name="viewport" content="width=device-width,initial-scale=1" />
  <title>Switchyard</title>
  <style>${BASE_STYLE}
    header { background: var(--ink); color: #e6edf3; padding: 2rem max(1.5rem, calc(50vw - 34rem)) 1.5rem; }
    header h1 { margin: 0; font-size: 2rem; letter-spacing: -.01em; }
    header h1 small { font-size: .8rem; font-weight: 500; margin-left: .6rem; padding: .15rem .5rem; border-radius: 99px; background: #1f6feb; vertical-align: middle; }
    header p { margin: .4rem 0 0; color: #adbac7; max-width: 48rem; }
    main { max-width: 68rem; margin: 0 auto; padding: 1.5rem; }
    h2 { font-size: 1.05rem; margin: 2rem 0 .75rem; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); }
    .doors { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); }
    .door { display: flex; flex-direction: column; gap: .35rem; padding: 1rem 1.1rem; background: #fff; border: 1px solid var(--line); border-radius: 10px; text-decoration: none; color: inherit; }
    .door:hover, .door:focus { border-color: var(--accent); box-shadow: 0 0 0 3px #0969da22; }
    .door b { font-size: 1.1rem; color: var(--accent); }
    .door span { color: var(--muted); font-size: .9rem; flex: 1; }
    .door code { color: var(--ink); }
    .columns { display: grid; gap: 1.5rem; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); }
    pre { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
    table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); border-radius: 8px; }
    td { padding: .3rem .8rem; border-top: 1px solid var(--line); }
    tr:first-child td { border-top: 0; }
    ul { margin: 0; padding-left: 1.2rem; }
    footer { max-width: 68rem; margin: 2rem auto; padding: 0 1.5rem; color: var(--muted); font-size: .85rem; }
  </style>
</head>
<body>
  <header>
    <h1>Switchyard <small>development</small></h1>
    <p>An Apollo Federation 2 supergraph: users, products, orders, payments and notifications behind one resilient router.</p>
  </header>
  <main>
    <h2>Query the graph</h2>
    <div class="doors">
      ${door(EXPLORER_PATH, "Explorer (Apollo Sandbox)", "Apollo’s explorer, opened on the first query. Loaded from Apollo’s CDN: offline, it opens GraphiQL for you.")}
      ${door(GRAPHIQL_PATH, "GraphiQL", "The same endpoint in GraphiQL, served by this router: works without internet.")}
      ${door("/docs/README.md", "README", "What runs where, the first queries, placing an order.")}
    </div>
    <div class="columns">
      <section>
        <h2>From a terminal</h2>
        <pre id="curl">curl -s -H 'content-type: application/json' \\
  -d '${escapeHtml(firstQuery)}' \\
  <span data-origin>http://localhost:4000</span>${EXPLORER_PATH}</pre>
        <p>Signed in: log in with <code>${escapeHtml(LOG_IN_MUTATION)}</code>, then send
        <code>Authorization: Bearer &lt;token&gt;</code>.</p>
      </section>
      <section>
        <h2>Demo accounts</h2>
        <p>Password <code>${escapeHtml(DEMO_PASSWORD)}</code> for all.</p>
        <table>
          ${accounts}
        </table>
      </section>
    </div>
    <div class="columns">
      <section>
        <h2>Docs</h2>
        <ul>
        ${docs}
        </ul>
      </section>
      <section>
        <h2>Operations</h2>
        <ul>
          <li><a href="${escapeHtml(links.health)}">health</a>: the process answers</li>
          <li><a href="${escapeHtml(links.ready)}">readiness</a>: the supergraph is loaded and every subgraph reachable</li>
          <li><a href="${escapeHtml(links.metrics)}">metrics</a>: Prometheus text format</li>
        </ul>
      </section>
    </div>
  </main>
  <footer>These pages exist outside production only: with <code>NODE_ENV=production</code> the router serves <code>${EXPLORER_PATH}</code> to API clients and nothing for browsers.</footer>
  <script>for (const node of document.querySelectorAll('[data-origin]')) node.textContent = location.origin;</script>
</body>
</html>
`;
}

function serveFile(path: () => string, type: string): Handler {
  let body: Buffer | undefined;
  return (req, res) => {
    body ??= readFileSync(path());
    res.writeHead(200, {
      "content-type": `${type}; charset=utf-8`,
      "content-length": body.length,
      "cache-control": "public, max-age=3600",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };
}

function serveHtml(page: string): Handler {
  return (req, res) => {
    res.writeHead(200, {
      "content-type": "text/html; charset=utf-8",
      "content-length": Buffer.byteLength(page),
    });
    res.end(req.method === "HEAD" ? undefined : page);
  };
}

/** The landing-page plugin for Apollo Server and the extra routes the router serves with it. */
export function createLandingPage({
  production,
  links = {},
}: {
  production: boolean;
  links?: Partial<LandingLinks>;
}): { plugin: ApolloServerPlugin; routes: Record<string, Handler> } {
  if (production)
    return { plugin: ApolloServerPluginLandingPageDisabled(), routes: {} };
  const routes: Record<string, Handler> = {
    "/": serveHtml(
      homePage({
        health: "/health",
        ready: "/ready",
        metrics: "/metrics",
        ...links,
      }),
    ),
    [GRAPHIQL_PATH]: serveHtml(graphiqlPage()),
  };
  for (const [path, { file, type }] of Object.entries(ASSETS))
    routes[path] = serveFile(file, type);
  // text/plain, not text/markdown: browsers show plain text, and offer markdown as a download.
  for (const [path, file] of Object.entries(DOCS))
    routes[path] = serveFile(
      () => fileURLToPath(new URL(`../${file}`, import.meta.url)),
      "text/plain",
    );
  return { plugin: sandboxPlugin(), routes };
}
