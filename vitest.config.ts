import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["{apps,libs,migrations,test}/**/*.test.ts"],
    exclude: ["**/node_modules/**", "apps/web/**/e2e/**"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    // Most test time is spent waiting on PostgreSQL, child processes and sockets, not on a CPU:
    // four files at a time keep two cores busy (vitest's default on two cores is one).
    maxWorkers: 4,
    minWorkers: 1,
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "WARN" }
  }
})
