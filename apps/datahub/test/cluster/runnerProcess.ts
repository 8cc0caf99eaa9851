/**
 * A DataHub runner process for the multi-runner tests: production's entry point (`runService`,
 * the cluster configured from the environment) with scripted in-process providers instead of the
 * sandboxes and the Registry. Every history request a provider serves is printed as one line,
 * `REQ <provider> <symbol> <from> @<epoch ms>`, the fakes' request log the test reads per runner.
 *
 * Providers: `RUNNER_PROVIDERS` (comma-separated names), each serving `pageBars` bars per page
 * after `RUNNER_PAGE_DELAY_MS`.
 */
import { Duration, Layer } from "effect"
import { CollectionConfig, defaultCollectionConfig } from "../../src/collect/CollectionConfig"
import { inProcessBarSource, inProcessLiveSource } from "../../src/testing/InProcessSources"
import { Script, scriptedProvider } from "../collect/scripted"
import { runRunner } from "./runnerApp"

const names = (process.env.RUNNER_PROVIDERS ?? "alpha,bravo").split(",")
const pageDelayMs = Number(process.env.RUNNER_PAGE_DELAY_MS ?? "50")

const providers = names.map((name) => {
  const script = new Script()
  script.pageBars = 200
  script.pageDelayMs = pageDelayMs
  script.onRequest = async (symbol, from) => {
    process.stdout.write(`REQ ${name} ${symbol} ${from} @${Date.now()}\n`)
  }
  return scriptedProvider(name, script)
})

runRunner(
  Layer.mergeAll(
    inProcessBarSource(providers),
    inProcessLiveSource([]),
    Layer.succeed(CollectionConfig, {
      ...defaultCollectionConfig,
      maxBarsPerRun: 600,
      reconcileEvery: Duration.seconds(1),
      retry: { maxAttempts: 4, baseDelay: Duration.millis(100), maxDelay: Duration.seconds(1) },
      failureDelay: { base: Duration.seconds(1), max: Duration.seconds(2) }
    })
  )
)
