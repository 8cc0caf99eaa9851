# Nginx with the built UI: `docker build -f ops/docker/web.Dockerfile .`
FROM node:26.12-bookworm-slim AS build
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && npm run build

# The unprivileged image runs nginx as user nginx (uid 101) and listens on 8080.
FROM nginxinc/nginx-unprivileged:1.27.5-alpine AS runtime
# The production config as is; only its two deployment includes differ (ops/docker/nginx/).
COPY ops/nginx/ /etc/nginx/quasar/
COPY ops/docker/nginx/listen.conf ops/docker/nginx/upstreams.conf /etc/nginx/quasar/
COPY ops/docker/nginx/default.conf /etc/nginx/conf.d/default.conf
COPY --from=build /app/apps/web/dist /usr/share/nginx/html
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD wget -qO /dev/null http://127.0.0.1:8080/ || exit 1
