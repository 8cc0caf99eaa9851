/**
 * What the live benchmarks share: `/live` WebSocket clients that time every stamped forming bar
 * pushed to them, DataHub's Prometheus counters, and pointing a registered provider's settings
 * at a fake (retried until the Registry has registered it).
 */
import { FetchHttpClient, HttpApiClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { type LiveServerMessage, ProviderName, RegistryApi } from "@quasar/domain"
import { Effect, Schedule } from "effect"
import WebSocket from "ws"
import { ADMIN_TOKEN } from "./services"

/** Sets `values` on the registered provider `name` (retried until the Registry has registered it). */
export const configureProvider = (
  registryUrl: string,
  name: string,
  values: Record<string, string | number>
) =>
  Effect.gen(function* () {
    const api = yield* HttpApiClient.make(RegistryApi, {
      baseUrl: registryUrl,
      transformClient: HttpClient.mapRequest(HttpClientRequest.bearerToken(ADMIN_TOKEN))
    })
    yield* api.code.updateSettings({ path: { name: ProviderName.make(name) }, payload: { values } })
  }).pipe(
    Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.intersect(Schedule.recurs(240)))),
    Effect.provide(FetchHttpClient.layer),
    Effect.runPromise
  )

export interface Sink {
  on: boolean
  latencies: Array<number>
  bars: number
  /** Close codes of clients DataHub closed (4008: too slow); any fails the run. */
  closed: Array<number>
  /** Set before the bench closes its clients itself. */
  ending: boolean
  /** LIVE_BENCH_TIMELINE=1: per 250 ms of receipt time, [max, sum, count] of the latencies. */
  timeline?: Map<number, [number, number, number]>
  /** Called on every bar pushed (stamped or not), with its receipt time. */
  onBar?: (receivedAt: number) => void
}

export const makeSink = (): Sink => ({
  on: false,
  latencies: [],
  bars: 0,
  closed: [],
  ending: false,
  ...(process.env.LIVE_BENCH_TIMELINE ? { timeline: new Map() } : {})
})

/** A `/live` client watching `symbols` of `provider`; records the latency of every forming bar pushed. */
export const watch = (
  datahubUrl: string,
  symbols: ReadonlyArray<string>,
  sink: Sink,
  provider = "kraken",
  timeframe = "1m"
) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`${datahubUrl.replace(/^http/, "ws")}/live`)
    ws.once("error", reject)
    ws.once("open", () => {
      for (const symbol of symbols)
        ws.send(JSON.stringify({ _tag: "subscribe", provider, symbol, timeframe }))
      resolve(ws)
    })
    ws.on("message", (data) => {
      if (!sink.on) return
      // Plain JSON.parse, typed by the domain schema's Type: the clients share the machine with
      // DataHub, and a full schema decode per message would take CPU from what is measured.
      const m = JSON.parse(String(data)) as typeof LiveServerMessage.Encoded
      if (m._tag !== "bar") return
      sink.bars++
      sink.onBar?.(Date.now())
      // Stamped forming bars only: a snapshot's forming bar carries a real trade count (< 1e6).
      if (!m.closed && m.bar.trades !== null && m.bar.trades >= 1e6) {
        const latency = ((Date.now() % 1e9) - m.bar.trades + 1e9) % 1e9
        sink.latencies.push(latency)
        if (sink.timeline) {
          const at = Math.floor(Date.now() / 250)
          const bucket = sink.timeline.get(at) ?? [0, 0, 0]
          bucket[0] = Math.max(bucket[0], latency)
          bucket[1] += latency
          bucket[2]++
          sink.timeline.set(at, bucket)
        }
      }
    })
    ws.on("close", (code) => {
      if (!sink.ending) sink.closed.push(code)
    })
  })

const metricsText = async (datahubUrl: string) => (await fetch(`${datahubUrl}/metrics`)).text()

/** Mean seconds per committed writer statement so far, from DataHub's Prometheus metrics. */
export const meanWriteSeconds = async (datahubUrl: string) => {
  const text = await metricsText(datahubUrl)
  const value = (name: string) =>
    Number(
      text
        .split("\n")
        .find((line) => line.startsWith(name))
        ?.split(" ")
        .at(-1) ?? Number.NaN
    )
  return value("quasar_write_batch_seconds_sum") / value("quasar_write_batch_seconds_count")
}

/** Rows the writer committed so far, from DataHub's Prometheus metrics. */
export const committedRows = async (datahubUrl: string) => {
  const text = await metricsText(datahubUrl)
  let rows = 0
  for (const line of text.split("\n"))
    if (line.startsWith("quasar_bars_written_total")) rows += Number(line.split(" ").at(-1))
  return rows
}

export const percentile = (xs: Array<number>, p: number) => {
  xs.sort((a, b) => a - b)
  return xs.length === 0 ? Number.NaN : xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!
}
