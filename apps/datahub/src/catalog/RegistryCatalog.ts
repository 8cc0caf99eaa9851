/**
 * What DataHub knows of the Registry: a provider's code and opened settings, its assets, the
 * mappings, and the names the Registry knows. Read over HTTP (`CatalogSource`), kept in a cache
 * (`CatalogCache`), and forgotten by key when the Registry says it changed.
 *
 * Changes arrive by long poll on the Registry's change counter, the id of its change events: one
 * request waits until something changed (or a few seconds), then the next asks from the counter it got.
 * Chosen over push and SSE because it needs no callback address for DataHub, no connection that
 * a proxy may cut, and nothing remembered in memory on either side: the counter lives in the
 * Registry's table, so after either service restarts or the Registry is down for a while, the
 * next ask returns exactly what was missed (or `reset`, and the whole cache is dropped). While
 * the Registry is unreachable every cached answer keeps serving.
 */
import {
  type AssetClass,
  type CatalogChange,
  type CatalogMapping,
  MAX_CATALOG_WAIT_MS,
  ServiceUnavailable
} from "@quasar/domain"
import { ServiceConfig } from "@quasar/server"
import { Context, Duration, Effect, Layer, Option, PubSub, Ref, Stream, SubscriptionRef } from "effect"
import * as CatalogCache from "./CatalogCache"
import { type CatalogSource, fromRegistry } from "./CatalogSource"
import * as CatalogWatch from "./CatalogWatch"

/** What the watch reports: a change, or "all" when the whole cache was dropped. */
export type CatalogEvent = CatalogChange | { readonly topic: "all" }

/** The source's lookups of code and settings, answered from the cache, and what the cache adds. */
export interface RegistryCatalogService extends Pick<CatalogSource, "current" | "version" | "settings"> {
  /** Whether the Registry has code or listed assets under `name`. */
  readonly isKnownProvider: (name: string) => Effect.Effect<boolean, ServiceUnavailable>
  readonly assetClass: (
    provider: string,
    symbol: string
  ) => Effect.Effect<Option.Option<AssetClass>, ServiceUnavailable>
  /**
   * Whether `symbol` trades around the clock (crypto). Never fails: while the Registry has never
   * told the class and cannot be asked, the series counts as not continuous, so confirmed-empty
   * ranges stay as they are rather than being asked for again.
   */
  readonly isContinuous: (provider: string, symbol: string) => Effect.Effect<boolean>
  /** The provider symbols mapped to `commonSymbol` (at `provider` only, when given), by provider. */
  readonly mapped: (
    commonSymbol: string,
    provider: string | undefined
  ) => Effect.Effect<ReadonlyArray<CatalogMapping>, ServiceUnavailable>
  /** Changes from now on, after the cache has forgotten what they touched. */
  readonly changes: Stream.Stream<CatalogEvent>
  /**
   * Asks the Registry again for `name`'s code and settings on next use, whatever the watch has
   * seen: for a request the Registry makes right after changing them (listing the assets of a
   * version it has just activated, with the settings just saved), which must not be answered from
   * what DataHub knew before the change reached it. While the Registry cannot answer, the known
   * values still serve.
   */
  readonly refresh: (name: string) => Effect.Effect<void>
}

export class RegistryCatalog extends Context.Tag("@quasar/datahub/RegistryCatalog")<
  RegistryCatalog,
  RegistryCatalogService
>() {
  /** Over HTTP to the Registry at `registryUrl`, asked when first needed (needs ServiceConfig). */
  static readonly layerAt = (registryUrl: Effect.Effect<string>) =>
    Layer.scoped(
      RegistryCatalog,
      Effect.flatMap(fromRegistry(registryUrl), (source) => Effect.map(make(source), (c) => c.catalog))
    )
  /** Over HTTP to the Registry at REGISTRY_URL. */
  static readonly layer = Layer.unwrapEffect(
    Effect.map(ServiceConfig, (config) => RegistryCatalog.layerAt(Effect.succeed(config.registryUrl)))
  )
}

/** How long one ask for changes waits at the Registry before it answers with none. */
const WAIT = Duration.millis(MAX_CATALOG_WAIT_MS)
/** A wait the Registry does not answer in this much longer counts as failed (a dead connection). */
const WAIT_GRACE = Duration.seconds(5)

/**
 * The catalogue over `source`, with its watch running in the scope; `cursor` is the counter the
 * watch has applied (tests wait on it after a change).
 */
export const make = (source: CatalogSource) =>
  Effect.gen(function* () {
    const cache = CatalogCache.make()
    const events = yield* PubSub.unbounded<CatalogEvent>()
    const cursor = yield* SubscriptionRef.make<number | undefined>(undefined)
    const state = yield* Ref.make(CatalogWatch.initial)

    const ask = Effect.gen(function* () {
      const before = yield* Ref.get(state)
      const event = yield* source.changes(before.cursor, Duration.toMillis(WAIT)).pipe(
        Effect.timeoutFail({
          duration: Duration.sum(WAIT, WAIT_GRACE),
          onTimeout: () =>
            new ServiceUnavailable({ message: "the Registry did not answer a wait for changes" })
        }),
        Effect.match({
          onSuccess: (answer): CatalogWatch.WatchEvent => ({ _tag: "Answered", answer }),
          onFailure: (e): CatalogWatch.WatchEvent => ({ _tag: "Failed", message: e.message })
        })
      )
      const next = CatalogWatch.step(before, event)
      yield* Ref.set(state, next.state)
      if (next.invalidate === "all") {
        yield* cache.invalidateAll
        yield* PubSub.publish(events, { topic: "all" })
      } else
        for (const change of next.invalidate) {
          yield* cache.invalidate(CatalogCache.touches(change))
          yield* PubSub.publish(events, change)
        }
      yield* SubscriptionRef.set(cursor, next.state.cursor)
      if (next.log)
        yield* next.log.level === "warning"
          ? Effect.logWarning(next.log.message)
          : Effect.logInfo(next.log.message)
      if (next.retryAfterMs > 0) yield* Effect.sleep(Duration.millis(next.retryAfterMs))
    })
    yield* Effect.forever(ask).pipe(Effect.annotateLogs({ component: "RegistryCatalog" }), Effect.forkScoped)

    const assetsOf = (provider: string) =>
      cache.get(
        `assets:${provider}`,
        Effect.map(source.assets(provider), (list) => new Map(list.map((a) => [a.symbol, a.assetClass])))
      )

    const assetClass = (provider: string, symbol: string) =>
      Effect.map(assetsOf(provider), (classes) => Option.fromNullable(classes.get(symbol)))

    const catalog: RegistryCatalogService = {
      current: (name) => cache.get(`code:${name}`, source.current(name)),
      version: (name, version) => cache.get(`version:${name}:${version}`, source.version(name, version)),
      settings: (name) => cache.get(`settings:${name}`, source.settings(name)),
      isKnownProvider: (name) =>
        Effect.map(
          cache.get(
            "providers",
            Effect.map(source.providers, (names) => new Set(names))
          ),
          (names) => names.has(name)
        ),
      assetClass,
      isContinuous: (provider, symbol) =>
        assetClass(provider, symbol).pipe(
          Effect.map((c) => Option.contains(c, "crypto")),
          Effect.catchAll((e) =>
            Effect.as(
              Effect.logWarning(
                "asset class unknown (Registry unreachable); gaps counted as for a market with hours"
              ).pipe(Effect.annotateLogs({ provider, symbol, error: e.message })),
              false
            )
          )
        ),
      mapped: (commonSymbol, provider) =>
        Effect.map(cache.get("mappings", source.mappings), (all) =>
          all
            .filter(
              (m) => m.commonSymbol === commonSymbol && (provider === undefined || m.provider === provider)
            )
            .toSorted((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0))
        ),
      changes: Stream.fromPubSub(events),
      refresh: (name) => cache.invalidate(CatalogCache.touches({ topic: "code", name }))
    }
    return { catalog, cursor }
  })
