# syntax=docker/dockerfile:1

# ---- build: install every dependency, compile, then drop the dev ones ----
FROM node:20-bookworm-slim AS build
# argon2 and better-sqlite3 build from source with node-gyp when no prebuilt binary fits.
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts may be skipped by npm's allowScripts policy: rebuild the native addons if they do not load.
RUN npm ci --no-audit --no-fund \
    && (node -e "require('better-sqlite3'); require('argon2')" || npm rebuild better-sqlite3 argon2) \
    && node -e "require('better-sqlite3'); require('argon2')"
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled code and production dependencies only, as a non-root user ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/dist ./dist
# DATA_DIR (./data) must be writable when the embedded SQLite database is used.
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form, so SIGTERM reaches Node directly and the graceful shutdown runs.
CMD ["node", "dist/server/main.js"]
