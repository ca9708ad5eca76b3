# syntax=docker/dockerfile:1
# Multi-stage: locked dependencies, the web build, then a slim runtime with production dependencies only.
# The runtime runs the compiled JavaScript (npm run build: web app + dist/ from tsconfig.build.json) with
# plain node, not the tsx loader (~50 MB less per process, faster start), as a non-root user.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    CLARION_ENV=production \
    PORT=3000 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
# postgresql-client: pg_dump/pg_restore for scripts/backup.sh and the worker's scheduled backups.
# tini: PID 1 that forwards SIGTERM, so the server drains WebSockets and the worker finishes jobs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client curl tini ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /data/exports /data/backups && chown -R node:node /data
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/web/dist ./web/dist
# dist/: server, worker, the operational scripts (migrate, seed, admin, audit-verify, backup, restore,
# restore-verify) and the migrations they read; no TypeScript sources and no source maps.
COPY --from=build --chown=root:root /app/dist ./dist
COPY --chown=root:root package.json ./
# Code is owned by root and read-only to the app user; only /data is writable.
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD curl -fsS "http://127.0.0.1:${PORT}/healthz" || exit 1
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/server/main.js"]
