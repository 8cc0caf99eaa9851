import { HttpApiClient } from "@effect/platform"
import { expect, layer } from "@effect/vitest"
import { DataHubApi } from "@quasar/domain"
import { TestService } from "@quasar/server/testing"
import { DateTime, Effect } from "effect"
import { DataHubAlone } from "../../src/testing/DataHubAlone"
import { failure, iso, point, ready, seed, series } from "./http"
import { bars, MINUTE, T0 } from "./support"

layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })(
  "GET /bars errors",
  (it) => {
    it.effect("answers 400 naming the problem for inconsistent parameters", () =>
      Effect.gen(function* () {
        yield* ready
        const cases: ReadonlyArray<[Record<string, string>, string, RegExp]> = [
          [{ ...series, symbol: "RANGE", from: iso(T0 + MINUTE), to: iso(T0) }, "from", /from is after to/],
          [
            { provider: "test", timeframe: "1h", symbol: "RANGE", resample: "1m" },
            "resample",
            /not a larger whole multiple/
          ],
          [
            { provider: "test", timeframe: "1h", symbol: "RANGE", resample: "1h" },
            "resample",
            /not a larger whole multiple/
          ],
          [{ timeframe: "1m" }, "symbol", /provider and symbol, or commonSymbol/],
          [{ ...series, symbol: "RANGE", commonSymbol: "BTC-USD" }, "commonSymbol", /not both/],
          [{ timeframe: "1m", symbol: "RANGE" }, "provider", /symbol needs provider/],
          [{ ...series, symbol: "RANGE", cursor: "bm90LWEtY3Vyc29y" }, "cursor", /nextCursor unchanged/],
          // A well-formed cursor beyond any instant a Date can hold.
          [
            { ...series, symbol: "RANGE", cursor: Buffer.from("t9999999999999999").toString("base64url") },
            "cursor",
            /nextCursor unchanged/
          ]
        ]
        for (const [params, field, message] of cases) {
          const res = yield* failure(params)
          expect(res, JSON.stringify(params)).toMatchObject({
            status: 400,
            body: { _tag: "InvalidRequest", field, message: expect.stringMatching(message) }
          })
        }
        expect((yield* failure({ ...series, symbol: "RANGE", limit: "100001" })).status).toBe(400)
        expect((yield* failure({ ...series, symbol: "RANGE", timeframe: "2m" })).status).toBe(400)
      })
    )

    it.effect("answers 404 with a message for unknown providers, symbols and mappings", () =>
      Effect.gen(function* () {
        // Bars of another symbol make the provider known.
        yield* seed("historical", bars("KNOWN", 1))
        const cases: ReadonlyArray<[Record<string, string>, RegExp]> = [
          [{ provider: "nosuch", symbol: "X", timeframe: "1m" }, /unknown provider nosuch/],
          [{ provider: "test", symbol: "NOPE", timeframe: "1m" }, /unknown symbol NOPE at test/],
          [
            { commonSymbol: "NOPE-USD", timeframe: "1m" },
            /no provider symbol is mapped to common symbol NOPE-USD/
          ],
          [{ provider: "test", symbol: "NOPE", timeframe: "1m", format: "csv" }, /unknown symbol NOPE/]
        ]
        for (const [params, message] of cases) {
          expect(yield* failure(params)).toMatchObject({
            status: 404,
            body: { _tag: "NotFound", message: expect.stringMatching(message) }
          })
        }
        expect(
          yield* failure({ provider: "test", symbol: "NOPE", timeframe: "1m" }, "/bars/latest")
        ).toMatchObject({
          status: 404,
          body: { _tag: "NotFound", message: expect.stringContaining("no bars stored for test NOPE 1m") }
        })
      })
    )
  }
)

layer(TestService.layer(DataHubAlone), { timeout: 120_000, excludeTestServices: true })(
  "GET /bars/latest",
  (it) => {
    it.effect("is the forming bar when it is newer, else the last closed bar", () =>
      Effect.gen(function* () {
        yield* ready
        const client = yield* HttpApiClient.make(DataHubApi)
        const latest = () =>
          client.bars.latest({ urlParams: { provider: "test" as never, symbol: "LAST", timeframe: "1m" } })
        const closed = bars("LAST", 10)
        yield* seed("historical", closed)
        expect(yield* latest()).toEqual(point(closed.at(-1)!))
        // A stale forming row of an already-closed bar loses to the closed one.
        yield* seed("live", [{ ...closed.at(-1)!, close: 1 }])
        expect(yield* latest()).toEqual(point(closed.at(-1)!))
        const forming = {
          ...closed.at(-1)!,
          ts: closed.at(-1)!.ts + MINUTE,
          close: 7,
          vwap: null,
          trades: null
        }
        yield* seed("live", [forming])
        expect(yield* latest()).toEqual(point(forming))
        expect(DateTime.unsafeMake((yield* latest()).ts).epochMillis).toBe(forming.ts)
      })
    )
  }
)
