/**
 * 1,000,000 one-minute bars (10 series × 100,000) into `historical_data` of a fresh database:
 * through BarWriter, written the way collectors write (one fiber per series, 1,000-bar pages, each
 * awaited until committed), against a raw `COPY … FROM STDIN` of the same rows into the same empty
 * table. Both times run from rows in memory to rows committed, encoding included. Target: the
 * writer commits at least 0.4× COPY's rows per second.
 */
import { migrations } from "@quasar/migrations"
import { Database, DatabaseUrl, SchemaState } from "@quasar/server"
import { Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import Pg from "pg"
import { type BarRow, BarWriter } from "../apps/datahub/src/store/BarWriter"
import { copyIn } from "./copyIn"
import { note, peakRssMb, report, timed, withFreshDatabase } from "./support"

const SERIES = 10
const PER_SERIES = 100_000
const PAGE = 1_000
const TOTAL = SERIES * PER_SERIES
const T0 = Date.UTC(2020, 0, 1)

const series: ReadonlyArray<ReadonlyArray<BarRow>> = Array.from({ length: SERIES }, (_, s) =>
  Array.from({ length: PER_SERIES }, (_, i) => {
    const price = 100 * (s + 1) + Math.sin(i / 97) * 5
    return {
      provider: "bench",
      symbol: `SYM${s}/USD`,
      timeframe: "1m" as const,
      ts: T0 + i * 60_000,
      open: price,
      high: price + 0.75,
      low: price - 0.5,
      close: price + 0.25,
      volume: 1.5 + (i % 13) * 0.125,
      vwap: price + 0.1,
      trades: i % 97
    }
  })
)

const count = async (client: Pg.Client) =>
  Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM historical_data")).rows[0]?.n)

/** COPY's text format: tab-separated, \N for null (no field here holds a tab, newline or backslash). */
function* copyLines(): Iterable<string> {
  let chunk = ""
  for (const rows of series)
    for (const r of rows) {
      chunk += `${r.provider}\t${r.symbol}\t${r.timeframe}\t${new Date(r.ts).toISOString()}\t${r.open}\t${r.high}\t${r.low}\t${r.close}\t${r.volume}\t${r.vwap ?? "\\N"}\t${r.trades ?? "\\N"}\n`
      if (chunk.length >= 1 << 16) {
        yield chunk
        chunk = ""
      }
    }
  if (chunk !== "") yield chunk
}

const throughWriter = (url: string, beforeStart: () => Promise<unknown>) => {
  const app = BarWriter.layer.pipe(
    Layer.provideMerge(SchemaState.layer(migrations)),
    Layer.provide(Database.layer({ poolSize: 4, applicationName: "quasar-bench" })),
    Layer.provide(DatabaseUrl.layer(Redacted.make(url))),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
  return Effect.gen(function* () {
    const writer = yield* BarWriter
    yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
    yield* Effect.promise(beforeStart)
    const started = performance.now()
    yield* Effect.forEach(
      series,
      (rows) =>
        Effect.forEach(
          Array.from({ length: PER_SERIES / PAGE }, (_, p) => rows.slice(p * PAGE, (p + 1) * PAGE)),
          (page) => writer.write("historical", page),
          { discard: true }
        ),
      { concurrency: "unbounded", discard: true }
    )
    const ms = performance.now() - started
    const stats = yield* writer.stats
    note(`writer: ${stats.batches} batches, ${stats.rowsWritten} rows, ${stats.retries} retries`)
    return ms
  }).pipe(Effect.scoped, Effect.provide(app), Effect.runPromise)
}

const main = () =>
  withFreshDatabase("writer", async (url) => {
    const client = new Pg.Client({ connectionString: url })
    await client.connect()
    try {
      // Migrates the fresh database and measures the writer.
      const writerMs = await throughWriter(url, () => client.query("CHECKPOINT"))
      const written = await count(client)
      if (written !== TOTAL) throw new Error(`writer stored ${written} rows, expected ${TOTAL}`)
      note(`writer: ${TOTAL} rows in ${Math.round(writerMs)} ms`)

      // The same rows into the same table, emptied, by COPY.
      await client.query("TRUNCATE historical_data")
      await client.query("CHECKPOINT")
      const copyMs = await timed(() =>
        copyIn(
          client,
          "historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)",
          copyLines
        )
      )
      const copied = await count(client)
      if (copied !== TOTAL) throw new Error(`COPY stored ${copied} rows, expected ${TOTAL}`)
      note(`COPY: ${TOTAL} rows in ${Math.round(copyMs)} ms`)

      const value = Math.round(TOTAL / (writerMs / 1000))
      const baseline = Math.round(TOTAL / (copyMs / 1000))
      const ratio = Math.round((value / baseline) * 100) / 100
      process.stdout.write(`peak RSS: ${peakRssMb()} MB\n`)
      report({ bench: "writer", value, unit: "rows/s", baseline, ratio, target: ">= 0.4", pass: ratio >= 0.4 })
    } finally {
      await client.end()
    }
  })

await main()
