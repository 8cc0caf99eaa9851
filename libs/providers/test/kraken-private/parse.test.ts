/** Kraken's private REST payloads (shapes of the spot REST spec's examples) parsed and mapped. */
import { readFileSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { type KrakenPair, parseAssetPairs } from "../../src/kraken/parse"
import {
  decimalString,
  isKrakenClientOrderId,
  toAddOrder,
  toBrokerOrder,
  toFill,
  toPositions
} from "../../src/kraken/private/mapping"
import {
  parseAddOrder,
  parseBalance,
  parseCancel,
  parseOrderList,
  parseOrderMap,
  parseTradesHistory
} from "../../src/kraken/private/parse"
import { KrakenSymbols } from "../../src/kraken/symbols"

const result = (name: string): unknown =>
  (
    JSON.parse(readFileSync(new URL(`../fixtures/kraken/${name}`, import.meta.url), "utf8")) as {
      result: unknown
    }
  ).result

const pairs = (() => {
  const parsed = parseAssetPairs(result("rest_asset_pairs.json"))
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.value.flatMap((p) => (p.ok ? [p.value] : []))
})()
const symbols = new KrakenSymbols(pairs)
const xbtusd = pairs.find((p) => p.altname === "XBTUSD") as KrakenPair

/** The entries that parsed, which must be `n`. */
const parsedEntries = <T>(
  rows: ReadonlyArray<{ ok: true; value: T } | { ok: false; error: string }>,
  n: number
) => {
  const values = rows.flatMap((r) => (r.ok ? [r.value] : []))
  if (values.length !== n) throw new Error(`expected ${n} entries to parse, got ${values.length}`)
  return values
}

const okValue = <T>(parsed: { ok: true; value: T } | { ok: false; error: string }): T => {
  if (!parsed.ok) throw new Error(parsed.error)
  return parsed.value
}

describe("private payloads", () => {
  it("parses OpenOrders entry by entry, a broken entry costing only itself", () => {
    const rows = okValue(parseOrderList(result("private_open_orders.json"), "open"))
    expect(rows.map((r) => r.ok)).toEqual([true, true, false])
    expect(rows[0]).toEqual({
      ok: true,
      value: {
        txid: "OQCLML-BW3P3-BUCMWZ",
        clOrdId: "9cc788d8-9c00-4b25-94d3-26d93603948d",
        status: "open",
        pair: "XBTUSD",
        side: "buy",
        ordertype: "limit",
        price: 30010,
        price2: undefined,
        volume: 1.25,
        volumeExecuted: 0.375,
        cost: 11253.7,
        fee: 0,
        averagePrice: 30010,
        opentm: 1688666559.8974,
        closetm: undefined,
        reason: undefined
      }
    })
    expect(okValue(parseOrderList({ closed: {}, count: 0 }, "closed"))).toEqual([])
    expect(parseOrderList({}, "open").ok).toBe(false)
  })

  it("maps orders to the contract: partly filled open, filled stop-limit, cancelled market, foreign types left out", () => {
    const [limit, foreign] = parsedEntries(
      okValue(parseOrderList(result("private_open_orders.json"), "open")),
      2
    )
    if (limit === undefined || foreign === undefined) throw new Error("missing orders")
    expect(toBrokerOrder(limit, symbols)).toEqual({
      orderId: "OQCLML-BW3P3-BUCMWZ",
      clientOrderId: "9cc788d8-9c00-4b25-94d3-26d93603948d",
      symbol: "XBT/USD",
      side: "buy",
      type: "limit",
      limitPrice: 30010,
      quantity: 1.25,
      filledQuantity: 0.375,
      averagePrice: 30010,
      fee: 0,
      status: "open",
      createdAt: 1688666559897
    })
    expect(toBrokerOrder(foreign, symbols)).toBeUndefined()
    const [stopLimit, market] = parsedEntries(okValue(parseOrderMap(result("private_query_orders.json"))), 2)
    if (stopLimit === undefined || market === undefined) throw new Error("missing orders")
    expect(toBrokerOrder(stopLimit, symbols)).toMatchObject({
      type: "stop",
      stopPrice: 27500,
      limitPrice: 27600,
      status: "filled",
      closedAt: 1688665499192
    })
    expect(toBrokerOrder(market, symbols)).toMatchObject({
      type: "market",
      side: "sell",
      status: "canceled",
      reason: "User requested",
      filledQuantity: 0
    })
  })

  it("parses TradesHistory into fills, maker flags kept", () => {
    const page = okValue(parseTradesHistory(result("private_trades_history.json")))
    expect(page.count).toBe(3)
    expect(page.trades.map((t) => t.ok)).toEqual([true, true, false])
    const trade = page.trades[0]
    if (!trade?.ok) throw new Error("first trade did not parse")
    expect(toFill(trade.value, symbols, "9cc788d8-9c00-4b25-94d3-26d93603948d")).toEqual({
      id: "THVRQM-33VKH-UCI7BS",
      orderId: "OQCLML-BW3P3-BUCMWZ",
      clientOrderId: "9cc788d8-9c00-4b25-94d3-26d93603948d",
      symbol: "XBT/USD",
      side: "buy",
      quantity: 0.02,
      price: 30010,
      fee: 0,
      ts: 1688667796880,
      liquidity: "maker"
    })
  })

  it("parses Balance, and positions leave out cash and read-only earn balances", () => {
    const rows = okValue(parseBalance(result("private_balance.json")))
    expect(rows[2]).toEqual({ code: "XXBT", amount: 1011.19088779 })
    expect(toPositions(rows, symbols, "USD")).toEqual([
      { symbol: "EUR/USD", quantity: 504861.8946 },
      { symbol: "XBT/USD", quantity: 1011.19088779 },
      { symbol: "ETH/USD", quantity: 818.55 },
      { symbol: "USDT/USD", quantity: 500000 },
      { symbol: "DOT/USD", quantity: 2.5 }
    ])
    expect(parseBalance({ ZUSD: "lots" }).ok).toBe(false)
  })

  it("parses AddOrder and CancelOrder results", () => {
    expect(okValue(parseAddOrder(result("private_add_order.json")))).toEqual({
      txid: "OUF4EM-FRGI2-MQMWZD",
      description: "buy 2.12340000 XBTUSD @ limit 25000.1"
    })
    expect(parseAddOrder({ descr: { order: "validated only" } }).ok).toBe(false)
    expect(okValue(parseCancel({ count: 1 }))).toEqual({ count: 1, pending: false })
    expect(okValue(parseCancel({ count: 0, pending: true }))).toEqual({ count: 0, pending: true })
  })
})

describe("order requests to AddOrder", () => {
  const request = {
    clientOrderId: "arb-20240509-00010",
    symbol: "XBT/USD",
    side: "buy",
    quantity: 1.25
  } as const
  const deadline = "2024-01-15T12:00:40.000Z"

  it("maps each order type to Kraken's ordertype, price and price2", () => {
    expect(toAddOrder({ ...request, type: "market" }, xbtusd, deadline)).toEqual({
      pair: "XBTUSD",
      type: "buy",
      ordertype: "market",
      volume: "1.25",
      cl_ord_id: "arb-20240509-00010",
      deadline
    })
    expect(toAddOrder({ ...request, type: "limit", limitPrice: 37500 }, xbtusd, deadline)).toMatchObject({
      ordertype: "limit",
      price: "37500"
    })
    expect(toAddOrder({ ...request, type: "stop", stopPrice: 30000 }, xbtusd, deadline)).toMatchObject({
      ordertype: "stop-loss",
      price: "30000"
    })
    expect(
      toAddOrder({ ...request, type: "stop", stopPrice: 30000, limitPrice: 29990.5 }, xbtusd, deadline)
    ).toMatchObject({ ordertype: "stop-loss-limit", price: "30000", price2: "29990.5" })
  })

  it("writes numbers as plain decimals, never rounded, never in exponent form", () => {
    expect(decimalString(1.25)).toBe("1.25")
    expect(decimalString(0.00000012)).toBe("0.00000012")
    expect(decimalString(60000.123456789)).toBe("60000.123456789")
    expect(decimalString(1e21)).toBe("1000000000000000000000")
    expect(decimalString(3e-7)).toBe("0.0000003")
    expect(decimalString(1.2345e-7)).toBe("0.00000012345")
  })

  it("accepts Kraken's three client order id formats only", () => {
    expect(isKrakenClientOrderId("6d1b345e-2821-40e2-ad83-4ecb18a06876")).toBe(true)
    expect(isKrakenClientOrderId("da8e4ad59b78481c93e589746b0cf91f")).toBe(true)
    expect(isKrakenClientOrderId("arb-20240509-00010")).toBe(true)
    expect(isKrakenClientOrderId("arb-20240509-000100")).toBe(false)
    expect(isKrakenClientOrderId("")).toBe(false)
    expect(isKrakenClientOrderId("ünïcode")).toBe(false)
  })
})
