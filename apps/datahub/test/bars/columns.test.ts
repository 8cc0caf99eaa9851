import { HttpApiClient } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import {
  type BarColumns,
  concatBarColumns,
  DataHubApi,
  decodeBarColumns,
  encodeBarColumns,
  ProviderName
} from "@quasar/domain"
import { DatabaseUrl } from "@quasar/server"
import { TestDatabase, TestService } from "@quasar/server/testing"
import { Effect, Either, Layer, Redacted } from "effect"
import { COPY_SLICE_BARS } from "../../src/bars/BarColumnsReader"
import { COLUMN_PAGE_BARS } from "../../src/store/BarColumnsRepo"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { allPages, failure, get, iso, ready, seed, series } from "./http"
import { bars, MINUTE, T0 } from "./support"

const PATH = "/bars/columns"

/** The answer's status, content type and decoded columns (or the decoder's complaint). */
const columnsOf = (params: Record<string, string>) =>
  get(params, PATH).pipe(
    Effect.flatMap((res) =>
      Effect.map(res.arrayBuffer, (body) => ({
        status: res.status,
        contentType: res.headers["content-type"],
        bytes: new Uint8Array(body),
        columns: Either.getOrThrow(decodeBarColumns(new Uint8Array(body)))
      }))
    )
  )

const fromPoints = (
  points: ReadonlyArray<{
    ts: string
    open: number
    high: number
    low: number
    close: number
    volume: number
  }>
): BarColumns => ({
  ts: Float64Array.from(points, (p) => Date.parse(p.ts)),
  open: Float64Array.from(points, (p) => p.open),
  high: Float64Array.from(points, (p) => p.high),
  low: Float64Array.from(points, (p) => p.low),
  close: Float64Array.from(points, (p) => p.close),
  volume: Float64Array.from(points, (p) => p.volume)
})

/**
 * The same server database, marked embedded: DataHub then reads pages as it does on PGlite (no
 * COPY), so both ways of reading answer the same tests.
 */
const withoutCopy = Layer.scoped(
  DatabaseUrl,
  Effect.map(TestDatabase.fresh, (url) => ({ url: Redacted.make(url), embedded: true }))
)

for (const [way, database] of [
  ["binary COPY", TestDatabase.layer],
  ["pages (no COPY, as on the embedded database)", withoutCopy]
] as const)
  layer(TestService.layer(DataHubAlone, database), { timeout: 120_000, excludeTestServices: true })(
    `GET /bars/columns, read by ${way}`,
    (it) => {
      it.effect(
        "answers the JSON query's bars as columns, across pages, with awkward doubles",
        () =>
          Effect.gen(function* () {
            yield* ready
            const n = 2 * COLUMN_PAGE_BARS + 123
            const rows = bars("COLS", n).map((r, i) =>
              i % 3 === 0 ? { ...r, open: 0.1 + 0.2, close: -1e-300, volume: 1.7976931348623157e308 } : r
            )
            yield* seed("historical", rows)
            const json = yield* allPages({ ...series, symbol: "COLS", limit: "100000" })
            const answer = yield* columnsOf({ ...series, symbol: "COLS" })
            expect(answer.status).toBe(200)
            expect(answer.contentType).toBe("application/octet-stream")
            expect(answer.columns.ts.length).toBe(n)
            expect(answer.columns).toEqual(fromPoints(json.bars))
            // A range that ends exactly on a page boundary: two full blocks, nothing after.
            const exact = yield* columnsOf({
              ...series,
              symbol: "COLS",
              from: iso(T0),
              to: String(T0 + 2 * COLUMN_PAGE_BARS * MINUTE)
            })
            expect(exact.columns.ts.length).toBe(2 * COLUMN_PAGE_BARS)
            expect(exact.columns.ts.at(-1)).toBe(T0 + (2 * COLUMN_PAGE_BARS - 1) * MINUTE)
          }),
        // A hundred thousand bars seeded, paged as JSON and compared value by value: 11–14 s
        // alone, past 30 s beside the rest of the suite.
        90_000
      )

      it.effect(
        "reads a range longer than one COPY's slice: every bar once, in order, the end exclusive",
        () =>
          Effect.gen(function* () {
            // Runs of bars more than a COPY slice apart, one run across a slice boundary.
            const far = COPY_SLICE_BARS * MINUTE
            const rows = [0, far - 3 * MINUTE, 1.5 * far, 4 * far].flatMap((offset, k) =>
              bars("FAR", 7 + k, { start: T0 + offset })
            )
            yield* seed("historical", rows)
            const json = yield* allPages({ ...series, symbol: "FAR", limit: "100000" })
            expect(json.bars.length).toBe(rows.length)
            const all = yield* columnsOf({ ...series, symbol: "FAR" })
            expect(all.columns).toEqual(fromPoints(json.bars))
            const to = T0 + 1.5 * far + 2 * MINUTE
            const part = yield* columnsOf({
              ...series,
              symbol: "FAR",
              from: iso(T0 + MINUTE),
              to: String(to)
            })
            expect(part.columns).toEqual(
              fromPoints(json.bars.filter((b) => Date.parse(b.ts) >= T0 + MINUTE && Date.parse(b.ts) < to))
            )
            expect(part.columns.ts.length).toBe(6 + 8 + 2)
          })
      )

      it.effect(
        "reads slices in order: a full first page, a slice denser than a page, sparse bars far apart",
        () =>
          Effect.gen(function* () {
            const firstPage = bars("MIXED", COLUMN_PAGE_BARS)
            const denseStart = T0 + COLUMN_PAGE_BARS * MINUTE
            // Closer than their timeframe: one slice holds more than a page of them.
            const dense = bars("MIXED", COLUMN_PAGE_BARS + 7, { start: denseStart, step: 1_000 })
            const sparseStart = denseStart + (COLUMN_PAGE_BARS + 7) * 1_000
            const sparse = bars("MIXED", 5, { start: sparseStart, step: 3 * COLUMN_PAGE_BARS * MINUTE })
            yield* seed("historical", [...firstPage, ...dense, ...sparse])
            const json = yield* allPages({ ...series, symbol: "MIXED", limit: "100000" })
            const answer = yield* columnsOf({ ...series, symbol: "MIXED" })
            expect(answer.columns.ts.length).toBe(2 * COLUMN_PAGE_BARS + 12)
            expect(answer.columns).toEqual(fromPoints(json.bars))
            // The range's end inside the sparse part: the slices stop there.
            const cut = sparseStart + 2 * 3 * COLUMN_PAGE_BARS * MINUTE
            const upTo = yield* columnsOf({ ...series, symbol: "MIXED", to: String(cut) })
            expect(upTo.columns.ts.length).toBe(2 * COLUMN_PAGE_BARS + 7 + 2)
            expect(upTo.columns.ts.at(-1)).toBe(cut - 3 * COLUMN_PAGE_BARS * MINUTE)
          })
      )

      it.effect("is exactly the golden format for a small series, from inclusive and to exclusive", () =>
        Effect.gen(function* () {
          const rows = bars("SMALL", 10)
          yield* seed("historical", rows)
          const answer = yield* columnsOf({
            ...series,
            symbol: "SMALL",
            from: iso(T0 + 2 * MINUTE),
            to: iso(T0 + 5 * MINUTE)
          })
          const kept = rows.slice(2, 5)
          const expected: BarColumns = {
            ts: Float64Array.from(kept, (r) => r.ts),
            open: Float64Array.from(kept, (r) => r.open),
            high: Float64Array.from(kept, (r) => r.high),
            low: Float64Array.from(kept, (r) => r.low),
            close: Float64Array.from(kept, (r) => r.close),
            volume: Float64Array.from(kept, (r) => r.volume)
          }
          expect(answer.bytes).toEqual(encodeBarColumns(expected))
        })
      )

      it.effect("answers no bars for an empty range of a known series, and all of them for the widest", () =>
        Effect.gen(function* () {
          yield* seed("historical", bars("EDGE", 5))
          const empty = yield* columnsOf({ ...series, symbol: "EDGE", from: iso(T0 - MINUTE), to: iso(T0) })
          expect(empty.status).toBe(200)
          expect(empty.columns.ts.length).toBe(0)
          const same = yield* columnsOf({ ...series, symbol: "EDGE", from: iso(T0), to: iso(T0) })
          expect(same.columns.ts.length).toBe(0)
          const widest = yield* columnsOf({
            ...series,
            symbol: "EDGE",
            from: "0001-01-01T00:00:00Z",
            to: "9999-12-31T23:59:59Z"
          })
          expect(Array.from(widest.columns.ts)).toEqual([0, 1, 2, 3, 4].map((i) => T0 + i * MINUTE))
          const epochs = yield* columnsOf({
            ...series,
            symbol: "EDGE",
            from: "-8640000000000000",
            to: "8640000000000000"
          })
          expect(epochs.columns.ts.length).toBe(5)
          const open = yield* columnsOf({ ...series, symbol: "EDGE" })
          expect(open.columns.ts.length).toBe(5)
        })
      )

      it.effect("refuses bad parameters with 400 and unknown series with 404, naming the problem", () =>
        Effect.gen(function* () {
          yield* seed("historical", bars("BAD", 2))
          const reversed = yield* failure(
            { ...series, symbol: "BAD", from: iso(T0 + MINUTE), to: iso(T0) },
            PATH
          )
          expect(reversed.status).toBe(400)
          expect(JSON.stringify(reversed.body)).toMatch(/from is after to/)
          for (const params of <ReadonlyArray<Record<string, string>>>[
            { provider: "test", timeframe: "1m" },
            { symbol: "BAD", timeframe: "1m" },
            { ...series, symbol: "BAD", timeframe: "7m" },
            { ...series, symbol: "BAD", from: "yesterday" },
            { ...series, symbol: "BAD", to: "99999999999999999" }
          ]) {
            const refused = yield* failure(params, PATH)
            expect(refused.status, JSON.stringify(params)).toBe(400)
          }
          const provider = yield* failure({ ...series, provider: "nobody", symbol: "BAD" }, PATH)
          expect(provider.status).toBe(404)
          expect(JSON.stringify(provider.body)).toMatch(/unknown provider nobody/)
          const symbol = yield* failure({ ...series, symbol: "NOPE" }, PATH)
          expect(symbol.status).toBe(404)
          expect(JSON.stringify(symbol.body)).toMatch(/unknown symbol NOPE/)
        })
      )

      it.effect("decodes through the derived client into Float64Array columns", () =>
        Effect.gen(function* () {
          const rows = bars("DERIVED", 4)
          yield* seed("historical", rows)
          const client = yield* HttpApiClient.make(DataHubApi)
          const columns = concatBarColumns(
            yield* client.bars.columns({
              urlParams: { provider: ProviderName.make("test"), symbol: "DERIVED", timeframe: "1m" }
            })
          )
          expect(columns.close).toBeInstanceOf(Float64Array)
          expect(Array.from(columns.ts)).toEqual(rows.map((r) => r.ts))
          expect(Array.from(columns.close)).toEqual(rows.map((r) => r.close))
        })
      )
    }
  )
