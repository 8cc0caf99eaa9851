import { tmpdir } from "node:os"
import { join } from "node:path"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"
import { UNIT_FILES } from "./test/unitFiles"

/**
 * Live-stream tests whose fakes close bars on wall-clock timers: on a machine kept busy by the
 * rest of the suite a timer fires late and a revision arrives after the test stops waiting. They
 * run after everything else, on their own.
 */
const TIMING_SENSITIVE = ["apps/datahub/test/live/faults.*.test.ts", "apps/datahub/test/live/feed.test.ts"]
/**
 * Three DataHub runner processes each, started with tsx (seconds of compiling apiece) and living
 * for a minute or more: alongside the rest they load the machine enough to make other files'
 * start-up waits run out. They run after the main suite, together.
 */
const CLUSTER = ["test/cluster/*.test.ts"]
/**
 * The cluster file whose fake Kraken closes bars on an accelerated wall clock (a minute a
 * second): beside the other cluster files (nine runner processes on two cores) a timer fired
 * late and a bar closed on stale values. It runs after them, alone.
 */
const CLUSTER_LIVE = ["test/cluster/live-failover.test.ts"]
/**
 * `npm start`'s promise to be up within 60 s: the UI end-to-end file's start-up at the suite's
 * start starves it, and its three services starve the live timers. It runs last, alone.
 */
const STARTUP = ["test/start.test.ts"]

// Every test worker and every service process a test starts loads the same modules (Effect
// above all): V8's code cache on disk spares each of them compiling them again (collect time
// -25 % here). Workers and children inherit the variable.
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), "quasar-node-compile-cache")

/**
 * Files that take far longer than the rest, longest first. A clean clone has no record of past
 * durations, so vitest would order by file size and start the UI end-to-end file (minutes of a
 * browser waiting on live bars, little CPU) half-way through, making it the suite's tail.
 */
const LONGEST_FIRST = ["test/e2e/ui.test.ts", "apps/datahub/test/live/quiet.test.ts"]

class LongestFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const sorted = await super.sort(files)
    const rank = (file: TestSpecification) => {
      const at = LONGEST_FIRST.findIndex((path) => file.moduleId.endsWith(path))
      return at === -1 ? LONGEST_FIRST.length : at
    }
    // Array.prototype.sort is stable: the rest keep vitest's order.
    return sorted.sort((a, b) => rank(a) - rank(b))
  }
}

export default defineConfig({
  test: {
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 90_000,
    pool: "forks",
    // Most test time is spent waiting on PostgreSQL, child processes and sockets, not on a CPU:
    // four files at a time keep two cores busy (vitest's default on two cores is one).
    maxWorkers: 4,
    minWorkers: 1,
    // The unit files share one thread, beside the four isolated forks (see test/unitFiles.ts).
    poolOptions: { threads: { isolate: false, maxThreads: 1, minThreads: 1 } },
    sequence: { sequencer: LongestFirst },
    env: { LOG_LEVEL: process.env.LOG_LEVEL ?? "WARN" },
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["{apps,libs,migrations,test}/**/*.test.ts"],
          exclude: [
            "**/node_modules/**",
            "apps/web/**/e2e/**",
            ...UNIT_FILES,
            ...CLUSTER,
            ...TIMING_SENSITIVE,
            ...STARTUP
          ]
        }
      },
      {
        extends: true,
        test: { name: "unit", include: UNIT_FILES, pool: "threads" }
      },
      {
        extends: true,
        test: { name: "cluster", include: CLUSTER, exclude: CLUSTER_LIVE, sequence: { groupOrder: 1 } }
      },
      {
        extends: true,
        test: { name: "cluster-live", include: CLUSTER_LIVE, sequence: { groupOrder: 2 } }
      },
      {
        extends: true,
        test: { name: "timing", include: TIMING_SENSITIVE, sequence: { groupOrder: 3 } }
      },
      {
        extends: true,
        test: { name: "startup", include: STARTUP, sequence: { groupOrder: 4 } }
      }
    ]
  }
})
