# syntax=docker/dockerfile:1
# Every Switchyard deployable from one image family. Pick one with a target
# (`docker build --target products .`) or run the `runtime` stage with SERVICE=<name>.
# Services run as TypeScript through tsx (a production dependency): there is no build step to drift
# from the source the tests run.

FROM node:20-bookworm-slim AS base
WORKDIR /app
ENV NODE_ENV=production

# Production dependencies only (no vitest, eslint, typescript, autocannon).
FROM base AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM base AS runtime
ENV HOST=0.0.0.0 \
    APOLLO_TELEMETRY_DISABLED=true \
    SERVICE=router
COPY --from=deps /app/node_modules ./node_modules
COPY package.json supergraph.graphql ./
COPY platform ./platform
COPY router ./router
COPY subgraphs ./subgraphs
COPY events ./events
COPY deploy/deployables.ts deploy/configuration.ts deploy/service.ts deploy/healthcheck.ts ./deploy/
# Root owns the code; the service runs as the image's unprivileged `node` user and writes nothing
# but tsx's cache under /tmp.
USER node
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "--import", "tsx", "deploy/healthcheck.ts"]
# Node itself is PID 1's child under `init: true` (compose) and receives SIGTERM directly.
CMD ["node", "--import", "tsx", "deploy/service.ts"]

FROM runtime AS users
ENV SERVICE=users
EXPOSE 4001

FROM runtime AS products
ENV SERVICE=products
EXPOSE 4002

FROM runtime AS orders
ENV SERVICE=orders
EXPOSE 4003

FROM runtime AS payments
ENV SERVICE=payments
EXPOSE 4004

FROM runtime AS notifications
ENV SERVICE=notifications
EXPOSE 4005

FROM runtime AS router
ENV SERVICE=router
EXPOSE 4000

FROM runtime AS relay
ENV SERVICE=relay
EXPOSE 4010

FROM runtime AS worker
ENV SERVICE=worker
EXPOSE 4011

FROM runtime AS dispatcher
ENV SERVICE=dispatcher
EXPOSE 4012

FROM runtime AS analytics
ENV SERVICE=analytics
EXPOSE 4013
