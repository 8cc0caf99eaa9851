/**
 * The `/live` bar frame is written out by hand for speed; it must be, byte for byte, what the
 * domain's `LiveServerMessage` schema encodes to, for every shape of bar.
 */
import { LiveServerMessage } from "@quasar/domain"
import type { ProviderBar } from "@quasar/providers/sdk"
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import { barFrame } from "../../src/live/barFrame"
import { type LiveUpdate, seriesKey } from "../../src/live/LiveHub"

const encode = Schema.encodeSync(LiveServerMessage)
const decode = Schema.decodeUnknownSync(Schema.parseJson(LiveServerMessage))

const update = (bar: ProviderBar, closed: boolean, symbol = "BTC/USD"): LiveUpdate => ({
  key: seriesKey({ provider: "kraken", symbol, timeframe: "1m" }),
  provider: "kraken",
  symbol,
  timeframe: "1m",
  bar,
  closed
})

const bars: ReadonlyArray<ProviderBar> = [
  { ts: Date.UTC(2024, 0, 2, 3, 4), open: 1, high: 2, low: 0.5, close: 1.5, volume: 10 },
  {
    ts: Date.UTC(2024, 0, 2, 3, 5),
    open: 1,
    high: 2,
    low: 0.5,
    close: 1.5,
    volume: 0,
    vwap: 1.25,
    trades: 7
  },
  { ts: Date.UTC(1999, 11, 31, 23, 59), open: -3, high: -1, low: -5, close: -2, volume: 1e-9, trades: 0 },
  { ts: Date.UTC(2024, 5, 1), open: 1e21, high: 2e21, low: 5e20, close: 1.5e21, volume: 123456789.123456 },
  { ts: Date.UTC(2024, 5, 1, 0, 1), open: 0.1 + 0.2, high: 1, low: 0, close: 0, volume: 5e-324, vwap: 0 }
]

describe("the /live bar frame", () => {
  it.each(bars.flatMap((bar) => [[bar, true] as const, [bar, false] as const]))(
    "is the schema's encoding of %o (closed %s)",
    (bar, closed) => {
      const u = update(bar, closed, closed ? "ETH/USD" : 'Q"UOTE\\D')
      const text = barFrame(u)
      const message = decode(text)
      expect(text).toBe(JSON.stringify(encode(message)))
      expect(message).toEqual({
        _tag: "bar",
        provider: "kraken",
        symbol: u.symbol,
        timeframe: "1m",
        bar: {
          ts: new Date(bar.ts).toISOString(),
          open: bar.open,
          high: bar.high,
          low: bar.low,
          close: bar.close,
          volume: bar.volume,
          vwap: bar.vwap ?? null,
          trades: bar.trades ?? null
        },
        closed
      })
    }
  )
})
