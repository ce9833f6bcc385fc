# syntax=docker/dockerfile:1
# Every Switchyard deployable from one image family. Pick one with a target
# (`docker build --target products .`); each target runs its own bundle.
# The `build` stage bundles the TypeScript into plain JavaScript (`npm run build`, scripts/build.ts):
# containers start `node --enable-source-maps dist/<name>.js`, with no transpiler in the image.

FROM node:20-bookworm-slim AS base
WORKDIR /app
ENV NODE_ENV=production

# Production dependencies only (no vitest, eslint, typescript, tsx, esbuild, autocannon).
FROM base AS deps
COPY package.json package-lock.json ./
# The postinstall script patches the query planner (docs/conformance.md).
COPY scripts/patch-dependencies.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# Every dependency (esbuild and tsx are dev dependencies; NODE_ENV=production would omit them),
# then the sources the bundles are made from and the files they copy in (schemas, migrations, docs).
FROM base AS build
COPY package.json package-lock.json ./
# The postinstall script patches the query planner (docs/conformance.md).
COPY scripts/patch-dependencies.mjs ./scripts/
RUN npm ci --include=dev --no-audit --no-fund
COPY tsconfig.json main.ts stack.ts stack-config.ts README.md ./
COPY platform ./platform
COPY router ./router
COPY subgraphs ./subgraphs
COPY events ./events
COPY deploy ./deploy
COPY docs ./docs
COPY scripts/build.ts ./scripts/
RUN npm run build

FROM base AS runtime
ENV HOST=0.0.0.0 \
    APOLLO_TELEMETRY_DISABLED=true \
    SERVICE=router
COPY --from=deps /app/node_modules ./node_modules
# package.json: "type": "module" makes the bundles ES modules; the supergraph is read from the
# working directory (SUPERGRAPH_PATH, default ./supergraph.graphql).
COPY package.json supergraph.graphql ./
COPY --from=build /app/dist ./dist
# Root owns the code; the service runs as the image's unprivileged `node` user and writes nothing.
USER node
# One plain-JavaScript GET /ready on the service's port: a bare Node start, no transpiler.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "dist/healthcheck.js"]
# Node itself is PID 1's child under `init: true` (compose) and receives SIGTERM directly. The
# router's V8 flags are deploy/deployables.ts ROUTER_NODE_FLAGS (a larger young generation).
CMD ["node", "--max-semi-space-size=64", "--enable-source-maps", "dist/router.js"]

FROM runtime AS users
ENV SERVICE=users
EXPOSE 4001
CMD ["node", "--enable-source-maps", "dist/users.js"]

FROM runtime AS products
ENV SERVICE=products
EXPOSE 4002
CMD ["node", "--enable-source-maps", "dist/products.js"]

FROM runtime AS orders
ENV SERVICE=orders
EXPOSE 4003
CMD ["node", "--enable-source-maps", "dist/orders.js"]

FROM runtime AS payments
ENV SERVICE=payments
EXPOSE 4004
CMD ["node", "--enable-source-maps", "dist/payments.js"]

FROM runtime AS notifications
ENV SERVICE=notifications
EXPOSE 4005
CMD ["node", "--enable-source-maps", "dist/notifications.js"]

FROM runtime AS router
ENV SERVICE=router
EXPOSE 4000
CMD ["node", "--max-semi-space-size=64", "--enable-source-maps", "dist/router.js"]

FROM runtime AS relay
ENV SERVICE=relay
EXPOSE 4010
CMD ["node", "--enable-source-maps", "dist/relay.js"]

FROM runtime AS worker
ENV SERVICE=worker
EXPOSE 4011
CMD ["node", "--enable-source-maps", "dist/worker.js"]

FROM runtime AS dispatcher
ENV SERVICE=dispatcher
EXPOSE 4012
CMD ["node", "--enable-source-maps", "dist/dispatcher.js"]

FROM runtime AS analytics
ENV SERVICE=analytics
EXPOSE 4013
CMD ["node", "--enable-source-maps", "dist/analytics.js"]
