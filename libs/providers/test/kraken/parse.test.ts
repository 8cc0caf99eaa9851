import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import {
  classifyErrors,
  type Parsed,
  parseAssetPairs,
  parseEnvelope,
  parseJson,
  parseOhlcResult,
  parseRfc3339,
  parseWsFrame,
  type WsFrame
} from "../../src/kraken/parse"

const fixture = (name: string): string =>
  readFileSync(new URL(`../fixtures/kraken/${name}`, import.meta.url), "utf8").trim()

const value = <T>(parsed: Parsed<T>): T => {
  if (!parsed.ok) throw new Error(`expected a parse, got: ${parsed.error}`)
  return parsed.value
}

const frame = (name: string): WsFrame => value(parseWsFrame(fixture(name)))

/** REST result of a fixture, through the envelope parser. */
const restResult = (name: string): unknown => value(parseEnvelope(value(parseJson(fixture(name))))).result

describe("RFC 3339 timestamps", () => {
  it("keeps nanosecond interval_begin exact to the millisecond", () => {
    expect(parseRfc3339("2023-10-04T16:25:00.000000000Z")).toBe(Date.UTC(2023, 9, 4, 16, 25))
    expect(parseRfc3339("2023-10-04T16:26:01.806315597Z")).toBe(Date.UTC(2023, 9, 4, 16, 26, 1, 806))
    expect(parseRfc3339("2023-09-25T09:04:31Z")).toBe(Date.UTC(2023, 8, 25, 9, 4, 31))
    expect(parseRfc3339("2023-10-04T18:25:00.5+02:00")).toBe(Date.UTC(2023, 9, 4, 16, 25, 0, 500))
  })

  it("rejects what is not a real instant", () => {
    for (const bad of [
      "2023-02-30T00:00:00Z",
      "2023-10-04 16:25:00Z",
      "yesterday",
      "2023-10-04T24:00:00Z",
      ""
    ])
      expect(parseRfc3339(bad)).toBeUndefined()
  })
})

describe("WS v2 frames", () => {
  it("status, heartbeat, pong", () => {
    expect(frame("ws_status.json")).toEqual({ kind: "status", system: "online", connectionId: 123456789 })
    expect(frame("ws_heartbeat.json")).toEqual({ kind: "heartbeat" })
    expect(frame("ws_pong.json")).toEqual({ kind: "pong", reqId: 101 })
  })

  it("per-symbol acks: success with warnings, failure with the error text", () => {
    expect(frame("ws_subscribe_ack.json")).toEqual({
      kind: "subscribed",
      channel: "ohlc",
      symbol: "BTC/USD",
      warnings: ["timestamp is deprecated, use interval_begin"]
    })
    expect(frame("ws_subscribe_error.json")).toEqual({
      kind: "subscribeFailed",
      symbol: "XBT/USD",
      error: "Currency pair not supported XBT/USD"
    })
    expect(frame("ws_error_malformed_request.json")).toEqual({ kind: "error", error: "Malformed request" })
    expect(value(parseWsFrame('{"Error":"Exceeded msg rate"}'))).toEqual({
      kind: "error",
      error: "Exceeded msg rate"
    })
  })

  it("ohlc update: JSON floats and a nanosecond interval_begin", () => {
    const update = frame("ws_ohlc_update.json")
    if (update.kind !== "ohlc") throw new Error(update.kind)
    expect(update.type).toBe("update")
    expect(update.entries.map(value)).toEqual([
      {
        symbol: "BTC/USD",
        interval: 1,
        bar: {
          ts: Date.UTC(2023, 9, 4, 16, 25),
          open: 106038.2,
          high: 106044.3,
          low: 106038.1,
          close: 106040.1,
          volume: 30927.68066226,
          vwap: 106039.6,
          trades: 12
        }
      }
    ])
  })

  it("ohlc snapshot: every entry, several symbols", () => {
    const snapshot = frame("ws_ohlc_snapshot.json")
    if (snapshot.kind !== "ohlc") throw new Error(snapshot.kind)
    const entries = snapshot.entries.map(value)
    expect(snapshot.type).toBe("snapshot")
    expect(entries.map((e) => [e.symbol, e.interval, e.bar.ts])).toEqual([
      ["ALGO/USD", 5, Date.UTC(2023, 9, 4, 15, 25)],
      ["ALGO/USD", 5, Date.UTC(2023, 9, 4, 15, 30)],
      ["MATIC/USD", 5, Date.UTC(2023, 9, 4, 16, 25)]
    ])
    expect(entries[0]?.bar).toMatchObject({ open: 0.09875, volume: 201.86015, trades: 1 })
  })

  it("numbers as strings are accepted, broken entries fail alone, garbage fails whole", () => {
    const mixed = value(
      parseWsFrame(
        JSON.stringify({
          channel: "ohlc",
          type: "update",
          data: [
            {
              symbol: "BTC/USD",
              interval: 1,
              interval_begin: "2023-10-04T16:25:00.000000000Z",
              open: "1.5",
              high: 2,
              low: 1,
              close: 1.8,
              volume: "3",
              trades: 1
            },
            {
              symbol: "BTC/USD",
              interval: 1,
              interval_begin: "not a time",
              open: 1,
              high: 1,
              low: 1,
              close: 1,
              volume: 1
            }
          ]
        })
      )
    )
    if (mixed.kind !== "ohlc") throw new Error(mixed.kind)
    expect(mixed.entries[0]).toMatchObject({ ok: true, value: { bar: { open: 1.5, volume: 3 } } })
    expect(mixed.entries[1]?.ok).toBe(false)
    for (const bad of [
      "}{",
      "[]",
      '{"foo":1}',
      '{"channel":"ohlc","type":"update","data":{}}',
      '{"channel":"status"}'
    ])
      expect(parseWsFrame(bad).ok).toBe(false)
    expect(value(parseWsFrame('{"channel":"ticker","type":"update","data":[]}'))).toEqual({
      kind: "other",
      what: "channel ticker"
    })
  })
})

describe("REST OHLC", () => {
  it("takes the one key that is not `last`, parses string decimals, keeps the unfinished row last", () => {
    const result = value(parseOhlcResult(restResult("rest_ohlc.json")))
    expect(result.pairKey).toBe("XXBTZUSD")
    expect(result.last).toBe(1696436760)
    const rows = result.rows.map(value)
    expect(rows).toHaveLength(4)
    expect(rows[0]).toEqual({
      ts: 1696436640_000,
      open: 27390.1,
      high: 27395,
      low: 27388.2,
      close: 27391.4,
      vwap: 27392.7,
      volume: 1.52313087,
      trades: 23
    })
    // No-trade row: flat at the previous close, vwap "0.0" is not a price and is dropped.
    expect(rows[1]).toEqual({
      ts: 1696436700_000,
      open: 27391.4,
      high: 27391.4,
      low: 27391.4,
      close: 27391.4,
      volume: 0,
      trades: 0
    })
  })

  it("finds the canonical key whatever its position and spelling", () => {
    const result = value(parseOhlcResult(restResult("rest_ohlc_xbtusdt.json")))
    expect(result.pairKey).toBe("XBTUSDT")
    expect(result.rows).toHaveLength(2)
  })

  it("fails a malformed row alone and a malformed result as a whole", () => {
    const result = value(parseOhlcResult(restResult("rest_ohlc_malformed_row.json")))
    expect(result.rows.map((r) => r.ok)).toEqual([true, false, true])
    expect(parseOhlcResult({ last: 1 }).ok).toBe(false)
    expect(parseOhlcResult({ A: [], B: [], last: 1 }).ok).toBe(false)
    expect(parseOhlcResult({ A: "rows", last: 1 }).ok).toBe(false)
    expect(parseOhlcResult(null).ok).toBe(false)
  })
})

describe("REST errors", () => {
  it("the envelope carries errors with HTTP 200", () => {
    expect(value(parseEnvelope(value(parseJson(fixture("rest_error_unknown_pair.json")))))).toEqual({
      errors: ["EQuery:Unknown asset pair"],
      result: undefined
    })
    expect(parseEnvelope({ result: {} }).ok).toBe(false)
    expect(parseEnvelope({ error: [] }).ok).toBe(false)
  })

  it("classifies retryable and fatal errors, with the throttle deadline", () => {
    const now = 1696436640_000
    for (const e of [
      "EAPI:Rate limit exceeded",
      "EService:Unavailable",
      "EService:Busy",
      "EGeneral:Too many requests"
    ])
      expect(classifyErrors([e], now)).toEqual({ kind: "retryable", message: e })
    for (const e of [
      "EQuery:Unknown asset pair",
      "EGeneral:Invalid arguments",
      "EGeneral:Invalid arguments:interval"
    ])
      expect(classifyErrors([e], now).kind).toBe("fatal")
    const throttled = value(parseEnvelope(value(parseJson(fixture("rest_error_throttled.json"))))).errors
    expect(classifyErrors(throttled, now)).toEqual({
      kind: "retryable",
      message: throttled[0],
      retryAfterMs: 60_000
    })
  })
})

describe("REST AssetPairs", () => {
  it("parses rows one by one; a broken row fails alone", () => {
    const rows = value(parseAssetPairs(restResult("rest_asset_pairs.json")))
    expect(rows.map((r) => r.ok)).toEqual([true, true, true, true, true, true, true, false])
    expect(rows[0]).toEqual({
      ok: true,
      value: {
        restPair: "XXBTZUSD",
        altname: "XBTUSD",
        wsname: "XBT/USD",
        base: "XXBT",
        quote: "ZUSD",
        status: "online"
      }
    })
    expect(rows[4]).toMatchObject({ ok: true, value: { restPair: "SOLUSD", status: undefined } })
    expect(rows[6]).toMatchObject({ ok: true, value: { restPair: "RENDERUSD", wsname: undefined } })
  })
})
