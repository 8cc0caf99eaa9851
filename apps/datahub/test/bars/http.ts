/** Calls of the bars API for the tests: raw requests, decoded pages, seeding through the writer. */
import { HttpClient } from "@effect/platform"
import { type BarPoint, BarsPage } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { Effect, Schema } from "effect"
import { type BarRow, BarWriter } from "../../src/store/BarWriter"

export const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
export const series = { provider: "test", timeframe: "1m" }
export const iso = (ms: number) => new Date(ms).toISOString()

export const get = (params: Record<string, string>, path = "/bars") =>
  Effect.flatMap(HttpClient.HttpClient, (http) => http.get(path, { urlParams: params }))

export const page = (params: Record<string, string>) =>
  get(params).pipe(
    Effect.flatMap((res) => (res.status === 200 ? res.json : Effect.die(`status ${res.status}`))),
    Effect.flatMap(Schema.decodeUnknown(BarsPage))
  )

/** Every bar of a query, following nextCursor; also how many pages it took. */
export const allPages = (params: Record<string, string>) =>
  Effect.gen(function* () {
    const out: Array<BarPoint> = []
    let cursor: string | null = null
    let pages = 0
    do {
      const p: typeof BarsPage.Type = yield* page(cursor ? { ...params, cursor } : params)
      out.push(...p.bars)
      cursor = p.nextCursor
      pages++
    } while (cursor !== null && pages < 1_000)
    return { bars: out, pages }
  })

export const failure = (params: Record<string, string>, path = "/bars") =>
  get(params, path).pipe(
    Effect.flatMap((res) => Effect.map(res.json, (body) => ({ status: res.status, body })))
  )

export const seed = (target: "historical" | "live", rows: ReadonlyArray<BarRow>) =>
  Effect.flatMap(BarWriter, (w) => w.write(target, rows))

export const point = (r: BarRow): BarPoint => ({
  ts: iso(r.ts),
  open: r.open,
  high: r.high,
  low: r.low,
  close: r.close,
  volume: r.volume,
  vwap: r.vwap ?? null,
  trades: r.trades ?? null
})
