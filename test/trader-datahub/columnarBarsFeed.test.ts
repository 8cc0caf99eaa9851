/**
 * Trader's columnar bars feed against a real DataHub on a fresh database: the bars it loads, and
 * the bytes it streams, are the stored ones, in columns; it finds a range's first bar; an unknown
 * series has none; an answer cut short fails the stream; a refused range is the caller's
 * InvalidRequest; a DataHub that cannot be reached is ServiceUnavailable. Over both HTTP clients
 * Trader runs with: fetch, and Node's undici client.
 */

import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import { FetchHttpClient, type HttpClient, HttpServer } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { expect, layer } from "@effect/vitest"
import {
  BAR_COLUMN_NAMES,
  barCount,
  concatBarColumns,
  decodeBarColumnBlocks,
  encodeBarColumns,
  ProviderName
} from "@quasar/domain"
import { SchemaState, ServiceConfig } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { Chunk, Effect, Either, Layer, Option, Stream } from "effect"
import { BarWriter } from "../../apps/datahub/src/store/BarWriter"
import { DataHubAlone } from "../../apps/datahub/src/testing/DataHubAlone"
import { BarsFeed, type BarsRange } from "../../apps/trader/src/bars/BarsFeed"
import * as ColumnarBarsFeed from "../../apps/trader/src/bars/ColumnarBarsFeed"
import { DataHubClient } from "../../apps/trader/src/clients/DataHubClient"

const MINUTE = 60_000
const T0 = Date.UTC(2024, 0, 1)
const provider = ProviderName.make("test")

/** A server on loopback that answers every request with `body` as bar columns, then closes. */
const answering = (body: Uint8Array) =>
  Effect.acquireRelease(
    Effect.async<Server>((resume) => {
      const server = createServer((_, res) => {
        res.writeHead(200, { "content-type": "application/octet-stream" })
        res.end(body)
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`))

const dataHubUrl = Effect.map(HttpServer.HttpServer, ({ address }) =>
  address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
)

/** Every test runs over fetch (the default) and over Node's undici client (what main.ts gives). */
const suite = (name: string, client: Layer.Layer<HttpClient.HttpClient>) => {
  /** The feed as Trader wires it (its DataHub client from DATAHUB_URL), pointed at `datahubUrl`. */
  const feedAt = (datahubUrl: string) =>
    ColumnarBarsFeed.layerWithClient.pipe(
      Layer.provide(client),
      Layer.provide(DataHubClient.layer),
      Layer.provide(ServiceConfig.layer(TestService.testConfig({ datahubUrl })))
    )

  const load = (datahubUrl: string, range: Omit<BarsRange, "provider" | "timeframe">) =>
    Effect.flatMap(BarsFeed, (feed) => feed.load({ provider, timeframe: "1m", ...range })).pipe(
      Effect.provide(feedAt(datahubUrl))
    )

  const stream = (datahubUrl: string, range: Omit<BarsRange, "provider" | "timeframe">) =>
    Effect.flatMap(BarsFeed, (feed) =>
      Stream.runCollect(feed.stream({ provider, timeframe: "1m", ...range })).pipe(
        Effect.map((chunks) => {
          const parts = Chunk.toArray(chunks)
          const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
          let at = 0
          for (const part of parts) {
            bytes.set(part, at)
            at += part.length
          }
          return {
            chunks: parts.length,
            columns: concatBarColumns(Either.getOrThrow(decodeBarColumnBlocks(bytes)))
          }
        })
      )
    ).pipe(Effect.provide(feedAt(datahubUrl)))

  const first = (datahubUrl: string, range: Omit<BarsRange, "provider" | "timeframe">) =>
    Effect.flatMap(BarsFeed, (feed) => feed.first({ provider, timeframe: "1m", ...range })).pipe(
      Effect.provide(feedAt(datahubUrl))
    )

  layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })(
    `ColumnarBarsFeed over ${name}`,
    (it) => {
      it.effect("loads the stored bars of [from, to) as Float64Array columns", () =>
        Effect.gen(function* () {
          yield* Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
          const n = 70_000
          const rows = Array.from({ length: n }, (_, i) => ({
            provider: "test",
            symbol: "FEED",
            timeframe: "1m" as const,
            ts: T0 + i * MINUTE,
            open: 100 + i / 7,
            high: 101 + i / 7,
            low: 99 + i / 7,
            close: 100.5 + i / 7,
            volume: i % 13
          }))
          yield* Effect.flatMap(BarWriter, (w) => w.write("historical", rows))
          const url = yield* dataHubUrl
          const blocks = yield* load(url, { symbol: "FEED", from: T0, to: T0 + n * MINUTE })
          const all = concatBarColumns(blocks)
          expect(all.close).toBeInstanceOf(Float64Array)
          expect(all.ts.length).toBe(n)
          expect(Array.from(all.ts.subarray(0, 3))).toEqual([T0, T0 + MINUTE, T0 + 2 * MINUTE])
          expect(all.open[n - 1]).toBe(rows[n - 1]!.open)
          expect(all.volume[12]).toBe(12)
          // The answer's blocks (more than one here) are decoded as they arrive, each block's
          // columns views into the one buffer its bytes were copied into: no second copy.
          expect(blocks.length).toBeGreaterThan(1)
          for (const block of blocks)
            expect(new Set(BAR_COLUMN_NAMES.map((name) => block[name].buffer)).size).toBe(1)
          expect(new Set(blocks.map((b) => b.ts.buffer)).size).toBe(blocks.length)
          const part = concatBarColumns(
            yield* load(url, { symbol: "FEED", from: T0 + 10 * MINUTE, to: T0 + 20 * MINUTE })
          )
          expect(Array.from(part.close)).toEqual(rows.slice(10, 20).map((r) => r.close))
          const none = yield* load(url, { symbol: "FEED", from: T0 - MINUTE, to: T0 })
          expect(barCount(none)).toBe(0)
        })
      )

      it.effect("streams the answer's bytes as they arrive, and finds a range's first bar", () =>
        Effect.gen(function* () {
          const url = yield* dataHubUrl
          const n = 70_000
          const streamed = yield* stream(url, { symbol: "FEED", from: T0 + 5 * MINUTE, to: T0 + n * MINUTE })
          // 3.4 MB arrive in many chunks, which together are the stored bars.
          expect(streamed.chunks).toBeGreaterThan(1)
          expect(streamed.columns.ts.length).toBe(n - 5)
          expect(streamed.columns.ts[0]).toBe(T0 + 5 * MINUTE)
          expect(streamed.columns.close[0]).toBe(100.5 + 5 / 7)
          const unknown = yield* stream(url, { symbol: "NOWHERE", from: T0, to: T0 + MINUTE })
          expect(unknown.columns.ts.length).toBe(0)

          expect(yield* first(url, { symbol: "FEED", from: T0 - 60 * MINUTE, to: T0 + n * MINUTE })).toEqual(
            Option.some(T0)
          )
          expect(
            yield* first(url, { symbol: "FEED", from: T0 + 99 * MINUTE + 1, to: T0 + n * MINUTE })
          ).toEqual(Option.some(T0 + 100 * MINUTE))
          expect(yield* first(url, { symbol: "FEED", from: T0 - MINUTE, to: T0 })).toEqual(Option.none())
          expect(yield* first(url, { symbol: "NOWHERE", from: T0, to: T0 + MINUTE })).toEqual(Option.none())
        })
      )

      it.scoped("fails a stream whose answer is cut short, rather than end it as though whole", () =>
        Effect.gen(function* () {
          const whole = encodeBarColumns({
            ts: Float64Array.of(T0, T0 + MINUTE),
            open: Float64Array.of(1, 2),
            high: Float64Array.of(1, 2),
            low: Float64Array.of(1, 2),
            close: Float64Array.of(1, 2),
            volume: Float64Array.of(1, 2)
          })
          const url = yield* answering(whole.subarray(0, whole.length - 20))
          const cut = yield* Effect.flip(stream(url, { symbol: "FEED", from: T0, to: T0 + 2 * MINUTE }))
          expect(cut._tag).toBe("ServiceUnavailable")
          expect(cut.message).toMatch(/cut short/)
        })
      )

      it.effect("has no bars for a series DataHub does not know", () =>
        Effect.gen(function* () {
          const url = yield* dataHubUrl
          const unknown = yield* load(url, { symbol: "NOWHERE", from: T0, to: T0 + MINUTE })
          expect(barCount(unknown)).toBe(0)
        })
      )

      it.effect(
        "passes on DataHub's refusal as InvalidRequest and an unreachable DataHub as ServiceUnavailable",
        () =>
          Effect.gen(function* () {
            const url = yield* dataHubUrl
            const refused = yield* Effect.flip(load(url, { symbol: "FEED", from: T0 + MINUTE, to: T0 }))
            expect(refused._tag).toBe("InvalidRequest")
            expect(refused.message).toMatch(/DataHub refused test FEED 1m bars .*from is after to/)
            // Port 9 (discard) on loopback: nothing listens there.
            const down = yield* Effect.flip(
              load("http://127.0.0.1:9", { symbol: "FEED", from: T0, to: T0 + MINUTE })
            )
            expect(down._tag).toBe("ServiceUnavailable")
            expect(down.message).toMatch(/check that DataHub is running/)
          })
      )
    }
  )
}

suite("fetch", FetchHttpClient.layer)
suite("Node's undici client", NodeHttpClient.layerUndici)
