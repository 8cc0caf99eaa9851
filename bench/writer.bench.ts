/**
 * 1,000,000 one-minute bars (10 series × 100,000) into `historical_data` of a fresh database:
 * through BarWriter (its defaults: two lanes, 5,000-row batches), written the way collectors write
 * (one fiber per series, 1,000-bar pages, each awaited until committed), against one raw
 * `COPY … FROM STDIN` of the same rows into the same emptied table. Both are timed from rows made
 * to rows committed, encoding included, best of two alternating rounds each. Target: the writer
 * commits at least 0.4× COPY's rows per second.
 */
import { DATAHUB_SCHEMA, datahubMigrations } from "@quasar/migrations/datahub"
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

/**
 * Bar `i` of series `s`, made on demand (the same values for both runs) so that peak RSS shows
 * what the writer holds, not a million rows prepared up front.
 */
const bar = (s: number, i: number): BarRow => {
  const price = 100 * (s + 1) + Math.sin(i / 97) * 5
  return {
    provider: "bench",
    symbol: `SYM${s}/USD`,
    timeframe: "1m",
    ts: T0 + i * 60_000,
    open: price,
    high: price + 0.75,
    low: price - 0.5,
    close: price + 0.25,
    volume: 1.5 + (i % 13) * 0.125,
    vwap: price + 0.1,
    trades: i % 97
  }
}

const page = (s: number, p: number) => Array.from({ length: PAGE }, (_, j) => bar(s, p * PAGE + j))

const count = async (client: Pg.Client) =>
  Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM datahub.historical_data")).rows[0]?.n)

/** COPY's text format: tab-separated, \N for null (no field here holds a tab, newline or backslash). */
function* copyLines(): Iterable<string> {
  let chunk = ""
  for (let s = 0; s < SERIES; s++)
    for (let i = 0; i < PER_SERIES; i++) {
      const r = bar(s, i)
      chunk += `${r.provider}\t${r.symbol}\t${r.timeframe}\t${new Date(r.ts).toISOString()}\t${r.open}\t${r.high}\t${r.low}\t${r.close}\t${r.volume}\t${r.vwap ?? "\\N"}\t${r.trades ?? "\\N"}\n`
      if (chunk.length >= 1 << 16) {
        yield chunk
        chunk = ""
      }
    }
  if (chunk !== "") yield chunk
}

const ROUNDS = 2
const COLUMNS =
  "datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)"

/** Empties the table and flushes dirty pages, so that every run starts from the same state. */
const reset = async (client: Pg.Client) => {
  await client.query("TRUNCATE datahub.historical_data")
  await client.query("CHECKPOINT")
}

const verify = async (client: Pg.Client, who: string) => {
  const stored = await count(client)
  if (stored !== TOTAL) throw new Error(`${who} stored ${stored} rows, expected ${TOTAL}`)
}

/** Collectors' way: one fiber per series, each writing its pages one after another. */
const writeAll = Effect.flatMap(BarWriter, (writer) =>
  Effect.forEach(
    Array.from({ length: SERIES }, (_, s) => s),
    (s) =>
      Effect.forEach(
        Array.from({ length: PER_SERIES / PAGE }, (_, p) => p),
        (p) => writer.write("historical", page(s, p)),
        { discard: true }
      ),
    { concurrency: "unbounded", discard: true }
  )
)

/** One run through a writer of its own, as a freshly started DataHub backfilling would be. */
const throughWriter = (url: string, client: Pg.Client) =>
  Effect.gen(function* () {
    yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
    yield* Effect.promise(() => client.query("CHECKPOINT"))
    const started = performance.now()
    yield* writeAll
    const ms = performance.now() - started
    const stats = yield* Effect.flatMap(BarWriter, (w) => w.stats)
    note(
      `writer: ${stats.batches} statements, ${stats.appendConflicts} append conflicts, ${stats.retries} retries`
    )
    return ms
  }).pipe(
    Effect.scoped,
    Effect.provide(
      BarWriter.layer.pipe(
        Layer.provideMerge(SchemaState.layer(datahubMigrations, { schema: DATAHUB_SCHEMA })),
        Layer.provide(Database.layer({ poolSize: 4, applicationName: "quasar-bench" })),
        Layer.provide(DatabaseUrl.layer(Redacted.make(url))),
        Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
      )
    ),
    Effect.runPromise
  )

/**
 * Alternating rounds of writer and COPY; the best time of each counts. The machine is shared, so
 * a single run mostly measures what else was running; the best of several is what each can do.
 */
const measure = async (url: string, client: Pg.Client) => {
  const writerMs: Array<number> = []
  const copyMs: Array<number> = []
  for (let round = 0; round < ROUNDS; round++) {
    // The first run migrates the fresh database; TRUNCATE needs the table.
    if (round > 0) await reset(client)
    writerMs.push(await throughWriter(url, client))
    await verify(client, "the writer")
    await reset(client)
    copyMs.push(await timed(() => copyIn(client, COLUMNS, copyLines)))
    await verify(client, "COPY")
    note(
      `round ${round + 1}: writer ${Math.round(writerMs[round]!)} ms, COPY ${Math.round(copyMs[round]!)} ms`
    )
  }
  return { writerMs: Math.min(...writerMs), copyMs: Math.min(...copyMs) }
}

const main = () =>
  withFreshDatabase("writer", async (url) => {
    const client = new Pg.Client({ connectionString: url })
    await client.connect()
    try {
      const { writerMs, copyMs } = await measure(url, client)
      const value = Math.round(TOTAL / (writerMs / 1000))
      const baseline = Math.round(TOTAL / (copyMs / 1000))
      const ratio = Math.round((value / baseline) * 100) / 100
      process.stdout.write(`peak RSS: ${peakRssMb()} MB\n`)
      report({
        bench: "writer",
        value,
        unit: "rows/s",
        baseline,
        ratio,
        target: ">= 0.4",
        pass: ratio >= 0.4
      })
    } finally {
      await client.end()
    }
  })

await main()
