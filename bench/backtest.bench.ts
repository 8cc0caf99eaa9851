/**
 * 1,000,000 one-minute bars of one symbol through the SMA crossover of `strategies/smaCross.ts`,
 * end to end through the API as a user runs it: the bars are COPYed into a fresh database, the
 * strategy module is uploaded to the Registry and activated, and `POST /backtests` on Trader is
 * timed until the run's summary (`GET /backtests`) says completed, best of five like the baseline — Trader reading the bars from
 * DataHub as columns (`GET /bars/columns`), running the strategy in its sandbox and storing the
 * result. Reading the result back (`GET /backtests/{id}`, a million-point equity curve as JSON) is
 * timed apart: it is a cost of the result's format, paid once per look at a run, not per bar run.
 * The services run from the production bundles with the production heap flags.
 *
 * Baseline, measured in the same run (best of five): the same work as a plain script in this
 * process, over the same stored bars: one binary COPY from PostgreSQL into Float64Arrays
 * (`copyColumns.ts`), then the strategy as a plain loop over them (`smaCrossLoop.ts`). The end-to-end
 * path cannot skip the read either, and the read alone takes several times the loop (a binary
 * COPY of a million rows against a loop of ~0.1 s), so a ratio to the bare loop would measure
 * PostgreSQL, not Trader: that figure is printed too, with the bound the read puts on it. The
 * API's result must agree with the loop (fills and final equity), or the benchmark fails: it
 * would not be the same strategy. Reported: bars/s end to end, the ratio, the result read, Trader's
 * peak RSS until the run completed (the target) and with the result read (its sandbox's apart),
 * and the bars path alone (the million bars through the derived DataHub client).
 * Targets: ≥ 500,000 bars/s, ratio ≥ 0.3, Trader's peak RSS ≤ 300 MB during the run.
 * `BENCH_TRACE_CPU=1` prints where each run's CPU time went (Trader, its sandbox, DataHub,
 * PostgreSQL, the machine in all): on a machine of few cores, the sum bounds the run's time.
 */
import { readFileSync } from "node:fs"
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import {
  type BacktestDetail,
  type BacktestId,
  concatBarColumns,
  DataHubApi,
  ProviderName,
  RegistryApi,
  TraderApi
} from "@quasar/domain"
import { DateTime, Effect } from "effect"
import Pg from "pg"
import { copyColumns } from "./copyColumns"
import { copyIn } from "./copyIn"
import {
  ADMIN_TOKEN,
  cpuSnapshot,
  cpuSpent,
  rssOf,
  sandboxCpuByPid,
  sandboxRssMb,
  startServices
} from "./services"
import {
  type Columns,
  FEE_BPS,
  INITIAL_CASH,
  MINUTE,
  makeBars,
  plainLoop,
  SLIPPAGE_BPS,
  START,
  time,
  timeAsync
} from "./smaCrossLoop"
import { note, report, withFreshDatabase } from "./support"

const BARS = 1_000_000
/** Rounds of each side, the best counted: single runs on a shared two-core machine vary by ±20 %. */
const ROUNDS = 5
const PROVIDER = "bench"
const SYMBOL = "BENCH/USD"
const STRATEGY = "sma-cross"
/**
 * Between two looks at the run's summary: each look costs Trader and this process CPU that the
 * run, on a small machine, shares, so looks are few; a run is timed at most this much long.
 */
const POLL_MS = 50
const RSS_LIMIT_MB = 300
const SERIES_QUERY = `SELECT ts, open, high, low, close, volume FROM datahub.historical_data
  WHERE provider = '${PROVIDER}' AND symbol = '${SYMBOL}' AND timeframe = '1m' ORDER BY ts`
const source = readFileSync(new URL("./strategies/smaCross.ts", import.meta.url), "utf8")

/** The bars as COPY text, 64 KiB at a time (JS prints the shortest text that reads back exactly). */
function* copyLines(bars: Columns): Iterable<string> {
  let chunk = ""
  for (let i = 0; i < bars.ts.length; i++) {
    chunk += `${PROVIDER}\t${SYMBOL}\t1m\t${new Date(bars.ts[i]!).toISOString()}\t${bars.open[i]}\t${bars.high[i]}\t${bars.low[i]}\t${bars.close[i]}\t${bars.volume[i]}\n`
    if (chunk.length >= 1 << 16) {
      yield chunk
      chunk = ""
    }
  }
  if (chunk !== "") yield chunk
}

const run = <A, E>(effect: Effect.Effect<A, E, HttpClient.HttpClient>) =>
  Effect.runPromise(Effect.provide(effect, FetchHttpClient.layer))

const withAdmin = { transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(ADMIN_TOKEN)) }

/** Uploads the strategy module and activates the version it became. */
const uploadStrategy = (registryUrl: string) =>
  run(
    Effect.gen(function* () {
      const registry = yield* HttpApiClient.make(RegistryApi, { baseUrl: registryUrl, ...withAdmin })
      const name = ProviderName.make(STRATEGY)
      const { version } = yield* registry.code.upload({
        path: { name },
        payload: { kind: "strategy", language: "typescript", source }
      })
      if (version.status !== "valid")
        return yield* Effect.die(`the strategy did not validate: ${JSON.stringify(version)}`)
      yield* registry.code.activate({ path: { name, version: version.version } })
    })
  )

/** Every bar of the series as columns, read the way Trader reads them. */
const readColumns = (datahubUrl: string) =>
  run(
    Effect.gen(function* () {
      const datahub = yield* HttpApiClient.make(DataHubApi, { baseUrl: datahubUrl })
      return yield* datahub.bars.columns({
        urlParams: {
          provider: ProviderName.make(PROVIDER),
          symbol: SYMBOL,
          timeframe: "1m",
          from: DateTime.unsafeMake(START),
          to: DateTime.unsafeMake(START + BARS * MINUTE)
        }
      })
    })
  )

/** One client for every call to Trader: making one per poll would cost this process CPU the run shares. */
const traderClient = (traderUrl: string) =>
  run(HttpApiClient.make(TraderApi, { baseUrl: traderUrl, ...withAdmin }))

type TraderClient = Awaited<ReturnType<typeof traderClient>>

const submit = (trader: TraderClient) =>
  Effect.runPromise(
    trader.backtests.submit({
      payload: {
        strategy: STRATEGY,
        provider: ProviderName.make(PROVIDER),
        from: DateTime.unsafeMake(START),
        to: DateTime.unsafeMake(START + BARS * MINUTE),
        params: {},
        initialCash: INITIAL_CASH,
        fill: { feeBps: FEE_BPS, slippageBps: SLIPPAGE_BPS }
      }
    })
  )

/** The run's summary: its status without its result, cheap to poll. */
const summary = (trader: TraderClient, id: BacktestId) =>
  Effect.runPromise(
    // The newest run of the strategy: the one running, as this benchmark runs one at a time.
    Effect.map(trader.backtests.list({ urlParams: { strategy: STRATEGY, limit: 1 } }), (runs) =>
      runs.find((r) => r.id === id)
    )
  )

const detail = (trader: TraderClient, id: BacktestId) =>
  Effect.runPromise(trader.backtests.get({ path: { id } }))

const ENDED = new Set(["completed", "failed", "cancelled", "interrupted"])

await withFreshDatabase("backtest", async (url) => {
  const services = await startServices(url, { trader: true })
  const trader = services.trader!
  const traderApi = await traderClient(trader.url)
  const traderPid = trader.process.pid ?? 0
  const client = new Pg.Client({ connectionString: url })
  await client.connect()
  try {
    const bars = makeBars(BARS)
    await copyIn(
      client,
      "datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume)",
      () => copyLines(bars)
    )
    // Settled pages (hint bits, visibility map), as for bars stored long before a backtest.
    await client.query("VACUUM ANALYZE datahub.historical_data")
    await client.query("CHECKPOINT").catch(() => undefined)
    note(`stored ${BARS} bars of ${PROVIDER} ${SYMBOL}`)
    await uploadStrategy(services.registryUrl)

    // The baseline, best of five: the same work as a plain script in this process, reading the
    // bars from the same database (one binary COPY into Float64Arrays) and running the loop.
    let baselineMs = Number.POSITIVE_INFINITY
    let loopMs = Number.POSITIVE_INFINITY
    let loop = plainLoop(bars)
    for (let round = 0; round < ROUNDS; round++) {
      const read = await timeAsync(() => copyColumns(client, SERIES_QUERY, BARS))
      if (read.out.ts.length !== BARS) throw new Error(`the baseline's COPY read ${read.out.ts.length} bars`)
      const timed = time(() => plainLoop(read.out))
      baselineMs = Math.min(baselineMs, read.ms + timed.ms)
      loopMs = Math.min(loopMs, timed.ms)
      loop = timed.out
    }
    note(
      `baseline, one process: COPY + plain loop ${baselineMs.toFixed(0)} ms, of which the loop ${loopMs.toFixed(0)} ms (${loop.fills} fills, final equity ${loop.final.toFixed(6)})`
    )

    // The bars path alone: the million bars as columns through the derived client.
    const columnsStarted = performance.now()
    const columns = concatBarColumns(await readColumns(services.datahubUrl))
    const columnsMs = performance.now() - columnsStarted
    if (columns.ts.length !== BARS) throw new Error(`GET /bars/columns answered ${columns.ts.length} bars`)
    note(
      `GET /bars/columns: ${BARS} bars in ${columnsMs.toFixed(0)} ms = ${Math.round(BARS / (columnsMs / 1000))} bars/s`
    )

    // End to end, best of five like the baseline: submitted until Trader says completed. Each
    // run's result is then read back (timed apart) and checked against the loop.
    const atRest = rssOf(traderPid)
    note(`Trader before the runs: RSS ${atRest.rssMb} MB, peak so far ${atRest.peakMb} MB`)
    let runPeakMb = rssOf(traderPid).peakMb
    let readPeakMb = runPeakMb
    let sandboxPeakMb = 0
    let seconds = Number.POSITIVE_INFINITY
    const runs: Array<{ readonly id: BacktestId; readonly seconds: number }> = []
    for (let round = 0; round < ROUNDS; round++) {
      const sandboxCpu = new Map<number, number>()
      const cpuBefore = cpuSnapshot(traderPid, services.datahub.pid ?? 0)
      const started = performance.now()
      const accepted = await submit(traderApi)
      let status = "queued"
      for (;;) {
        const current = await summary(traderApi, accepted.id)
        runPeakMb = Math.max(runPeakMb, rssOf(traderPid).peakMb)
        if (process.env.BENCH_TRACE_RSS)
          note(
            `${(performance.now() - started).toFixed(0)} ms ${current?.status} ${current?.progress.done} rss ${rssOf(traderPid).rssMb}`
          )
        sandboxPeakMb = Math.max(sandboxPeakMb, sandboxRssMb(traderPid))
        if (process.env.BENCH_TRACE_CPU)
          for (const [pid, cpu] of sandboxCpuByPid(traderPid))
            sandboxCpu.set(pid, Math.max(sandboxCpu.get(pid) ?? 0, cpu))
        status = current?.status ?? "missing"
        if (ENDED.has(status) || status === "missing") break
        if (performance.now() - started > 600_000)
          throw new Error("the backtest did not end within 10 minutes")
        await new Promise((r) => setTimeout(r, POLL_MS))
      }
      const runSeconds = (performance.now() - started) / 1000
      if (process.env.BENCH_TRACE_CPU)
        note(
          `${cpuSpent(cpuBefore, cpuSnapshot(traderPid, services.datahub.pid ?? 0))}; sandbox processes seen: ${[...sandboxCpu.values()].map((s) => s.toFixed(2)).join(", ")} s`
        )
      seconds = Math.min(seconds, runSeconds)
      runs.push({ id: accepted.id, seconds: runSeconds })
    }
    // Read back after all runs: the read's own peak must not count as a run's.
    for (const [round, { id, seconds: runSeconds }] of runs.entries()) {
      const readStarted = performance.now()
      const last: BacktestDetail = await detail(traderApi, id)
      const readSeconds = (performance.now() - readStarted) / 1000
      readPeakMb = Math.max(readPeakMb, rssOf(traderPid).peakMb)
      if (last.status !== "completed" || last.result === null)
        throw new Error(`the backtest ended ${last.status}: ${last.message ?? "no message"}`)
      const fills = last.result.fills.length
      const final = last.result.equity.equity.at(-1) ?? Number.NaN
      note(
        `run ${round + 1}: Trader ran ${BARS} bars in ${runSeconds.toFixed(2)} s (${fills} fills, final equity ${final.toFixed(6)}); GET /backtests/{id} with the result: ${readSeconds.toFixed(2)} s`
      )
      if (fills !== loop.fills || Math.abs(final - loop.final) > 1e-9 * Math.max(1, Math.abs(loop.final)))
        throw new Error("Trader's result and the plain loop disagree: they did not run the same strategy")
    }
    note(
      `Trader peak RSS ${runPeakMb} MB until the runs completed (target <= ${RSS_LIMIT_MB}), ${readPeakMb} MB with the results read; its sandbox at most ${sandboxPeakMb} MB`
    )

    const value = Math.round(BARS / seconds)
    const baseline = Math.round(BARS / (baselineMs / 1_000))
    const ratio = Math.round((value / baseline) * 1_000) / 1_000
    note(
      `against the loop alone (no read): ratio ${(value / (BARS / (loopMs / 1_000))).toFixed(3)}; the bars' read by itself bounds that at ${(loopMs / (baselineMs - loopMs)).toFixed(2)}`
    )
    report({
      bench: "backtest",
      value,
      unit: "bars/s",
      baseline,
      ratio,
      target: `≥ 500000 bars/s and ratio ≥ 0.3 (and Trader peak RSS ≤ ${RSS_LIMIT_MB} MB during the run)`,
      pass: value >= 500_000 && ratio >= 0.3 && runPeakMb <= RSS_LIMIT_MB
    })
  } finally {
    await client.end()
    await services.stop()
  }
})
