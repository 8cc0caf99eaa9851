/**
 * The UI's build and dev server. `npm run dev -w apps/web` serves on :3000 and proxies the same
 * routes as Nginx (ops/nginx/quasar.conf): `/api/registry/*` → Registry :8080 and
 * `/api/datahub/*` (WebSocket upgrades included) → DataHub :8081 and `/api/trader/*` → Trader :8082,
 * prefix stripped.
 */
import vue from "@vitejs/plugin-vue"
import { defineConfig } from "vite"

const registry = process.env.REGISTRY_URL || "http://127.0.0.1:8080"
const datahub = process.env.DATAHUB_URL || "http://127.0.0.1:8081"
const trader = process.env.TRADER_URL || "http://127.0.0.1:8082"

const strip = (prefix: string) => (path: string) => path.slice(prefix.length) || "/"

export default defineConfig({
  plugins: [vue()],
  server: {
    port: 3000,
    strictPort: true,
    proxy: {
      "/api/registry/": { target: registry, changeOrigin: false, rewrite: strip("/api/registry") },
      "/api/datahub/": { target: datahub, changeOrigin: false, ws: true, rewrite: strip("/api/datahub") },
      "/api/trader/": { target: trader, changeOrigin: false, rewrite: strip("/api/trader") }
    }
  },
  build: {
    // Hashed file names under /assets/ are what Nginx caches as immutable.
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 800
  }
})
