/** The fake Kraken's private API on the wire: authentication, accounts, matching, faults. */
import { beforeEach, describe, expect, it } from "vitest"
import { MINUTE, nonces, openAccount, rawPost, until, useFakeKraken } from "./harness"

const env = useFakeKraken()
let nonce: () => number
beforeEach(() => {
  nonce = nonces()
})

const post = (method: string, params?: Record<string, string>) =>
  rawPost(env.fake, method, { ...env.account, nonce: nonce(), ...(params === undefined ? {} : { params }) })

describe("fake Kraken private API: authentication", () => {
  it("answers a signed Balance with strings at Kraken's precision", async () => {
    const { status, error, result } = await post("Balance")
    expect(status).toBe(200)
    expect(error).toEqual([])
    expect(result).toEqual({ ZUSD: "100000.0000", XXBT: "1.0000000000" })
  })

  it("refuses an unknown key, a wrong secret and a body changed after signing", async () => {
    const other = openAccount(env.fake)
    expect(
      (await rawPost(env.fake, "Balance", { key: "nobody", secret: env.account.secret, nonce: nonce() }))
        .error
    ).toEqual(["EAPI:Invalid key"])
    expect(
      (await rawPost(env.fake, "Balance", { key: env.account.key, secret: other.secret, nonce: nonce() }))
        .error
    ).toEqual(["EAPI:Invalid signature"])
    const n = nonce()
    const tampered = await rawPost(env.fake, "AddOrder", {
      ...env.account,
      nonce: n,
      params: { pair: "XBTUSD", type: "buy", ordertype: "market", volume: "0.01" },
      body: `nonce=${n}&pair=XBTUSD&type=buy&ordertype=market&volume=0.5`
    })
    expect(tampered.error).toEqual(["EAPI:Invalid signature"])
    expect(env.fake.exchange.account(env.account.key).orders).toHaveLength(0)
  })

  it("refuses a nonce not above the last one, and a bad signature does not spend a nonce", async () => {
    expect((await rawPost(env.fake, "Balance", { ...env.account, nonce: 5_000 })).error).toEqual([])
    expect((await rawPost(env.fake, "Balance", { ...env.account, nonce: 5_000 })).error).toEqual([
      "EAPI:Invalid nonce"
    ])
    expect((await rawPost(env.fake, "Balance", { ...env.account, nonce: 4_999 })).error).toEqual([
      "EAPI:Invalid nonce"
    ])
    expect(
      (await rawPost(env.fake, "Balance", { ...env.account, nonce: 6_000, sign: "AAAA" })).error
    ).toEqual(["EAPI:Invalid signature"])
    expect((await rawPost(env.fake, "Balance", { ...env.account, nonce: 6_000 })).error).toEqual([])
    expect(
      (await rawPost(env.fake, "Balance", { ...env.account, nonce: "18446744073709551616" })).error
    ).toEqual(["EAPI:Invalid nonce"])
    expect(
      (await rawPost(env.fake, "Balance", { ...env.account, nonce: "18446744073709551615" })).error
    ).toEqual([])
  })
})

describe("fake Kraken private API: orders", () => {
  it("fills a market buy at the market price with the taker fee, moving exactly that money", async () => {
    const price = env.fake.exchange.price("XBT/USD")
    const { error, result } = await post("AddOrder", {
      pair: "XBTUSD",
      type: "buy",
      ordertype: "market",
      volume: "0.5",
      cl_ord_id: "mkt-1"
    })
    expect(error).toEqual([])
    const txid = (result as { txid: Array<string> }).txid[0]
    const cost = 0.5 * price
    const fee = cost * 0.0026
    const after = env.fake.exchange.account(env.account.key)
    expect(after.balances.XXBT).toBeCloseTo(1.5, 10)
    expect(after.balances.ZUSD).toBeCloseTo(100_000 - cost - fee, 6)
    expect(after.trades).toHaveLength(1)
    const closed = await post("QueryOrders", { txid: String(txid), trades: "true" })
    expect(closed.result).toMatchObject({
      [String(txid)]: {
        status: "closed",
        cl_ord_id: "mkt-1",
        vol: "0.50000000",
        vol_exec: "0.50000000",
        descr: { pair: "XBTUSD", type: "buy", ordertype: "market" },
        trades: [after.trades[0]?.txid]
      }
    })
    const history = await post("TradesHistory")
    expect(history.result).toMatchObject({
      count: 1,
      trades: {
        [String(after.trades[0]?.txid)]: { ordertxid: txid, pair: "XXBTZUSD", type: "buy", vol: "0.50000000" }
      }
    })
  })

  it("holds a resting limit buy's funds, then fills it at its limit once the price comes down", async () => {
    // Find a moment from which the price dips within 20 minutes below where it stands.
    let limit = 0
    for (let i = 0; i < 200 && limit === 0; i++) {
      const now = env.clock.now()
      const lows = Array.from(
        { length: 20 },
        (_, k) => env.fake.bar("XBT/USD", "1m", now - (now % MINUTE) + (k + 1) * MINUTE).low
      )
      const dip = Math.ceil(Math.min(...lows))
      if (dip < env.fake.exchange.price("XBT/USD") - 1) limit = dip
      else env.clock.advance(MINUTE)
    }
    expect(limit).toBeGreaterThan(0)
    const { error, result } = await post("AddOrder", {
      pair: "XBTUSD",
      type: "buy",
      ordertype: "limit",
      price: String(limit),
      volume: "1"
    })
    expect(error).toEqual([])
    const txid = String((result as { txid: Array<string> }).txid[0])
    const held = limit * 1.0026
    const resting = env.fake.exchange.account(env.account.key)
    expect(resting.balances.ZUSD).toBe(100_000)
    expect(resting.available("ZUSD")).toBeCloseTo(100_000 - held, 4)
    expect((await post("OpenOrders")).result).toMatchObject({ open: { [txid]: { status: "open" } } })

    env.clock.advance(21 * MINUTE)
    const filled = env.fake.exchange.account(env.account.key)
    const trade = filled.trades[0]
    expect(trade).toMatchObject({ price: limit, volume: 1, maker: true })
    expect(filled.balances.ZUSD).toBeCloseTo(100_000 - limit * 1.0016, 4)
    expect(filled.balances.XXBT).toBe(2)
    expect(filled.available("ZUSD")).toBe(filled.balances.ZUSD)
    expect((await post("ClosedOrders")).result).toMatchObject({
      count: 1,
      closed: { [txid]: { status: "closed" } }
    })
  })

  it("refuses what the balance cannot cover, counting what open orders hold, and moves nothing", async () => {
    const price = env.fake.exchange.price("XBT/USD")
    const tooBig = await post("AddOrder", { pair: "XBTUSD", type: "buy", ordertype: "market", volume: "2" })
    expect(tooBig.error).toEqual(["EOrder:Insufficient funds"])
    const below = String(Math.floor(price * 0.5))
    const rest = await post("AddOrder", {
      pair: "XBTUSD",
      type: "buy",
      ordertype: "limit",
      price: below,
      volume: "3"
    })
    expect(rest.error).toEqual([])
    const second = await post("AddOrder", {
      pair: "XBTUSD",
      type: "buy",
      ordertype: "limit",
      price: below,
      volume: "1"
    })
    expect(second.error).toEqual(["EOrder:Insufficient funds"])
    const sell = await post("AddOrder", { pair: "XBTUSD", type: "sell", ordertype: "market", volume: "1.5" })
    expect(sell.error).toEqual(["EOrder:Insufficient funds"])
    const after = env.fake.exchange.account(env.account.key)
    expect(after.balances).toEqual({ ZUSD: 100_000, XXBT: 1 })
    expect(after.orders).toHaveLength(1)
  })

  it("cancels an open order by txid or cl_ord_id, releasing what it held; unknown orders are refused", async () => {
    const below = String(Math.floor(env.fake.exchange.price("XBT/USD") * 0.5))
    const params = {
      pair: "XBTUSD",
      type: "buy",
      ordertype: "limit",
      price: below,
      volume: "1",
      cl_ord_id: "c-1"
    }
    const placed = await post("AddOrder", params)
    expect((await post("AddOrder", params)).error).toEqual(["EOrder:Duplicate order"])
    expect((await post("CancelOrder", { cl_ord_id: "c-1" })).result).toEqual({ count: 1 })
    expect(env.fake.exchange.account(env.account.key).available("ZUSD")).toBe(100_000)
    const txid = String((placed.result as { txid: Array<string> }).txid[0])
    expect((await post("CancelOrder", { txid })).error).toEqual(["EOrder:Unknown order"])
    // Uniqueness holds among open orders only: the id is free again.
    expect((await post("AddOrder", params)).error).toEqual([])
    const closed = await post("ClosedOrders", { cl_ord_id: "c-1" })
    expect(closed.result).toMatchObject({
      count: 1,
      closed: { [txid]: { status: "canceled", reason: "User requested" } }
    })
  })

  it("triggers a sell stop when the price falls to it and sells at that moment's price", async () => {
    const price = env.fake.exchange.price("XBT/USD")
    const stop = String(Math.floor(price + 1))
    const { error } = await post("AddOrder", {
      pair: "XBTUSD",
      type: "sell",
      ordertype: "stop-loss",
      price: stop,
      volume: "0.5"
    })
    expect(error).toEqual([])
    const after = env.fake.exchange.account(env.account.key)
    expect(after.trades[0]).toMatchObject({ price, volume: 0.5, maker: false })
    expect(after.balances.XXBT).toBe(0.5)
  })

  it("refuses bad orders with Kraken's errors and places nothing", async () => {
    const base = { pair: "XBTUSD", type: "buy", ordertype: "limit", price: "100", volume: "1" }
    expect((await post("AddOrder", { ...base, pair: "NOPEUSD" })).error).toEqual([
      "EQuery:Unknown asset pair"
    ])
    expect((await post("AddOrder", { ...base, volume: "0.00001" })).error).toEqual([
      "EOrder:Order minimum not met"
    ])
    expect((await post("AddOrder", { ...base, price: "100.00001" })).error).toEqual([
      "EOrder:Tick size check failed"
    ])
    expect((await post("AddOrder", { ...base, type: "hold" })).error).toEqual(["EGeneral:Invalid arguments"])
    expect((await post("AddOrder", { ...base, cl_ord_id: "x".repeat(19) })).error).toEqual([
      "EGeneral:Invalid arguments"
    ])
    const past = new Date(env.clock.now() - 1_000).toISOString()
    expect((await post("AddOrder", { ...base, deadline: past })).error).toEqual(["EService:Deadline elapsed"])
    expect((await post("QueryOrders")).error).toEqual(["EGeneral:Invalid arguments"])
    expect(env.fake.exchange.account(env.account.key).orders).toHaveLength(0)
  })
})

describe("fake Kraken private API: faults", () => {
  const market = { pair: "XBTUSD", type: "buy", ordertype: "market", volume: "0.1" }

  it("rejects the next orders with a given error, then behaves", async () => {
    env.fake.exchange.failOrders("EService:Unavailable", 2)
    expect((await post("AddOrder", market)).error).toEqual(["EService:Unavailable"])
    expect((await post("Balance")).error).toEqual([])
    expect((await post("AddOrder", market)).error).toEqual(["EService:Unavailable"])
    expect((await post("AddOrder", market)).error).toEqual([])
    expect(env.fake.exchange.account(env.account.key).orders).toHaveLength(1)
  })

  it("answers EAPI:Invalid nonce without spending the nonce", async () => {
    env.fake.exchange.invalidNonce()
    expect((await rawPost(env.fake, "Balance", { ...env.account, nonce: 7_000 })).error).toEqual([
      "EAPI:Invalid nonce"
    ])
    expect((await rawPost(env.fake, "Balance", { ...env.account, nonce: 7_000 })).error).toEqual([])
  })

  it("drops the connection after executing an order", async () => {
    env.fake.exchange.dropAfterExecuting()
    await expect(post("AddOrder", market)).rejects.toThrow()
    expect(env.fake.exchange.account(env.account.key).orders).toHaveLength(1)
  })

  it("queues a request (accepted at once) before executing it, or answers late after executing it", async () => {
    env.fake.exchange.queueRequests(1_000)
    const before = env.fake.exchange.stats.requests
    const held = post("AddOrder", market)
    await until(() => env.fake.exchange.stats.requests > before)
    expect(env.fake.exchange.account(env.account.key).orders).toHaveLength(0)
    // Its nonce was spent on arrival: a later request does not invalidate it.
    expect((await post("Balance")).error).toEqual([])
    expect((await held).error).toEqual([])
    expect(env.fake.exchange.account(env.account.key).orders).toHaveLength(1)
    env.fake.exchange.delayAnswers(1_000)
    let answered = false
    const late = post("AddOrder", market).finally(() => {
      answered = true
    })
    await until(() => env.fake.exchange.account(env.account.key).orders.length === 2)
    expect(answered).toBe(false)
    expect((await late).error).toEqual([])
    await env.fake.exchange.settled()
  })
})
