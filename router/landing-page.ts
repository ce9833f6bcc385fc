/**
 * What a browser gets from the router outside production: Apollo Sandbox at `/graphql`, opened on
 * the README's first query, with an Authorization header ready for a token and a bar linking the
 * docs; and `/graphiql`, a GraphiQL served from node_modules for when Sandbox's CDN is unreachable
 * (offline laptops, locked-down networks). Production serves neither.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import type { Handler } from '../platform/http-server.ts';

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
 * (so the first query runs in one click); paste `Bearer <token from logIn>` to act as a user.
 */
export const INITIAL_HEADERS: Readonly<Record<string, string>> = Object.freeze({ Authorization: '' });

export const GRAPHIQL_PATH = '/graphiql';
/** The docs the landing page links (path → file relative to the repo root), served by the router itself so the links work offline. */
export const DOCS: Readonly<Record<string, string>> = Object.freeze({ '/docs/README.md': 'README.md', '/docs/clients.md': 'docs/clients.md' });

const require = createRequire(import.meta.url);
/** Browser builds GraphiQL 3 documents for script-tag use: React 18 UMD globals, then GraphiQL. */
// Package folders, found through package.json: the files below are not in the packages' exports.
const inPackage = (name: string, file: string) => () => join(dirname(require.resolve(`${name}/package.json`)), file);
const ASSETS: Record<string, { file: () => string; type: string }> = {
  [`${GRAPHIQL_PATH}/react.js`]: { file: inPackage('react', 'umd/react.production.min.js'), type: 'text/javascript' },
  [`${GRAPHIQL_PATH}/react-dom.js`]: { file: inPackage('react-dom', 'umd/react-dom.production.min.js'), type: 'text/javascript' },
  [`${GRAPHIQL_PATH}/graphiql.js`]: { file: inPackage('graphiql', 'graphiql.min.js'), type: 'text/javascript' },
  [`${GRAPHIQL_PATH}/graphiql.css`]: { file: inPackage('graphiql', 'graphiql.min.css'), type: 'text/css' },
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** A bar over Sandbox: how to sign in, where the docs are, and the offline editor. */
function helpBar(nonce: string): string {
  return `<style nonce=${nonce}>
  #switchyard-help { position: fixed; bottom: 0; right: 0; z-index: 10; padding: 4px 10px; font: 12px sans-serif;
    background: #0b1c2c; color: #e6edf3; border-top-left-radius: 6px; opacity: 0.9; }
  #switchyard-help a { color: #7cc4ff; }
</style>
<div id="switchyard-help">Switchyard: run <b>FirstLook</b> anonymously, or log in with
  <code>mutation { logIn(email: "ada@switchyard.dev", password: "switchyard-demo") { token } }</code>
  and set the Authorization header to <code>Bearer &lt;token&gt;</code> ·
  docs: <a href="/docs/README.md" target="_blank">README</a>, <a href="/docs/clients.md" target="_blank">clients</a> ·
  no Sandbox (offline)? <a href="${GRAPHIQL_PATH}">GraphiQL</a></div>`;
}

/** Apollo's local Sandbox page with the help bar added (styled under the page's own CSP nonce). */
function sandboxPlugin(): ApolloServerPlugin {
  const sandbox = ApolloServerPluginLandingPageLocalDefault({
    embed: { endpointIsEditable: false, initialState: { pollForSchemaUpdates: false } },
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
              const page = typeof html === 'string' ? html : await html();
              const nonce = /<style nonce=([0-9a-f]+)>/.exec(page)?.[1];
              // Apollo's CSP only lets styles with its nonce apply: without one, add nothing.
              return nonce ? page.replace('</body>', `${helpBar(nonce)}\n</body>`) : page;
            },
          };
        },
      };
    },
  };
}

function graphiqlPage(): string {
  const props = JSON.stringify({ defaultQuery: FIRST_QUERY, defaultHeaders: JSON.stringify(INITIAL_HEADERS, null, 2) }).replace(/</g, '\\u003c');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8" />
  <title>Switchyard GraphiQL (offline)</title>
  <link rel="stylesheet" href="${GRAPHIQL_PATH}/graphiql.css" />
  <style>body { margin: 0; height: 100vh; } #graphiql { height: 100vh; }</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL…</div>
  <script src="${GRAPHIQL_PATH}/react.js"></script>
  <script src="${GRAPHIQL_PATH}/react-dom.js"></script>
  <script src="${GRAPHIQL_PATH}/graphiql.js"></script>
  <script>
    const props = ${props};
    // Same origin as /graphql, so the router's CSRF check is met by the JSON content type.
    const fetcher = GraphiQL.createFetcher({ url: new URL('/graphql', location.href).href });
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, { fetcher, defaultQuery: props.defaultQuery, defaultHeaders: props.defaultHeaders, defaultEditorToolsVisibility: 'headers', shouldPersistHeaders: false }),
    );
  </script>
  <noscript>${escapeHtml('GraphiQL needs JavaScript.')}</noscript>
</body>
</html>
`;
}

function serveFile(path: () => string, type: string): Handler {
  let body: Buffer | undefined;
  return (req, res) => {
    body ??= readFileSync(path());
    res.writeHead(200, { 'content-type': `${type}; charset=utf-8`, 'content-length': body.length, 'cache-control': 'public, max-age=3600' });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** The landing-page plugin for Apollo Server and the extra routes the router serves with it. */
export function createLandingPage({ production }: { production: boolean }): { plugin: ApolloServerPlugin; routes: Record<string, Handler> } {
  if (production) return { plugin: ApolloServerPluginLandingPageDisabled(), routes: {} };
  const page = graphiqlPage();
  const routes: Record<string, Handler> = {
    [GRAPHIQL_PATH]: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page);
    },
  };
  for (const [path, { file, type }] of Object.entries(ASSETS)) routes[path] = serveFile(file, type);
  for (const [path, file] of Object.entries(DOCS)) routes[path] = serveFile(() => fileURLToPath(new URL(`../${file}`, import.meta.url)), 'text/markdown');
  return { plugin: sandboxPlugin(), routes };
}
