# Registry, DataHub or Trader: `docker build -f ops/docker/service.Dockerfile --build-arg SERVICE=registry .`
# Build stage installs the production dependencies once; the runtime stage is node:26-slim
# with only those, the sources the service runs, and an unprivileged user.

FROM node:26.12-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY apps/registry/package.json apps/registry/
COPY apps/datahub/package.json apps/datahub/
COPY apps/trader/package.json apps/trader/
COPY apps/web/package.json apps/web/
COPY libs/domain/package.json libs/domain/
COPY libs/providers/package.json libs/providers/
COPY libs/server/package.json libs/server/
COPY migrations/package.json migrations/
RUN npm ci --omit=dev --workspaces --include-workspace-root --no-audit --no-fund \
 && npm cache clean --force

FROM node:26.12-bookworm-slim AS runtime
ARG SERVICE=registry
# A bounded heap keeps the resident size predictable (bench/backfill.bench.ts measures it with
# the same flags): V8 otherwise lets garbage pile up to well past what the service needs.
ENV NODE_ENV=production SERVICE=${SERVICE} HOST=0.0.0.0 \
    NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=8"
WORKDIR /app
RUN groupadd --system quasar && useradd --system --gid quasar --home-dir /app quasar
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY libs ./libs
COPY migrations ./migrations
COPY apps/registry ./apps/registry
COPY apps/datahub ./apps/datahub
COPY apps/trader ./apps/trader
COPY scripts/build-services.ts ./scripts/
RUN node --import tsx scripts/build-services.ts
USER quasar
EXPOSE 8080 8081 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=5 \
  CMD node -e "const s=process.env.SERVICE,e=process.env;fetch('http://127.0.0.1:'+(s==='datahub'?(e.DATAHUB_PORT||8081):s==='trader'?(e.TRADER_PORT||8082):(e.REGISTRY_PORT||8080))+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["sh", "-c", "exec node dist/${SERVICE}.mjs"]
