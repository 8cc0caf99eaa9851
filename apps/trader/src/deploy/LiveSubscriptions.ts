/**
 * DataHub streams only what it is subscribed to: before a deployment listens to `/live`, each of
 * its series is made live on DataHub's internal route, with the service credential (a history
 * subscription becomes `both`, so what it collects goes on). When DataHub refuses or cannot be
 * reached, the deployment logs why and listens anyway (someone may subscribe later).
 */
import { Context, Effect, Layer } from "effect"
import { DataHubClient } from "../clients/DataHubClient"
import type { LiveSeries } from "./LiveBars"

export class LiveSubscriptions extends Context.Tag("@quasar/trader/LiveSubscriptions")<
  LiveSubscriptions,
  { readonly ensure: (series: ReadonlyArray<LiveSeries>) => Effect.Effect<void> }
>() {
  static readonly layer = Layer.effect(
    LiveSubscriptions,
    Effect.gen(function* () {
      const client = yield* DataHubClient
      const ensureOne = (s: LiveSeries) =>
        client.liveDemand
          .ensure({ payload: { provider: s.provider, symbol: s.symbol, timeframe: s.timeframe } })
          .pipe(
            Effect.tap((subscription) =>
              Effect.logInfo("a deployment's series is live at DataHub").pipe(
                Effect.annotateLogs({ provider: s.provider, symbol: s.symbol, mode: subscription.mode })
              )
            ),
            Effect.catchAll((e) =>
              Effect.logWarning("could not make sure DataHub streams a deployment's series").pipe(
                Effect.annotateLogs({
                  provider: s.provider,
                  symbol: s.symbol,
                  error: `${e._tag}: ${"message" in e ? String(e.message) : ""}`
                })
              )
            )
          )
      return { ensure: (series) => Effect.forEach(series, ensureOne, { discard: true }) }
    })
  )
}
