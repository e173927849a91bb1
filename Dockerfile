# syntax=docker/dockerfile:1
#
# The same commands as a server checkout (docs/operations.md), split into stages:
#   build   npm ci + npm run build        → dist/
#   deps    npm ci --omit=dev             → production node_modules
#   runtime dist/ + node_modules, as the unprivileged `node` user, `node dist/server.js`
# better-sqlite3 compiles from source, so the stages that run npm ci have python3, make and g++;
# the runtime stage does not.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
RUN npm ci
COPY tsconfig.json tsconfig.build.json server.ts ./
COPY scripts ./scripts
COPY lib ./lib
RUN npm run build

FROM toolchain AS deps
RUN npm ci --omit=dev

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    STORE_URL=sqlite:/app/data/bot.db
WORKDIR /app
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node package.json ./
COPY --chown=node:node scripts ./scripts
RUN mkdir -p /app/data && chown node:node /app/data
USER node
VOLUME ["/app/data"]
EXPOSE 3000
# Liveness only: a model-provider outage makes /health 503, which a restart would not fix.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/health/live`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains (docs/operations.md); docker-compose.yml gives it SHUTDOWN_TIMEOUT_MS plus a margin.
STOPSIGNAL SIGTERM
CMD ["node", "--enable-source-maps", "dist/server.js"]
