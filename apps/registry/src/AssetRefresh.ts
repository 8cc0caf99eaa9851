/**
 * Refreshing a provider's assets: DataHub runs the active version's `listAssets`, the Registry
 * stores the listing. Runs on demand (`POST /assets/refresh/{provider}`, and after activation)
 * and daily for every active provider.
 */
import type { SqlError } from "@effect/sql"
import {
  type AssetRefresh as AssetRefreshSchema,
  Conflict,
  NotFound,
  type ProviderAsset,
  ProviderName,
  ServiceUnavailable
} from "@quasar/domain"
import { ChangeFeed, SchemaState, ServiceConfig } from "@quasar/server"
import type { Cause } from "effect"
import { DateTime, Duration, Effect, FiberMap, Layer, Option, Schedule, Schema } from "effect"
import { AssetsRepo } from "./AssetsRepo"
import { ASSETS_CHANNEL } from "./CatalogChanges"
import { DataHubClient, type SandboxError } from "./DataHubClient"

/** A large provider (EODHD lists 50k+ symbols over several exchanges) takes minutes, not hours. */
const LIST_TIMEOUT = Duration.minutes(5)
const DAILY = Duration.hours(24)
/** Rows written by one refresh beyond which search indexes and statistics are brought up to date. */
const SETTLE_AFTER = 1_000
const RETRY_AFTER_FAILURE = Duration.hours(1)
/** Lets DataHub, started alongside, load provider code before the first scheduled refresh. */
const STARTUP_DELAY = Duration.seconds(30)
/**
 * DataHub not answering yet, or not knowing the provider's active version yet, is the services'
 * start-up race: retried soon (5 s, doubling), at info, for this many attempts (≈ 5 min) before
 * it is worth a warning and the hourly retry.
 */
const NOT_UP_YET_ATTEMPTS = 6
const NOT_UP_YET_FIRST_RETRY = Duration.seconds(5)
/** How often the set of active providers is re-read (activation also refreshes directly). */
const RECONCILE_EVERY = Duration.minutes(10)

/** One asset per symbol: a provider listing a symbol twice keeps the last, the others count as rejected. */
const uniqueBySymbol = (assets: ReadonlyArray<ProviderAsset>) => {
  const bySymbol = new Map<string, ProviderAsset>()
  for (const asset of assets) bySymbol.set(asset.symbol, asset)
  return { unique: [...bySymbol.values()], duplicates: assets.length - bySymbol.size }
}

const databaseDown = (e: SqlError.SqlError) =>
  new ServiceUnavailable({ message: `the database is unavailable (${e.message}); retry when it is back` })

/** DataHub is not up yet (unreachable, or still loading the active version): likely a start-up race. */
class DataHubNotUpYet extends ServiceUnavailable {}

/** What the caller can do about each way DataHub can fail. */
const fromDataHub =
  (provider: string, datahubUrl: string) =>
  (e: SandboxError | Cause.TimeoutException): ServiceUnavailable => {
    switch (e._tag) {
      case "Unauthorized":
      case "TooManyAttempts":
        return new ServiceUnavailable({
          message: `DataHub refused the Registry's service credential (${e.message}): set the same QUASAR_SERVICE_TOKEN on both services`
        })
      case "RequestError":
        return new DataHubNotUpYet({
          message: `DataHub is unreachable at ${datahubUrl} (${e.message}): start DataHub or set DATAHUB_URL to where it runs, then retry`
        })
      case "ResponseError":
        return new ServiceUnavailable({
          message: `DataHub at ${datahubUrl} (DATAHUB_URL) failed to list ${provider}'s assets (HTTP ${e.response.status}); see DataHub's log, then retry`
        })
      case "PayloadTooLarge":
      case "UnsupportedMediaType":
      case "LengthRequired":
      case "InvalidRequest":
      case "HttpApiDecodeError":
        return new ServiceUnavailable({
          message: `DataHub rejected the request to list ${provider}'s assets (${e.message}); check that DataHub and the Registry run the same version`
        })
      case "ParseError":
        return new ServiceUnavailable({
          message: `DataHub's asset list for ${provider} does not match the API contract; check that DataHub and the Registry run the same version`
        })
      case "NotFound":
        return new DataHubNotUpYet({
          message: `DataHub does not know ${provider}'s active version yet (${e.message}); retry in a few seconds`
        })
      case "ServiceUnavailable":
        return new ServiceUnavailable({
          message: `DataHub could not list ${provider}'s assets: ${e.message}`
        })
      case "TimeoutException":
        return new ServiceUnavailable({
          message: `DataHub took longer than ${Duration.format(LIST_TIMEOUT)} to list ${provider}'s assets; retry later`
        })
    }
  }

/**
 * Lists `provider`'s assets through DataHub and stores them: 404 when no code has that name,
 * 409 when it is a strategy or none of its versions is active (or it cannot list assets), 503
 * when DataHub or the database is down.
 */
export const refreshAssets = (
  provider: ProviderName
): Effect.Effect<
  typeof AssetRefreshSchema.Type,
  NotFound | Conflict | ServiceUnavailable,
  AssetsRepo | DataHubClient | ServiceConfig | ChangeFeed.ChangeFeed
> =>
  Effect.gen(function* () {
    const repo = yield* AssetsRepo
    const feed = yield* ChangeFeed.ChangeFeed
    const datahub = yield* DataHubClient
    const { datahubUrl } = yield* ServiceConfig
    const code = yield* repo.codeState(provider).pipe(Effect.mapError(databaseDown))
    if (Option.isNone(code))
      return yield* new NotFound({
        message: `no provider code named ${provider}: upload its code and activate a version first`
      })
    if (code.value.kind === "strategy")
      return yield* new Conflict({
        message: `${provider} is a strategy: strategies trade the assets of providers and list none of their own`
      })
    if (code.value.status !== "active")
      return yield* new Conflict({
        message:
          code.value.status === "disabled"
            ? `${provider} is disabled: activate a version of it to refresh its assets`
            : `${provider} has no active version: activate a valid version of it first`
      })
    if (code.value.capabilities !== null && !code.value.capabilities.includes("assets"))
      return yield* new Conflict({
        message: `the active version of ${provider} does not list assets (its manifest lacks the "assets" capability)`
      })
    const listing = yield* datahub.sandbox
      .listAssets({ path: { name: provider } })
      .pipe(Effect.timeout(LIST_TIMEOUT), Effect.mapError(fromDataHub(provider, datahubUrl)))
    const { unique, duplicates } = uniqueBySymbol(listing.assets)
    const stored = yield* repo.storeListing(provider, unique).pipe(Effect.mapError(databaseDown))
    // DataHub drops what it cached of this provider's assets (known symbols, asset classes).
    yield* feed.publish(ASSETS_CHANNEL, { name: provider }).pipe(Effect.mapError(databaseDown))
    if (stored.upserted + stored.delisted >= SETTLE_AFTER) yield* repo.settle
    return {
      provider,
      listed: listing.assets.length,
      upserted: stored.upserted,
      delisted: stored.delisted,
      rejected: listing.rejected + duplicates
    }
  }).pipe(Effect.withSpan("AssetRefresh.refreshAssets", { attributes: { provider } }))

/** Refreshes one provider now if its last refresh is a day old (or never happened), then daily. */
const daily = (provider: ProviderName) =>
  Effect.gen(function* () {
    const repo = yield* AssetsRepo
    const last = yield* repo.lastRefreshed(provider).pipe(Effect.orElseSucceed(() => Option.none<Date>()))
    const now = yield* DateTime.now
    const wait = Option.match(last, {
      onNone: () => Duration.zero,
      onSome: (at) =>
        Duration.max(
          Duration.zero,
          Duration.millis(at.getTime() + Duration.toMillis(DAILY) - now.epochMillis)
        )
    })
    yield* Effect.sleep(wait)
    /** Consecutive attempts that found DataHub not up yet. */
    let notUpYet = 0
    while (true) {
      const next = yield* refreshAssets(provider).pipe(
        Effect.tap((result) => {
          notUpYet = 0
          return Effect.logInfo("assets refreshed").pipe(Effect.annotateLogs({ ...result }))
        }),
        Effect.as(DAILY),
        Effect.catchAll((e) => {
          notUpYet = e instanceof DataHubNotUpYet ? notUpYet + 1 : 0
          if (notUpYet > 0 && notUpYet <= NOT_UP_YET_ATTEMPTS) {
            const retry = Duration.times(NOT_UP_YET_FIRST_RETRY, 2 ** (notUpYet - 1))
            return Effect.logInfo(
              `DataHub is not ready for the asset refresh yet; retrying in ${Duration.format(retry)}`
            ).pipe(Effect.annotateLogs({ provider, error: e.message, attempt: notUpYet }), Effect.as(retry))
          }
          return Effect.logWarning("scheduled asset refresh failed; retrying in an hour").pipe(
            Effect.annotateLogs({ provider, error: e.message }),
            Effect.as(RETRY_AFTER_FAILURE)
          )
        })
      )
      yield* Effect.sleep(next)
    }
  })

/**
 * One daily-refresh fiber per active provider, kept in step with `code_registry`: a provider
 * that becomes active gets a fiber, one that stops being active loses it. The schedule lives
 * in the data (`refreshed_at`), so a restart does not refresh everything again.
 */
const scheduler = (timing: SchedulerTiming) =>
  Effect.gen(function* () {
    const repo = yield* AssetsRepo
    const schema = yield* SchemaState.SchemaState
    const fibers = yield* FiberMap.make<ProviderName>()
    const reconcile = Effect.gen(function* () {
      const active = new Set((yield* repo.activeProviders).filter(Schema.is(ProviderName)))
      for (const [name] of fibers) if (!active.has(name)) yield* FiberMap.remove(fibers, name)
      for (const name of active) yield* FiberMap.run(fibers, name, { onlyIfMissing: true })(daily(name))
    }).pipe(
      Effect.catchAll((e) =>
        Effect.logWarning("could not read the active providers; retrying").pipe(
          Effect.annotateLogs({ error: e.message })
        )
      )
    )
    yield* schema.ready.pipe(
      Effect.zipRight(Effect.sleep(timing.startupDelay)),
      Effect.zipRight(Effect.repeat(reconcile, { schedule: Schedule.spaced(timing.reconcileEvery) })),
      Effect.forkScoped
    )
  })

export interface SchedulerTiming {
  readonly startupDelay: Duration.DurationInput
  readonly reconcileEvery: Duration.DurationInput
}

/** The daily refresh fibers alone, with their timing (tests shorten it). */
export const scheduled = (timing: SchedulerTiming) => Layer.scopedDiscard(scheduler(timing))

/** The daily refresh, plus `AssetsRepo` for everything that calls `refreshAssets`. */
export const layer = scheduled({ startupDelay: STARTUP_DELAY, reconcileEvery: RECONCILE_EVERY }).pipe(
  Layer.provideMerge(AssetsRepo.layer)
)
