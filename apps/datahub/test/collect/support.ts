/**
 * What the collection tests share: the DataHub app on a given database with providers running
 * in-process (every request and page logged), an accelerated clock for the scheduler and the
 * providers, a SQL client of the test's own, and small polling helpers.
 */
import { HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import { DataHubApi, ProviderName, type Subscription, type SubscriptionId } from "@quasar/domain"
import { Database, DatabaseUrl, SchemaState } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import {
  Clock,
  DateTime,
  Duration,
  Effect,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Redacted,
  Schedule,
  Stream,
  TestClock,
  TestContext
} from "effect"
import { appLayer } from "../../src/App"
import { BarSource, type HistoryRequest } from "../../src/collect/BarSource"
import {
  CollectionConfig,
  type CollectionConfigValues,
  defaultCollectionConfig
} from "../../src/collect/CollectionConfig"
import { Scheduler } from "../../src/collect/Scheduler"
import type { LiveSource } from "../../src/live/LiveSource"
import { inProcessLiveSource } from "../../src/testing/InProcessSources"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"

export const MINUTE = 60_000

/** Time running `factor` times faster than the wall clock from `origin` on (the real now by default). */
export const acceleratedClock = (factor: number, origin = Date.now()) => {
  const now = () => origin + (Date.now() - origin) * factor
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: now,
    unsafeCurrentTimeNanos: () => BigInt(Math.floor(now())) * 1_000_000n,
    currentTimeMillis: Effect.sync(now),
    currentTimeNanos: Effect.sync(() => BigInt(Math.floor(now())) * 1_000_000n),
    sleep: (duration) =>
      Effect.async<void>((resume) => {
        const timer = setTimeout(() => resume(Effect.void), Duration.toMillis(duration) / factor)
        return Effect.sync(() => clearTimeout(timer))
      })
  }
  return { clock, now }
}

/**
 * A TestClock for the collection loops alone (pass it as `CollectionConfig.clock`), set to the real
 * now: the loops wait for bar closes, backoffs and gap scans until the test moves it, while the
 * API, the database, the providers and the test itself stay on real time.
 */
export const loopClock = Effect.gen(function* () {
  // On a fiber of its own: providing the TestContext here would put the test's fiber on it too.
  const made = yield* Effect.forkDaemon(Effect.provide(TestClock.testClock(), TestContext.TestContext))
  const clock = yield* Effect.flatten(Fiber.await(made))
  yield* clock.setTime(Date.now())
  return clock
})

/** The ids of the subscriptions whose collection loop is running. */
export const runningLoops = Effect.flatMap(Scheduler, (scheduler) => scheduler.running)

/** Real time, even inside a loop that runs on a test's clock. */
const realClock = Clock.make()

/**
 * What the bar source delivered: every request and every page's bar open times, in order. The
 * sink is the real BarWriter, so "downloaded once" is observed here; `pageDelayMs` makes every
 * page slow (a slow provider), so a test can act in the middle of a backfill.
 */
export class SourceLog {
  readonly requests: Array<{ readonly symbol: string; readonly from: number; readonly to: number }> = []
  readonly pages: Array<ReadonlyArray<number>> = []
  pageDelayMs = 0
  /** How often each bar open time was delivered. */
  timesDelivered(): Map<number, number> {
    const counts = new Map<number, number>()
    for (const page of this.pages) for (const ts of page) counts.set(ts, (counts.get(ts) ?? 0) + 1)
    return counts
  }
  /** Open times of the bars delivered more than once, in order. */
  repeatedTimes(): ReadonlyArray<number> {
    return [...this.timesDelivered()]
      .filter(([, n]) => n > 1)
      .map(([ts]) => ts)
      .sort((a, b) => a - b)
  }
  /** Bars delivered more than once. */
  repeated(): number {
    return this.repeatedTimes().length
  }
}

/** `inner`, with every request and page logged (and slowed down by `log.pageDelayMs`). */
const recordingSource = (inner: Layer.Layer<BarSource>, log: SourceLog) =>
  Layer.effect(
    BarSource,
    Effect.map(BarSource, (source) => ({
      describe: source.describe,
      history: (provider: string, request: HistoryRequest) =>
        Stream.suspend(() => {
          log.requests.push({ symbol: request.symbol, from: request.from, to: request.to })
          return source.history(provider, request)
        }).pipe(
          Stream.tap((chunk) =>
            (log.pageDelayMs > 0
              ? Effect.withClock(Effect.sleep(Duration.millis(log.pageDelayMs)), realClock)
              : Effect.void
            ).pipe(Effect.zipRight(Effect.sync(() => log.pages.push(chunk.bars.map((b) => b.ts)))))
          )
        )
    }))
  ).pipe(Layer.provide(inner))

/** Short delays everywhere, so failures and retries play out in seconds. */
export const testConfig = (overrides: Partial<CollectionConfigValues> = {}): CollectionConfigValues => ({
  ...defaultCollectionConfig,
  retry: { maxAttempts: 4, baseDelay: Duration.millis(100), maxDelay: Duration.seconds(2) },
  failureDelay: { base: Duration.seconds(1), max: Duration.seconds(5) },
  databaseRetry: { base: Duration.millis(100), max: Duration.millis(500) },
  runTimeout: Duration.seconds(60),
  ...overrides
})

export interface AppOptions {
  readonly databaseUrl: string
  readonly source: Layer.Layer<BarSource>
  readonly log?: SourceLog
  readonly config?: Partial<CollectionConfigValues>
  /** Live streams (by default none: history only). */
  readonly live?: Layer.Layer<LiveSource>
}

/** The whole DataHub (HTTP API, scheduler) on `databaseUrl`, with the given bar source and no live one. */
export const collectingApp = (options: AppOptions) =>
  TestService.layer(
    appLayer({}, "external")
      .pipe(Layer.provideMerge(MemoryCatalog.layer))
      .pipe(
        Layer.provide(recordingSource(options.source, options.log ?? new SourceLog())),
        // History only unless a test streams live too.
        Layer.provide(options.live ?? inProcessLiveSource([])),
        Layer.provide(Layer.succeed(CollectionConfig, testConfig(options.config)))
      ),
    Layer.succeed(DatabaseUrl, { url: Redacted.make(options.databaseUrl), embedded: false })
  ).pipe(Layer.provide(Logger.minimumLogLevel(LogLevel.Error)))

/** The derived client, with the admin token on every request. */
export const adminClient = Effect.zipRight(
  Effect.flatMap(SchemaState.SchemaState, (s) => s.ready),
  HttpApiClient.make(DataHubApi, {
    transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(TestService.ADMIN_TOKEN))
  })
)

/** Polls `check` every 100 ms until it holds, failing with `what` after `within`. */
export const eventually = <A, E, R>(
  what: string,
  probe: Effect.Effect<A, E, R>,
  check: (a: A) => boolean,
  within: Duration.DurationInput = "20 seconds"
) =>
  probe.pipe(
    Effect.filterOrFail(check, () => `not yet: ${what}`),
    Effect.retry(Schedule.spaced("100 millis")),
    Effect.timeoutFail({ duration: within, onTimeout: () => new Error(`timed out waiting until ${what}`) })
  )

type Client = Effect.Effect.Success<typeof adminClient>

/** Subscribes the synthetic provider's SYN/USD 1m, history only, from `from`; yields the subscription. */
export const subscribeSynthetic = (client: Client, from: number) =>
  client.subscriptions
    .create({
      payload: {
        provider: ProviderName.make("synthetic"),
        symbol: "SYN/USD",
        timeframes: ["1m"],
        mode: "history",
        backfillFrom: DateTime.unsafeMake(from)
      }
    })
    .pipe(Effect.map(([created]) => created!))

/** Waits, through the API, until subscription `id` is current (and `check` holds); yields it. */
export const untilBackfilled = (
  client: Client,
  id: SubscriptionId,
  within: Duration.DurationInput,
  check: (s: Subscription) => boolean = () => true
) =>
  eventually(
    "the backfill is done",
    client.subscriptions.get({ path: { id } }),
    (s) => s.state.status === "current" && check(s),
    within
  )

/** Stored bars of one series, ascending. */
export const storedBars = (provider: string, symbol: string, timeframe: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ ts: number; close: number }>`
      SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts, close FROM datahub.historical_data
      WHERE provider = ${provider} AND symbol = ${symbol} AND timeframe = ${timeframe} ORDER BY ts`
  )

export interface RunRow {
  readonly kind: string
  readonly status: string
  readonly from: number
  readonly to: number
  readonly rows: number
  readonly retries: number
  readonly error: string | null
}

export const collectionRuns = (subscriptionId: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<RunRow>`
      SELECT kind, status, (extract(epoch FROM range_from) * 1000)::float8 AS "from",
             (extract(epoch FROM range_to) * 1000)::float8 AS "to", rows_written AS rows, retries, error
      FROM datahub.collection_runs WHERE subscription_id = ${subscriptionId} ORDER BY id`
  )

/** A SQL client of the test's own on `url`, to look at the database while DataHub is down. */
export const probe = (url: string) =>
  Database.layer({ poolSize: 2, applicationName: "quasar-test-probe" }).pipe(
    Layer.provide(Layer.succeed(DatabaseUrl, { url: Redacted.make(url), embedded: false }))
  )

export interface SeriesState {
  readonly status: string
  readonly collectedUntil: number | null
  readonly lastBarAt: number | null
  readonly lastError: string | null
  readonly count: number
}

/** The subscription's row and how many bars its series holds. */
export const seriesState = (id: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<SeriesState>`
      SELECT s.status, (extract(epoch FROM s.collected_until) * 1000)::float8 AS "collectedUntil",
             (extract(epoch FROM s.last_bar_at) * 1000)::float8 AS "lastBarAt", s.last_error AS "lastError",
             (SELECT count(*)::int FROM datahub.historical_data h
               WHERE h.provider = s.provider AND h.symbol = s.symbol AND h.timeframe = s.timeframe) AS count
      FROM datahub.provider_subscription s WHERE s.id = ${id}`
  ).pipe(Effect.map((rows) => rows[0]!))
