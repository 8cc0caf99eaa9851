/**
 * Issue #16's "exactly one collector" with the built-in providers: three DataHub runner processes
 * on one PostgreSQL database collect 300 history subscriptions across Kraken, EODHD and synthetic,
 * Kraken and EODHD served by their fakes in this test process. Every range is requested by one
 * runner only (the same runner asking again is a retry), every request of a provider comes from
 * the one runner that owns it on `/health`, and what is stored is what the providers serve.
 *
 * The runners are production's entry point with the three providers in-process
 * (apps/datahub/test/cluster/builtinRunnerProcess.ts), each printing every history request it
 * serves: the fakes' request log, per runner.
 *
 * Subscriptions: every Kraken pair the fake lists with market data in each of Kraken's eight
 * timeframes (104), every EODHD symbol the fake lists in each of EODHD's four timeframes (68: the
 * fake knows 17 symbols, so EODHD cannot reach 100 series), and synthetic symbols making up the
 * 300 (128). Backfills are short enough for each provider to serve: Kraken's OHLC keeps the last
 * 720 bars of an interval, and EODHD's US intraday bars exist only in weekday sessions, so its
 * backfills span several days.
 */
import { Timeframe } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"
import { barsBetween } from "@quasar/providers/synthetic"
import { startFakeEodhd, startFakeKraken } from "@quasar/providers/testing"
import { Either } from "effect"
import { afterEach, expect, it } from "vitest"
import { useFreshDatabase } from "../support/freshDatabase"
import { killLeftovers, servicePair } from "../support/processes"
import {
  inCluster,
  MINUTE,
  owners,
  requests,
  type Series,
  spawnRunnersOf,
  subscribeSeries,
  until
} from "./support"

afterEach(killLeftovers)

const db = useFreshDatabase("quasar-exactly-once-")

const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const PROVIDERS = ["kraken", "eodhd", "synthetic"]

/** How far back each timeframe of a provider is collected, in ms. */
type Backfill = Readonly<Partial<Record<Timeframe.Timeframe, number>>>

const timeframeOf = (name: string): Timeframe.Timeframe => Either.getOrThrow(Timeframe.parse(name))

/** The fake Kraken's pairs with public market data, by provider symbol (its `wsname`). */
const KRAKEN_PAIRS = [
  "XBT/USD",
  "XBT/EUR",
  "ETH/USD",
  "ETH/XBT",
  "XDG/USD",
  "LTC/USD",
  "XRP/USD",
  "SOL/USD",
  "DOT/USD",
  "ADA/EUR",
  "USDT/USD",
  "XTZ/USD",
  "RENDER/USD"
]
/** Backfill per Kraken timeframe: well inside the 720 bars its OHLC keeps. */
const KRAKEN_BACKFILL: Backfill = {
  "1m": 2 * HOUR,
  "5m": 6 * HOUR,
  "15m": 12 * HOUR,
  "30m": DAY,
  "1h": 2 * DAY,
  "4h": 5 * DAY,
  "1d": 20 * DAY,
  "1w": 70 * DAY
}

/** The fake EODHD's whole catalog: US stocks, ETFs and a fund, crypto and FX pairs. */
const EODHD_SYMBOLS = [
  ...["AAPL", "AMZN", "MSFT", "TSLA", "NVDA", "BRK-B", "BAC-PL", "VTI", "SPY", "SWPPX"].map((s) => `${s}.US`),
  ...["BTC-USD", "ETH-USD", "SOL-USD", "ETH-BTC"].map((s) => `${s}.CC`),
  ...["EURUSD", "GBPUSD", "USDJPY"].map((s) => `${s}.FOREX`)
]
/**
 * Backfill per EODHD timeframe. Five days in a row hold weekday sessions (US intraday bars) whatever
 * today is, and ten days hold weekday closes even after EODHD's three-hour publish delay.
 */
const EODHD_BACKFILL: Backfill = {
  "1m": 5 * DAY,
  "5m": 5 * DAY,
  "1h": 5 * DAY,
  "1d": 10 * DAY
}

const SYNTHETIC_SYMBOLS = Array.from({ length: 32 }, (_, i) => `SYN${String(i).padStart(2, "0")}/USD`)
const SYNTHETIC_SEED = 7
const SYNTHETIC_BACKFILL: Backfill = {
  "1m": 6 * HOUR,
  "5m": DAY,
  "1h": 5 * DAY,
  "1d": 30 * DAY
}

const EODHD_TOKEN = "exactly-once-token"

/** Every symbol of a provider in every timeframe of `backfill`, each from its first whole bar. */
const seriesOf = (
  provider: string,
  symbols: ReadonlyArray<string>,
  backfill: Backfill,
  now: number
): Array<Series> =>
  symbols.flatMap((symbol) =>
    Object.entries(backfill).map(([timeframe, span]) => {
      const tf = timeframeOf(timeframe)
      return {
        provider,
        symbol,
        timeframe,
        from: Timeframe.barOpen(tf, now - span) + Timeframe.durationMs(tf)
      }
    })
  )

/** A bar as the checks compare it: prices to Kraken's four wire decimals. */
const compared = (b: ProviderBar) => [b.ts, Math.round(b.close * 1e4) / 1e4]

it("three runners collect 300 subscriptions of Kraken, EODHD and synthetic: every range asked by one runner, its provider's owner", async () => {
  const started = Date.now()
  const kraken = await startFakeKraken()
  const eodhd = await startFakeEodhd({ validTokens: [EODHD_TOKEN] })
  const { env } = await servicePair(db.url, db.dataDir)
  const runners = await spawnRunnersOf("apps/datahub/test/cluster/builtinRunnerProcess.ts", env, {
    FAKE_KRAKEN_REST: kraken.restUrl,
    FAKE_EODHD_URL: eodhd.baseUrl,
    FAKE_EODHD_TOKEN: EODHD_TOKEN,
    SYNTHETIC_SYMBOLS: SYNTHETIC_SYMBOLS.join(","),
    SYNTHETIC_SEED: String(SYNTHETIC_SEED)
  })
  try {
    await inCluster({ db, runners }, async ({ phases, phase }) => {
      const now = Date.now()
      const series = [
        ...seriesOf("kraken", KRAKEN_PAIRS, KRAKEN_BACKFILL, now),
        ...seriesOf("eodhd", EODHD_SYMBOLS, EODHD_BACKFILL, now),
        ...seriesOf("synthetic", SYNTHETIC_SYMBOLS, SYNTHETIC_BACKFILL, now)
      ]
      expect(series).toHaveLength(300)
      await subscribeSeries(db, series)
      phase("subscribed")

      const ownedBefore = await until(
        "each provider owned by exactly one runner",
        () => owners(runners),
        (m) => PROVIDERS.every((p) => m.get(p)?.length === 1),
        30_000
      )
      phase("owned")

      const states = await until(
        "every subscription is current",
        async () =>
          (
            await db.admin.query<{ status: string; n: number; error: string | null }>(
              `SELECT status, count(*)::int AS n, max(last_error) AS error
                 FROM datahub.provider_subscription GROUP BY status ORDER BY status`
            )
          ).rows,
        (rows) => rows.length === 1 && rows[0]!.status === "current" && rows[0]!.n === series.length,
        90_000
      )
      expect(states).toEqual([{ status: "current", n: 300, error: null }])
      phase("current")
      const ownedAfter = await owners(runners)
      expect(ownedAfter).toEqual(ownedBefore)

      // The request logs: each range asked by one runner only, and only by its provider's owner.
      const byRange = requests(runners)
      const sharedRanges = [...byRange].filter(([, who]) => new Set(who).size > 1)
      expect(sharedRanges).toEqual([])
      const notByOwner = [...byRange].filter(
        ([key, who]) => !who.every((r) => ownedBefore.get(key.split(" ")[0]!)?.[0] === r)
      )
      expect(notByOwner).toEqual([])
      // Every subscription was asked for, so the logs above cover all 300.
      const asked = new Set([...byRange.keys()].map((key) => key.split(" ").slice(0, 3).join(" ")))
      const neverAsked = series.filter((s) => !asked.has(`${s.provider} ${s.symbol} ${s.timeframe}`))
      expect(neverAsked).toEqual([])
      // The collection runs record their runner: one per provider.
      const { rows: runRunners } = await db.admin.query<{ provider: string; runners: Array<string> }>(
        `SELECT provider, array_agg(DISTINCT runner ORDER BY runner) AS runners
           FROM datahub.collection_runs GROUP BY provider ORDER BY provider`
      )
      expect(runRunners).toEqual(
        [...PROVIDERS].sort().map((provider) => ({ provider, runners: ownedBefore.get(provider) }))
      )
      const { rows: runKinds } = await db.admin.query<{ provider: string; kind: string; n: number }>(
        `SELECT provider, kind, count(*)::int AS n FROM datahub.collection_runs
           GROUP BY provider, kind ORDER BY provider, kind`
      )
      phase("requests checked")

      // What is stored is what the providers serve, from each backfill's start to its progress.
      const { rows: progress } = await db.admin.query<{
        provider: string
        symbol: string
        timeframe: string
        from: number
        until: number
      }>(
        `SELECT provider, symbol, timeframe, (extract(epoch FROM backfill_from) * 1000)::float8 AS from,
                  (extract(epoch FROM collected_until) * 1000)::float8 AS until
           FROM datahub.provider_subscription ORDER BY provider, symbol, timeframe`
      )
      const stored = new Map<string, number>()
      for (const s of progress) {
        const { rows } = await db.admin.query<ProviderBar>(
          `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ts, open, high, low, close, volume
             FROM datahub.historical_data
             WHERE provider = $1 AND symbol = $2 AND timeframe = $3
               AND ts >= to_timestamp($4::float8 / 1000) AND ts < to_timestamp($5::float8 / 1000)
             ORDER BY ts`,
          [s.provider, s.symbol, s.timeframe, s.from, s.until]
        )
        const series = `${s.provider} ${s.symbol} ${s.timeframe}`
        stored.set(s.provider, (stored.get(s.provider) ?? 0) + rows.length)
        expect({ series, some: rows.length > 0 }).toEqual({ series, some: true })
        const tf = timeframeOf(s.timeframe)
        if (s.provider === "synthetic") {
          const truth = barsBetween({ seed: SYNTHETIC_SEED }, s.symbol, tf, s.from, s.until)
          const values = (b: ProviderBar) => [b.ts, b.open, b.high, b.low, b.close, b.volume]
          expect({ series, bars: rows.map(values) }).toEqual({ series, bars: truth.map(values) })
        } else {
          const truth =
            s.provider === "kraken"
              ? kraken.closedBars(s.symbol, tf, s.from, s.until)
              : eodhd.bars(s.symbol, tf, s.from, s.until)
          expect({ series, bars: rows.map(compared) }).toEqual({ series, bars: truth.map(compared) })
        }
      }
      phase("bars checked")

      const perRunner = runners.map((r) => {
        const lines = r.process
          .stdout()
          .split("\n")
          .filter((line) => line.startsWith("REQ "))
        const counts = PROVIDERS.map((p) => `${p} ${lines.filter((l) => l.startsWith(`REQ ${p} `)).length}`)
        return `${r.name}: ${counts.join(", ")}`
      })
      const retries = [...byRange].reduce((n, [, who]) => n + who.length - 1, 0)
      console.log(
        [
          `owners: ${PROVIDERS.map((p) => `${p} ${ownedBefore.get(p)?.[0]}`).join(", ")}`,
          `requests per runner: ${perRunner.join("; ")}`,
          `${byRange.size} distinct ranges, ${retries} asked again by the same runner, 0 by two runners`,
          `stored bars: ${PROVIDERS.map((p) => `${p} ${stored.get(p) ?? 0}`).join(", ")}`,
          `collection runs: ${runKinds.map((r) => `${r.provider} ${r.kind} ${r.n}`).join(", ")}`,
          `fake requests: Kraken ${kraken.stats.restRequests}, EODHD ${eodhd.requestCount()}`,
          `wall time ${((Date.now() - started) / 1000).toFixed(1)} s; ${phases.join(", ")}`
        ].join("\n")
      )
    })
  } finally {
    await kraken.close()
    await eodhd.close()
  }
}, 180_000)
