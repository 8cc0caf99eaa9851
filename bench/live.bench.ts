/**
 * 2,000 live Kraken symbols on one DataHub. The fake Kraken runs in a child process (so its CPU
 * and memory are not DataHub's) with 2,000 generated pairs, pushing every pair's forming bar every
 * `UPDATE_MS` in one frame per tick, each forming bar stamped with its send time (`trades` =
 * Date.now() % 1e9). DataHub — the whole app, Kraken run in-process — streams them into
 * `live_data`/`historical_data` through the BarWriter; an in-process hub subscriber sees each batch
 * once committed and takes its latency from the stamp.
 *
 * Figures over a `MEASURE_S` window after a warm-up: provider updates/s received, rows/s committed
 * by the writer, p50/p99 update→commit latency (of the updates that were written: superseded
 * forming bars are coalesced away), and DataHub's peak RSS. The baseline is raw `COPY … FROM STDIN`
 * (bench/copyIn.ts) of 200,000 rows into a table shaped like `live_data`, run afterwards on the
 * quiet machine. Targets: committed rows/s ≥ 0.5 × COPY's, p99 ≤ 250 ms, RSS ≤ 300 MB.
 */
import { spawn } from "node:child_process"
import { createServer } from "node:http"
import { fileURLToPath } from "node:url"
import { NodeHttpServer } from "@effect/platform-node"
import { SqlClient } from "@effect/sql"
import { Database, DatabaseUrl, SchemaState, ServiceConfig } from "@quasar/server"
import { Duration, Effect, Layer, Logger, LogLevel, Option, Queue, Redacted, Stream } from "effect"
import Pg from "pg"
import { appLayer } from "../apps/datahub/src/App"
import { BarSource } from "../apps/datahub/src/collect/BarSource"
import { LiveHub } from "../apps/datahub/src/live/LiveHub"
import { LiveSource } from "../apps/datahub/src/live/LiveSource"
import { LiveSupervisor } from "../apps/datahub/src/live/LiveSupervisor"
import { BarWriter } from "../apps/datahub/src/store/BarWriter"
import kraken from "../libs/providers/src/kraken/provider"
import { copyIn } from "./copyIn"
import { median, note, report, withFreshDatabase } from "./support"

const SYMBOLS = Number(process.env.LIVE_BENCH_SYMBOLS ?? 2_000)
const UPDATE_MS = Number(process.env.LIVE_BENCH_UPDATE_MS ?? 100)
const WARMUP_S = 10
const MEASURE_S = 30
const COPY_SERIES = 2_000
const COPY_PER_SERIES = 100

interface Fake {
  readonly restUrl: string
  readonly wsUrl: string
  readonly stop: () => void
}

const startFake = () =>
  new Promise<Fake>((resolve, reject) => {
    const main = fileURLToPath(new URL("../libs/providers/src/testing/kraken/main.ts", import.meta.url))
    const args = ["--pairs", String(SYMBOLS), "--update-ms", String(UPDATE_MS), "--batch", "--stamp"]
    const child = spawn(process.execPath, ["--import", "tsx", main, ...args], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString()
      const settings = /provider settings: (\{.*\})/.exec(out)?.[1]
      if (settings !== undefined) {
        const { restUrl, wsUrl } = JSON.parse(settings) as { restUrl: string; wsUrl: string }
        resolve({ restUrl, wsUrl, stop: () => child.kill("SIGTERM") })
      }
    })
    child.once("exit", (code) => reject(new Error(`the fake Kraken exited with code ${code}`)))
  })

const serviceConfig = (url: string) =>
  ServiceConfig.layer({
    port: 0,
    host: "127.0.0.1",
    logLevel: LogLevel.Warning,
    databaseUrl: Option.some(Redacted.make(url)),
    poolSize: 10,
    dataDir: ".quasar-bench",
    embeddedDbPort: 0,
    adminToken: Option.none(),
    secretKey: Option.none(),
    registryUrl: "http://127.0.0.1:8080",
    datahubUrl: "http://127.0.0.1:8081",
    otlpEndpoint: Option.none()
  })

/** Provider events DataHub received (counted per chunk, not per event, to stay off the hot path). */
const received = { events: 0 }

const dataHub = (url: string, fake: Fake) => {
  const settings = { kraken: { restUrl: fake.restUrl, wsUrl: fake.wsUrl } }
  const counting = Layer.effect(
    LiveSource,
    Effect.map(LiveSource, (source) => ({
      live: (provider: string, request: Parameters<typeof source.live>[1]) =>
        source.live(provider, request).pipe(
          Stream.mapChunks((chunk) => {
            received.events += chunk.length
            return chunk
          })
        )
    }))
  ).pipe(Layer.provide(LiveSource.inProcess([kraken], settings)))
  return appLayer({}, "external").pipe(
    Layer.provide(counting),
    Layer.provide(BarSource.inProcess([kraken], settings)),
    Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(Database.layer({ poolSize: 10, applicationName: "quasar-bench-live" })),
    Layer.provideMerge(DatabaseUrl.layer(Redacted.make(url))),
    Layer.provideMerge(serviceConfig(url)),
    Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
  )
}

const percentile = (xs: Array<number>, p: number) => {
  if (xs.length === 0) return Number.NaN
  xs.sort((a, b) => a - b)
  return xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!
}

/** Streams for WARMUP_S + MEASURE_S and returns the window's figures. */
const measureLive = (url: string, fake: Fake) =>
  Effect.gen(function* () {
    yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
    note(`DataHub started, RSS ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB before streaming`)
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO provider_subscription (provider, symbol, timeframe, mode)
      SELECT 'kraken', 'S' || lpad(i::text, 4, '0') || '/USD', '1m', 'live' FROM generate_series(1, ${SYMBOLS}) AS i`
    yield* Effect.flatMap(LiveSupervisor, (s) => s.refresh)
    const hub = yield* LiveHub
    const writer = yield* BarWriter
    const latencies: Array<number> = []
    let measuring = false
    const committed = yield* hub.subscribe
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.map(Queue.takeAll(committed), (updates) => {
          if (!measuring) return
          const now = Date.now() % 1e9
          for (const u of updates) if (!u.closed) latencies.push((now - (u.bar.trades ?? 0) + 1e9) % 1e9)
        })
      )
    )
    yield* Effect.sleep(Duration.seconds(WARMUP_S))
    const first = { events: received.events, rows: (yield* writer.stats).rowsWritten, at: performance.now() }
    measuring = true
    let peakRss = 0
    for (let i = 0; i < MEASURE_S * 4; i++) {
      yield* Effect.sleep(Duration.millis(250))
      peakRss = Math.max(peakRss, process.memoryUsage().rss)
    }
    measuring = false
    const seconds = (performance.now() - first.at) / 1000
    const stats = yield* writer.stats
    const status = yield* Effect.flatMap(LiveSupervisor, (s) => s.status)
    return {
      updatesPerSec: Math.round((received.events - first.events) / seconds),
      rowsPerSec: Math.round((stats.rowsWritten - first.rows) / seconds),
      p50: Math.round(median(latencies)),
      p99: Math.round(percentile(latencies, 99)),
      measured: latencies.length,
      rssMb: Math.round(peakRss / 1024 / 1024),
      batches: stats.batches,
      connections: status.connections.map((c) => `${c.state}/${c.symbols.length}`).join(",")
    }
  }).pipe(Effect.scoped, Effect.provide(dataHub(url, fake)), Effect.runPromise)

const copyLine = (s: number, i: number) => {
  const ts = new Date(Date.UTC(2020, 0, 1) + i * 60_000).toISOString()
  const p = 100 + s + (i % 17) * 0.25
  return `kraken\tS${s}/USD\t1m\t${ts}\t${p}\t${p + 1}\t${p - 1}\t${p + 0.5}\t${1 + (i % 7)}\t${p}\t${i % 97}\n`
}

function* copyLines(): Iterable<string> {
  let chunk = ""
  for (let s = 0; s < COPY_SERIES; s++)
    for (let i = 0; i < COPY_PER_SERIES; i++) {
      chunk += copyLine(s, i)
      if (chunk.length >= 1 << 16) {
        yield chunk
        chunk = ""
      }
    }
  if (chunk !== "") yield chunk
}

/** Raw COPY into a table like live_data (same columns and primary key), best of two rounds. */
const copyRowsPerSec = async (url: string) => {
  const client = new Pg.Client({ connectionString: url })
  await client.connect()
  try {
    const times: Array<number> = []
    for (let round = 0; round < 2; round++) {
      await client.query("DROP TABLE IF EXISTS copy_baseline")
      await client.query("CREATE TABLE copy_baseline (LIKE live_data INCLUDING DEFAULTS INCLUDING INDEXES)")
      await client.query("CHECKPOINT")
      const started = performance.now()
      await copyIn(
        client,
        "copy_baseline (provider, symbol, timeframe, ts, open, high, low, close, volume, vwap, trades)",
        copyLines
      )
      times.push(performance.now() - started)
    }
    const rows = Number(
      (await client.query<{ n: string }>("SELECT count(*) AS n FROM copy_baseline")).rows[0]?.n
    )
    if (rows !== COPY_SERIES * COPY_PER_SERIES) throw new Error(`COPY stored ${rows} rows`)
    return Math.round(rows / (Math.min(...times) / 1000))
  } finally {
    await client.end()
  }
}

await withFreshDatabase("live", async (url) => {
  const fake = await startFake()
  note(`fake Kraken with ${SYMBOLS} pairs, one frame every ${UPDATE_MS} ms, at ${fake.wsUrl}`)
  let live: Awaited<ReturnType<typeof measureLive>>
  try {
    live = await measureLive(url, fake)
  } finally {
    fake.stop()
  }
  const baseline = await copyRowsPerSec(url)
  const ratio = Math.round((live.rowsPerSec / baseline) * 100) / 100
  process.stdout.write(`symbols: ${SYMBOLS}, connections: ${live.connections}\n`)
  process.stdout.write(`provider updates received: ${live.updatesPerSec}/s\n`)
  process.stdout.write(`rows committed: ${live.rowsPerSec}/s (COPY: ${baseline}/s, ratio ${ratio})\n`)
  process.stdout.write(
    `update→commit latency: p50 ${live.p50} ms, p99 ${live.p99} ms (${live.measured} updates)\n`
  )
  process.stdout.write(`DataHub peak RSS: ${live.rssMb} MB\n`)
  const pass = ratio >= 0.5 && live.p99 <= 250 && live.rssMb <= 300
  report({
    bench: "live",
    value: live.rowsPerSec,
    unit: "rows/s",
    baseline,
    ratio,
    target: ">= 0.5 x COPY, p99 <= 250 ms, RSS <= 300 MB",
    pass,
    ...{ p99Ms: live.p99, p50Ms: live.p50, rssMb: live.rssMb, updatesPerSec: live.updatesPerSec }
  })
})
