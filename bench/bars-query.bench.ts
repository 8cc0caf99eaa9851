/**
 * `GET /bars` of 100,000 one-minute bars as JSON through the DataHub HTTP API (the real app on a
 * random port, fetched with Node's `fetch`, body read to the end) against the same SELECT run by
 * a spawned `psql` printing its table to /dev/null. Medians of alternating runs after a warm-up.
 * Target: the API takes at most twice psql's time.
 */
import { execFile } from "node:child_process"
import { createServer } from "node:http"
import { promisify } from "node:util"
import { HttpServer } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Database, DatabaseUrl, SchemaState, ServiceConfig, serviceConfig } from "@quasar/server"
import { SwaggerAssets } from "@quasar/server/node"
import { ConfigProvider, Effect, Layer, Logger, LogLevel, Redacted } from "effect"
import Pg from "pg"
import { DataHubLive } from "../apps/datahub/src/App"
import { median, note, peakRssMb, report, timed, withFreshDatabase } from "./support"

const BARS = 100_000
const RUNS = 7
const SELECT = `SELECT ts, open, high, low, close, volume, vwap, trades FROM datahub.historical_data
  WHERE provider = 'bench' AND symbol = 'BTC/USD' AND timeframe = '1m' ORDER BY ts LIMIT ${BARS}`

/** The series asked for (150,000 bars, so the page has a next cursor) among three others. */
const seed = async (url: string) => {
  const client = new Pg.Client({ connectionString: url })
  await client.connect()
  try {
    for (const [symbol, n] of [
      ["BTC/USD", 150_000],
      ["ETH/USD", 100_000],
      ["SOL/USD", 100_000],
      ["XRP/USD", 100_000]
    ] as const)
      await client.query(`INSERT INTO datahub.historical_data (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)
        SELECT 'bench', '${symbol}', '1m', timestamptz '2023-01-01 00:00:00+00' + i * interval '1 minute',
               p, p + 0.75, p - 0.5, p + 0.25, 1.5 + (i % 13) * 0.125, p + 0.1, i % 97
        FROM generate_series(0, ${n - 1}) AS i, LATERAL (SELECT 30000 + sin(i / 97.0) * 500 AS p) AS price`)
    await client.query("VACUUM ANALYZE datahub.historical_data")
  } finally {
    await client.end()
  }
}

const psql = (url: string) => {
  const { hostname, port, username, pathname } = new URL(url)
  const args = ["-X", "-q", "-h", hostname, "-p", port || "5432", "-U", username || "postgres"]
  return () =>
    promisify(execFile)("psql", [...args, "-d", pathname.slice(1), "-o", "/dev/null", "-c", SELECT], {
      maxBuffer: 1 << 20
    })
}

const config = Effect.runSync(
  Effect.withConfigProvider(
    serviceConfig("DATAHUB_PORT", 0),
    ConfigProvider.fromMap(new Map([["HOST", "127.0.0.1"]]))
  )
)

const main = () =>
  withFreshDatabase("query", (url) =>
    Effect.gen(function* () {
      yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
      const address = (yield* HttpServer.HttpServer).address
      if (address._tag !== "TcpAddress") throw new Error("the bench needs a TCP address")
      yield* Effect.promise(() => seed(url))
      const api = `http://127.0.0.1:${address.port}/bars?provider=bench&symbol=BTC%2FUSD&timeframe=1m&limit=${BARS}`
      const viaApi = () => fetch(api).then((res) => res.arrayBuffer())
      const viaPsql = psql(url)

      const body = JSON.parse(new TextDecoder().decode(yield* Effect.promise(viaApi))) as {
        bars: ReadonlyArray<unknown>
        nextCursor: string | null
      }
      if (body.bars.length !== BARS || body.nextCursor === null)
        throw new Error(`the API answered ${body.bars.length} bars, cursor ${body.nextCursor}`)
      yield* Effect.promise(viaPsql)

      const apiMs: Array<number> = []
      const psqlMs: Array<number> = []
      for (let i = 0; i < RUNS; i++) {
        apiMs.push(yield* Effect.promise(() => timed(viaApi)))
        psqlMs.push(yield* Effect.promise(() => timed(viaPsql)))
      }
      note(`API ms: ${apiMs.map(Math.round).join(" ")}`)
      note(`psql ms: ${psqlMs.map(Math.round).join(" ")}`)
      const value = Math.round(median(apiMs))
      const baseline = Math.round(median(psqlMs))
      const ratio = Math.round((value / baseline) * 100) / 100
      process.stdout.write(`peak RSS: ${peakRssMb()} MB\n`)
      report({ bench: "bars-query", value, unit: "ms", baseline, ratio, target: "<= 2", pass: ratio <= 2 })
    }).pipe(
      Effect.scoped,
      Effect.provide(
        DataHubLive.pipe(
          Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
          Layer.provideMerge(Database.layer({ poolSize: 5, applicationName: "quasar-bench" })),
          Layer.provideMerge(DatabaseUrl.layer(Redacted.make(url))),
          Layer.provide(ServiceConfig.layer(config)),
          Layer.provide(SwaggerAssets.layer),
          Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
        )
      ),
      Effect.runPromise
    )
  )

await main()
