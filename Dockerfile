# One image, two processes: `node dist/http.mjs` (the default) and `node dist/worker.mjs`.
# The base is an argument so that an operator behind a registry mirror can point it elsewhere.
ARG NODE_IMAGE=node:24-alpine

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund

FROM deps AS build
COPY build.mjs tsconfig.json ./
COPY shared ./shared
COPY handlers ./handlers
COPY tasks ./tasks
# The API's TypeScript types (dist/openapi.d.ts) are for its clients, not for the processes: they stay out.
RUN node build.mjs && rm dist/openapi.d.ts

# The runtime holds the two self-contained bundles and the migrations: no node_modules, no sources, no keys.
FROM ${NODE_IMAGE} AS runtime
# --enable-source-maps: stack traces name the source file and line (the maps carry no sources). It must be on
# before a bundle loads, so it is an option of node, not a call in the bundle.
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    AP_HOST=0.0.0.0 \
    AP_PORT=3030 \
    KEYS_DIR=/app/keys
WORKDIR /app
COPY --from=build --chown=node:node /app/dist ./dist
COPY --chown=node:node sql ./sql
RUN mkdir -p /app/keys && chown node:node /app/keys
USER node
EXPOSE 3030
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 CMD ["node", "dist/http.mjs", "health"]
CMD ["node", "dist/http.mjs"]
