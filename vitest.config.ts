import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["{apps,libs,migrations,test}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "apps/web/**/e2e/**"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "WARN" }
  }
})
