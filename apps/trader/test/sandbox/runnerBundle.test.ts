/**
 * The strategy runner is bundled into every backtest's and deployment's child, which parses and
 * runs it before the strategy loads: it carries the engine and the bar columns format, not Effect
 * (~1 MB, ~0.1 s of CPU and ~35 MB of memory in each child when the domain's schemas came along).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { expect, it } from "@effect/vitest"
import { bundleRunner } from "@quasar/sandbox/node"
import { Effect } from "effect"

const runnerEntry = fileURLToPath(new URL("../../src/sandbox/strategyRunner.ts", import.meta.url))

it.effect("the strategy runner bundles without Effect", () =>
  Effect.gen(function* () {
    const directory = mkdtempSync(join(tmpdir(), "quasar-runner-"))
    try {
      const out = join(directory, "runner.mjs")
      const bytes = yield* bundleRunner(runnerEntry, out)
      const text = readFileSync(out, "utf8")
      // Every Effect module registers its type ids under "effect/…" symbols.
      expect(text).not.toContain('Symbol.for("effect/')
      expect(bytes).toBeLessThan(200_000)
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
)
