/**
 * Bar and live sources that run provider objects in this process through the host (screening,
 * timeouts, rate limits via the shared token buckets), for tests and benchmarks: no sandbox, and a
 * clock of their own that a fake exchange can share. Settings are per provider name, checked
 * against each spec; bad settings make every call of that provider fail as fatal, naming the
 * problem. Production uses the sandboxes (`PoolBarSource`, `LiveSource.pool`).
 */
import { NotFound } from "@quasar/domain"
import type { Provider } from "@quasar/providers/sdk"
import { Clock, Effect, Layer } from "effect"
import { BarSource, type BarSourceService } from "../collect/BarSource"
import { LiveSource, type LiveSourceService } from "../live/LiveSource"
import { history, live, type RawSettings } from "../sandbox/providerHost"
import { type InProcessOptions, inProcessProviders, unknownProvider } from "./InProcessProviders"

export type { InProcessOptions } from "./InProcessProviders"

export const inProcessBarSource = (
  providers: ReadonlyArray<Provider>,
  settingsByProvider: Readonly<Record<string, RawSettings>> = {},
  now?: () => number
): Layer.Layer<BarSource> =>
  Layer.scoped(
    BarSource,
    Effect.gen(function* () {
      const running = yield* inProcessProviders(providers, settingsByProvider, now ? { now } : {})
      return {
        history: (name, request) => running.stream(name, (provider, ctx) => history(provider, ctx, request)),
        describe: (name) => {
          const provider = running.get(name)
          return provider
            ? Effect.succeed({
                name,
                timeframes: provider.timeframes,
                publishDelayMs: provider.publishDelayMs ?? 0
              })
            : Effect.fail(new NotFound({ message: unknownProvider(name) }))
        }
      } satisfies BarSourceService
    })
  )

export const inProcessLiveSource = (
  providers: ReadonlyArray<Provider>,
  settingsByProvider: Readonly<Record<string, RawSettings>> = {},
  options: InProcessOptions = {}
): Layer.Layer<LiveSource> =>
  Layer.scoped(
    LiveSource,
    Effect.gen(function* () {
      const running = yield* inProcessProviders(providers, settingsByProvider, options)
      return {
        live: (name, request) => running.stream(name, (provider, ctx) => live(provider, ctx, request)),
        now: options.now ? Effect.sync(options.now) : Clock.currentTimeMillis
      } satisfies LiveSourceService
    })
  )
