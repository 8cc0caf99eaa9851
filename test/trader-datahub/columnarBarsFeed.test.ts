/**
 * Trader's columnar bars feed against a real DataHub on a fresh database: the bars it loads are
 * the stored ones, in columns; an unknown series has none; a refused range is the caller's
 * InvalidRequest; a DataHub that cannot be reached is ServiceUnavailable.
 */
import { HttpServer } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { BAR_COLUMN_NAMES, barCount, concatBarColumns, ProviderName } from "@quasar/domain"
import { SchemaState, ServiceConfig } from "@quasar/server"
import { TestService } from "@quasar/server/testing"
import { Effect, Layer } from "effect"
import { BarWriter } from "../../apps/datahub/src/store/BarWriter"
import { DataHubAlone } from "../../apps/datahub/src/testing/DataHubAlone"
import { BarsFeed, type BarsRange } from "../../apps/trader/src/bars/BarsFeed"
import * as ColumnarBarsFeed from "../../apps/trader/src/bars/ColumnarBarsFeed"
import { DataHubClient } from "../../apps/trader/src/clients/DataHubClient"

const MINUTE = 60_000
const T0 = Date.UTC(2024, 0, 1)
const provider = ProviderName.make("test")

/** The feed as Trader wires it (its DataHub client from DATAHUB_URL), pointed at `datahubUrl`. */
const feedAt = (datahubUrl: string) =>
  ColumnarBarsFeed.layer.pipe(
    Layer.provide(DataHubClient.layer),
    Layer.provide(ServiceConfig.layer(TestService.testConfig({ datahubUrl })))
  )

const load = (datahubUrl: string, range: Omit<BarsRange, "provider" | "timeframe">) =>
  Effect.flatMap(BarsFeed, (feed) => feed.load({ provider, timeframe: "1m", ...range })).pipe(
    Effect.provide(feedAt(datahubUrl))
  )

const dataHubUrl = Effect.map(HttpServer.HttpServer, ({ address }) =>
  address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
)

layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })(
  "ColumnarBarsFeed",
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
