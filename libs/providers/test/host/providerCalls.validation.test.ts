import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Exit, Stream } from "effect"
import { history, listAssets, live } from "../../src/host/providerCalls"
import type { LiveEvent } from "../../src/sdk/types"
import { bar, contextFor, fakeProvider, MINUTE, NOW } from "./fakes"

const request = { symbol: "X", timeframe: "1m" as const, from: NOW - 10 * MINUTE, to: NOW }

const collect = <A, E>(stream: Stream.Stream<A, E>) => Effect.map(Stream.runCollect(stream), Chunk.toArray)

describe("ProviderRunner.history", () => {
  it.effect("rejects and counts unsound bars, passing only sound ones", () =>
    Effect.gen(function* () {
      const provider = fakeProvider({
        history: async function* () {
          yield {
            bars: [
              bar(NOW - 10 * MINUTE),
              bar(NOW - 9 * MINUTE, { close: Number.NaN }),
              bar(NOW - 8 * MINUTE, { high: 8, low: 9 }),
              bar(NOW - 7 * MINUTE, { open: 13 }),
              bar(NOW - 6 * MINUTE + 1),
              bar(NOW - 5 * MINUTE, { volume: -1 }),
              bar(NOW - 4 * MINUTE)
            ]
          }
          // Misaligned, in the future, and still forming at NOW.
          yield { bars: [bar(NOW + 5 * MINUTE), bar(NOW), bar(NOW - 3 * MINUTE)] }
        }
      })
      const chunks = yield* collect(
        history(provider, contextFor(provider), { ...request, to: NOW + 10 * MINUTE })
      )
      expect(chunks.flatMap((c) => c.bars.map((b) => b.ts))).toEqual([
        NOW - 10 * MINUTE,
        NOW - 4 * MINUTE,
        NOW - 3 * MINUTE
      ])
      const reasons = chunks.flatMap((c) => c.rejected.map((r) => r.reason))
      expect(reasons).toHaveLength(7)
      expect(reasons[0]).toMatch(/not a finite number/)
      expect(reasons[1]).toMatch(/high 8 is below low 9/)
      expect(reasons[2]).toMatch(/open 13 is outside/)
      expect(reasons[3]).toMatch(/not aligned to 1m/)
      expect(reasons[4]).toMatch(/negative/)
      expect(reasons[5]).toMatch(/in the future/)
      expect(reasons[6]).toMatch(/not closed yet/)
      expect(chunks[0]?.rejected[0]?.bar).toMatchObject({ ts: NOW - 9 * MINUTE })
    })
  )

  it.effect("drops bars outside [from, to), duplicates on page boundaries and out-of-order bars", () =>
    Effect.gen(function* () {
      const provider = fakeProvider({
        history: async function* () {
          yield { bars: [bar(NOW - 11 * MINUTE), bar(NOW - 10 * MINUTE), bar(NOW - 9 * MINUTE)] }
          yield { bars: [bar(NOW - 9 * MINUTE), bar(NOW - 8 * MINUTE), bar(NOW - 10 * MINUTE)] }
          yield { bars: [bar(NOW - 7 * MINUTE), bar(NOW - 6 * MINUTE)] }
        }
      })
      const chunks = yield* collect(
        history(provider, contextFor(provider), { ...request, to: NOW - 6 * MINUTE })
      )
      expect(chunks).toHaveLength(3)
      expect(chunks.flatMap((c) => c.bars.map((b) => (NOW - b.ts) / MINUTE))).toEqual([10, 9, 8, 7])
      expect(chunks.flatMap((c) => c.rejected.map((r) => r.reason))).toEqual([
        "outside the requested range",
        "duplicate bar",
        "out of order",
        "outside the requested range"
      ])
    })
  )

  it.effect("reports shapes that are not bars, and fails on a page without a bars array", () =>
    Effect.gen(function* () {
      const provider = fakeProvider({
        history: async function* () {
          yield { bars: [{ ts: NOW - 2 * MINUTE, open: "1" } as never] }
          yield { rows: [] } as never
        }
      })
      const exit = yield* Effect.exit(collect(history(provider, contextFor(provider), request)))
      expect(exit).toMatchObject({ _tag: "Failure" })
      const first = yield* collect(history(provider, contextFor(provider), request).pipe(Stream.take(1)))
      expect(first[0]?.rejected[0]?.reason).toMatch(/^not a bar: /)
      if (Exit.isFailure(exit)) expect(String(exit.cause)).toMatch(/provider bug: history page has no bars/)
    })
  )
})

describe("ProviderRunner.live", () => {
  it.effect("passes sound events once and drops future, duplicate, stale and unrequested ones", () =>
    Effect.gen(function* () {
      const events: Array<unknown> = [
        { type: "subscribed", symbol: "X" },
        { type: "bar", symbol: "X", bar: bar(NOW), closed: false },
        { type: "bar", symbol: "X", bar: bar(NOW + MINUTE), closed: false },
        { type: "bar", symbol: "X", bar: bar(NOW - MINUTE), closed: true },
        { type: "bar", symbol: "X", bar: bar(NOW - MINUTE), closed: true },
        { type: "bar", symbol: "X", bar: bar(NOW - MINUTE), closed: false },
        { type: "bar", symbol: "Y", bar: bar(NOW), closed: false },
        { type: "bar", symbol: "X", bar: bar(NOW, { low: Number.NaN }), closed: false },
        { type: "nonsense" },
        { type: "heartbeat" }
      ]
      const provider = fakeProvider({
        live: async function* () {
          for (const e of events) yield e as LiveEvent
        }
      })
      const out = yield* collect(live(provider, contextFor(provider), { symbols: ["X"], timeframe: "1m" }))
      expect(out).toEqual([events[0], events[1], events[3], events[9]])
    })
  )

  it.effect("passes a revision of the last closed bar (other values), not the same values again", () =>
    Effect.gen(function* () {
      // A provider that closes bars on a timer (Kraken) closes one again when the exchange's
      // final update arrives late: the final values are the ones to store.
      const guess = bar(NOW - MINUTE)
      const final = { ...guess, close: guess.close + 1, high: guess.high + 1, volume: guess.volume + 2 }
      const events: Array<unknown> = [
        { type: "bar", symbol: "X", bar: guess, closed: true },
        { type: "bar", symbol: "X", bar: final, closed: true },
        { type: "bar", symbol: "X", bar: final, closed: true },
        { type: "bar", symbol: "X", bar: guess, closed: false },
        { type: "bar", symbol: "X", bar: bar(NOW), closed: false }
      ]
      const provider = fakeProvider({
        live: async function* () {
          for (const e of events) yield e as LiveEvent
        }
      })
      const out = yield* collect(live(provider, contextFor(provider), { symbols: ["X"], timeframe: "1m" }))
      expect(out).toEqual([events[0], events[1], events[4]])
    })
  )

  it.effect("fails fatally for a provider without a live feed", () =>
    Effect.gen(function* () {
      const provider = fakeProvider()
      const error = yield* Effect.flip(
        Stream.runDrain(live(provider, contextFor(provider), { symbols: ["X"], timeframe: "1m" }))
      )
      expect(error._tag).toBe("ProviderFatalError")
    })
  )
})

describe("ProviderRunner.listAssets", () => {
  it.effect("skips and counts invalid and duplicate assets", () =>
    Effect.gen(function* () {
      const provider = fakeProvider({
        listAssets: async () => [
          { symbol: "BTC/USD", assetClass: "crypto", base: "BTC", quote: "USD", name: null } as never,
          { symbol: "has space" },
          { symbol: "AAPL.US", assetClass: "stock" } as never,
          { name: "no symbol" } as never,
          { symbol: "BTC/USD" },
          { symbol: "ETH/USD", extra: { altname: "XETHZUSD", lot: 1, margin: null } }
        ]
      })
      const listing = yield* listAssets(provider, contextFor(provider))
      expect(listing.assets.map((a) => a.symbol)).toEqual(["BTC/USD", "ETH/USD"])
      expect(listing.assets[0]).toEqual({
        symbol: "BTC/USD",
        assetClass: "crypto",
        base: "BTC",
        quote: "USD"
      })
      expect(listing.rejected.map((r) => r.reason)).toEqual([
        expect.stringMatching(/^symbol: /),
        expect.stringMatching(/^assetClass: /),
        expect.stringMatching(/^symbol: /),
        "duplicate symbol BTC/USD"
      ])
    })
  )
})
