/** Shared by the bar tests: generated bars, the writer on a fresh database, a second connection. */
import type { Timeframe } from "@quasar/domain"
import { DATAHUB_SCHEMA, datahubMigrations } from "@quasar/migrations/datahub"
import { Database, DatabaseUrl, SchemaState } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Effect, Layer, Redacted } from "effect"
import Pg from "pg"
import { type BarRow, BarWriter, type BarWriterOptions } from "../../src/store/BarWriter"

export const MINUTE = 60_000
export const T0 = Date.UTC(2024, 0, 1) // a Monday

/** `n` consecutive bars from `start`; bar i opens at 100 + i and closes at 100.5 + i. */
export const bars = (
  symbol: string,
  n: number,
  options: { start?: number; timeframe?: Timeframe.Timeframe; provider?: string; step?: number } = {}
): Array<BarRow> => {
  const { start = T0, timeframe = "1m", provider = "test", step = MINUTE } = options
  return Array.from({ length: n }, (_, i) => ({
    provider,
    symbol,
    timeframe,
    ts: start + i * step,
    open: 100 + i,
    high: 101 + i,
    low: 99 + i,
    close: 100.5 + i,
    volume: 10 + (i % 7),
    vwap: 100.25 + i,
    trades: i % 50
  }))
}

/** The writer with its schema state and pool, on whatever database `DatabaseUrl` names. */
export const writerServices = (options: Partial<BarWriterOptions> = {}) =>
  BarWriter.layerWith(options).pipe(
    Layer.provideMerge(SchemaState.layer(datahubMigrations, { schema: DATAHUB_SCHEMA })),
    Layer.provideMerge(Database.layer({ poolSize: 4, applicationName: "quasar-test" }))
  )

/** The writer on a fresh database. */
export const writerLayer = (options: Partial<BarWriterOptions> = {}) =>
  writerServices(options).pipe(Layer.provideMerge(TestDatabase.layer))

/** Runs `statement` on a connection of its own, outside the service's pool. */
export const direct = <A extends object = Record<string, unknown>>(
  statement: string,
  params: ReadonlyArray<unknown> = []
) =>
  Effect.flatMap(DatabaseUrl, ({ url }) =>
    Effect.promise(async () => {
      const client = new Pg.Client({ connectionString: Redacted.value(url) })
      await client.connect()
      try {
        return (await client.query<A>(statement, [...params])).rows
      } finally {
        await client.end()
      }
    })
  )

export const countOf = (symbol: string, table = "datahub.historical_data") =>
  Effect.map(
    direct<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE symbol = $1`, [symbol]),
    (rows) => rows[0]?.n ?? 0
  )
