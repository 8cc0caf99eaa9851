/**
 * Turns a backtest request into a job the executor can run, or says why it cannot run (a 4xx:
 * nothing is queued): the strategy's code and manifest from the Registry, its params checked
 * against the manifest, its universe resolved to provider symbols, and the bars of every member
 * loaded from DataHub, with warm-up bars before `from`. While the bars load, the executor gets
 * ready to run the code (`warm`).
 */
import { createHash } from "node:crypto"
import {
  type BacktestInputs,
  type BacktestRequest,
  type BarColumnBlocks,
  InvalidRequest,
  type NotFound,
  ProviderName,
  type ServiceUnavailable,
  Timeframe
} from "@quasar/domain"
import { resolveParams, type UniverseMember, universeKey } from "@quasar/providers/sdk"
import { Context, DateTime, Effect, Layer, Schema } from "effect"
import { BarsFeed } from "../bars/BarsFeed"
import { StrategyCatalog } from "../strategies/StrategyCatalog"
import { SymbolMappings } from "../strategies/SymbolMappings"
import { BacktestExecutor, type BacktestJob, BarsHandoff } from "./BacktestExecutor"

export interface PlannedBacktest {
  readonly strategy: string
  /** The Registry's version that runs. */
  readonly version: number
  readonly inputs: BacktestInputs
  readonly job: BacktestJob
  /** Bar times the run will go through, warm-up included: its progress total, as the engine counts. */
  readonly total: number
}

export type PlanError = InvalidRequest | NotFound | ServiceUnavailable

const isProviderName = Schema.is(ProviderName)

/** Bars at or after `from` and before `to` (bars are ascending). */
const countIn = (blocks: BarColumnBlocks, from: number, to: number): number => {
  let n = 0
  for (const { ts } of blocks) for (const t of ts) if (t >= from && t < to) n++
  return n
}

/** Distinct bar times from `from` and before `to` across all series (the loaded warm-up bars included). */
const barTimes = (series: ReadonlyArray<BarColumnBlocks>, from: number, to: number): number => {
  if (series.length === 1) return countIn(series[0]!, from, to)
  const times = new Set<number>()
  for (const blocks of series)
    for (const { ts } of blocks) for (const t of ts) if (t >= from && t < to) times.add(t)
  return times.size
}

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
          const bars = yield* feed.load({ provider, symbol, timeframe, from: warmupFrom, to })
          if (countIn(bars, from, to) === 0)
            return yield* new InvalidRequest({
              message: `no ${timeframe} bars of ${provider} ${symbol} are stored from ${DateTime.formatIso(request.from)} to ${DateTime.formatIso(request.to)}; collect them first (a DataHub subscription with backfillFrom) or choose a range that has bars`,
              field: "from"
            })
          return [universeKey(member), bars] as const
        })
      )
      const inputs: BacktestInputs = {
        strategy: request.strategy,
        strategyVersion: manifest.version ?? String(code.version),
        codeSha256: sha256,
        params: params.values,
        provider: request.provider,
        timeframe,
        universe: members.map(([key]) => key),
        from,
        to,
        initialCash: request.initialCash,
        fill: { feeBps: request.fill.feeBps, slippageBps: request.fill.slippageBps }
      }
      return {
        strategy: request.strategy,
        version: code.version,
        inputs,
        total: barTimes(
          members.map(([, bars]) => bars),
          warmupFrom,
          to
        ),
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
          bars: new BarsHandoff(new Map(members))
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
