/**
 * Turns a backtest request into a job the executor can run, or says why it cannot run (a 4xx:
 * nothing is queued): the strategy's code and manifest from the Registry, its params checked
 * against the manifest, its universe resolved to provider symbols, and every member checked to
 * have bars in the range (one bar asked of DataHub each). The bars themselves, with warm-up bars
 * before `from`, are streamed from DataHub when the run starts, and run as they arrive. While the
 * run is queued, the executor gets ready to run the code (`warm`).
 */
import { createHash } from "node:crypto"
import {
  type BacktestInputs,
  type BacktestRequest,
  InvalidRequest,
  type NotFound,
  ProviderName,
  type ServiceUnavailable,
  Timeframe
} from "@quasar/domain"
import { resolveParams, type UniverseMember, universeKey } from "@quasar/providers/sdk"
import { Context, DateTime, Effect, Layer, Option, Schema } from "effect"
import { BarsFeed } from "../bars/BarsFeed"
import { StrategyCatalog } from "../strategies/StrategyCatalog"
import { SymbolMappings } from "../strategies/SymbolMappings"
import { BacktestExecutor, type BacktestJob, type RunSeries } from "./BacktestExecutor"

export interface PlannedBacktest {
  readonly strategy: string
  /** The Registry's version that runs. */
  readonly version: number
  readonly inputs: BacktestInputs
  readonly job: BacktestJob
  /**
   * Bar times the run is expected to go through, warm-up included: its progress total until its
   * bars are all in (then the engine counts them).
   */
  readonly total: number
}

export type PlanError = InvalidRequest | NotFound | ServiceUnavailable

const isProviderName = Schema.is(ProviderName)

/**
 * Bar times a member is expected to bring from its first bar `first` until `to`: every one of
 * them, as a gap-free series has. Progress counts on it until the bars are all in; a series with
 * gaps (a market's closed hours) brings fewer, and its total drops to them then.
 */
const expectedBars = (first: number, to: number, timeframe: Timeframe.Timeframe): number =>
  Math.max(1, Math.ceil((to - first) / Timeframe.durationMs(timeframe)))

const make = Effect.gen(function* () {
  const catalog = yield* StrategyCatalog
  const mappings = yield* SymbolMappings
  const feed = yield* BarsFeed
  const executor = yield* BacktestExecutor

  const plan = (request: BacktestRequest): Effect.Effect<PlannedBacktest, PlanError> =>
    Effect.gen(function* () {
      const from = DateTime.toEpochMillis(request.from)
      const to = DateTime.toEpochMillis(request.to)
      if (from >= to)
        return yield* new InvalidRequest({
          message: `"from" (${DateTime.formatIso(request.from)}) must be before "to" (${DateTime.formatIso(request.to)})`,
          field: "from"
        })
      const code = yield* catalog.code(request.strategy, request.version)
      const { manifest } = code
      const params = resolveParams(manifest.params, request.params)
      if (!params.ok)
        return yield* new InvalidRequest({
          message: `the params do not fit strategy ${code.name} version ${code.version}: ${params.problems.join("; ")}`,
          field: "params"
        })
      const sha256 = createHash("sha256").update(code.source).digest("hex")
      yield* executor.warm({ source: code.source, language: code.language, codeSha256: sha256 })
      const timeframe = manifest.universe.timeframe
      const warmupFrom = Math.max(0, from - manifest.warmup * Timeframe.durationMs(timeframe))
      const members = yield* Effect.forEach(manifest.universe.symbols, (member: UniverseMember) =>
        Effect.gen(function* () {
          if (typeof member !== "string" && !isProviderName(member.provider))
            return yield* new InvalidRequest({
              message: `the strategy's universe names provider ${JSON.stringify(member.provider)}, which is not a provider name`,
              field: "strategy"
            })
          const provider = typeof member === "string" ? request.provider : ProviderName.make(member.provider)
          const symbol =
            typeof member === "string" ? yield* mappings.providerSymbol(provider, member) : member.symbol
          const range = { provider, symbol, timeframe, from: warmupFrom, to }
          // The first bar from the warm-up on, and, when that one only warms up, the first traded one.
          const first = yield* feed.first(range)
          const traded =
            Option.isSome(first) && first.value >= from ? first : yield* feed.first({ ...range, from })
          if (Option.isNone(first) || Option.isNone(traded))
            return yield* new InvalidRequest({
              message: `no ${timeframe} bars of ${provider} ${symbol} are stored from ${DateTime.formatIso(request.from)} to ${DateTime.formatIso(request.to)}; collect them first (a DataHub subscription with backfillFrom) or choose a range that has bars`,
              field: "from"
            })
          const series: RunSeries = {
            key: universeKey(member),
            expected: expectedBars(first.value, to, timeframe),
            bars: feed.stream(range)
          }
          return series
        })
      )
      const inputs: BacktestInputs = {
        strategy: request.strategy,
        strategyVersion: manifest.version ?? String(code.version),
        codeSha256: sha256,
        params: params.values,
        provider: request.provider,
        timeframe,
        universe: members.map((series) => series.key),
        from,
        to,
        initialCash: request.initialCash,
        fill: { feeBps: request.fill.feeBps, slippageBps: request.fill.slippageBps }
      }
      return {
        strategy: request.strategy,
        version: code.version,
        inputs,
        total: members.reduce((n, series) => Math.max(n, series.expected), 0),
        job: {
          source: code.source,
          language: code.language,
          codeSha256: sha256,
          params: params.values,
          provider: request.provider,
          from,
          to,
          initialCash: request.initialCash,
          fill: request.fill,
          series: members
        }
      }
    }).pipe(
      Effect.withSpan("BacktestPlanner.plan", {
        attributes: { strategy: request.strategy, provider: request.provider }
      })
    )

  return { plan }
})

export class BacktestPlanner extends Context.Tag("@quasar/trader/BacktestPlanner")<
  BacktestPlanner,
  Effect.Effect.Success<typeof make>
>() {
  static readonly layer = Layer.effect(BacktestPlanner, make)
}
