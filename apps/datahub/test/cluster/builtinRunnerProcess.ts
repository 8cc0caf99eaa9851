/**
 * A DataHub runner process with the three built-in providers: production's entry point
 * (`runService`, the cluster configured from the environment) with Kraken, EODHD and synthetic run
 * in-process through the host, Kraken and EODHD pointed at fakes the test process serves. Every
 * history request a provider serves is printed as one line,
 * `REQ <provider> <symbol> <timeframe> <from> <to>` (ISO times), the request log the test reads per
 * runner.
 *
 * Environment: `FAKE_KRAKEN_REST` (the fake's REST base URL), `FAKE_EODHD_URL` (its `/api` base
 * URL) and `FAKE_EODHD_TOKEN` (a token it accepts), `SYNTHETIC_SYMBOLS` (comma-separated) and
 * `SYNTHETIC_SEED`.
 */
import eodhd from "@quasar/providers/eodhd"
import kraken from "@quasar/providers/kraken"
import type { HistoryRequest, Provider } from "@quasar/providers/sdk"
import { syntheticProvider } from "@quasar/providers/synthetic"
import { Duration, Layer } from "effect"
import { CollectionConfig, defaultCollectionConfig } from "../../src/collect/CollectionConfig"
import { inProcessBarSource, inProcessLiveSource } from "../../src/testing/InProcessSources"
import { required, runRunner } from "./runnerApp"

const iso = (ms: number) => new Date(ms).toISOString()

/**
 * `provider` with every history request it is asked printed before it is served: what a request
 * log on the provider's side would show, whatever the provider does inside (listings, pages).
 */
const logged = (provider: Provider): Provider => ({
  ...provider,
  history: (ctx, request: HistoryRequest) => {
    const { symbol, timeframe, from, to } = request
    process.stdout.write(`REQ ${provider.name} ${symbol} ${timeframe} ${iso(from)} ${iso(to)}\n`)
    return provider.history(ctx, request)
  }
})

/**
 * Kraken's declared 1 request per second paces a real API; the fake has no limit, and at that pace
 * a hundred series take two minutes to start, which says nothing about who collects them.
 */
const unpacedKraken: Provider = { ...kraken, rateLimit: { requestsPerSecond: 50, burst: 10 } }

const providers = [unpacedKraken, eodhd, syntheticProvider].map(logged)

const settings = {
  kraken: { restUrl: required("FAKE_KRAKEN_REST") },
  eodhd: { baseUrl: required("FAKE_EODHD_URL"), apiToken: required("FAKE_EODHD_TOKEN") },
  synthetic: { symbols: required("SYNTHETIC_SYMBOLS"), seed: Number(required("SYNTHETIC_SEED")) }
}

/** New subscriptions are seen within a second, and a failed run is tried again within seconds. */
const quickCollection = Layer.succeed(CollectionConfig, {
  ...defaultCollectionConfig,
  reconcileEvery: Duration.seconds(1),
  retry: { maxAttempts: 4, baseDelay: Duration.millis(200), maxDelay: Duration.seconds(1) },
  failureDelay: { base: Duration.seconds(1), max: Duration.seconds(3) }
})

runRunner(Layer.mergeAll(inProcessBarSource(providers, settings), inProcessLiveSource([]), quickCollection))
