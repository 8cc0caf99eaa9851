/** The fake Kraken reproduces the protocol quirks of Kraken's public REST and WS v2 APIs on the wire. */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import WebSocket from "ws"
import { type FakeKraken, startFakeKraken } from "../../src/testing/kraken/server"

const MINUTE = 60_000
const NOW = Date.UTC(2024, 0, 15, 12, 0) + 25_000
const CURRENT = NOW - 25_000

let fake: FakeKraken
beforeAll(async () => {
  fake = await startFakeKraken({ now: () => NOW, updateEveryMs: 60_000, heartbeatEveryMs: 200 })
})
afterAll(() => fake.close())

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${fake.restUrl}${path}`)
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** A raw socket that records every frame it receives. */
const open = async () => {
  const ws = new WebSocket(fake.wsUrl)
  const frames: Array<Record<string, unknown>> = []
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)))
  ws.on("message", (data) => frames.push(JSON.parse(data.toString()) as Record<string, unknown>))
  await new Promise((resolve) => ws.once("open", resolve))
  const waitFor = async (test: (f: Record<string, unknown>) => boolean) => {
    for (let i = 0; i < 100 && !frames.some(test); i++) await new Promise((r) => setTimeout(r, 20))
    const found = frames.find(test)
    if (!found) throw new Error(`no such frame in ${JSON.stringify(frames).slice(0, 500)}`)
    return found
  }
  return { ws, frames, closed, waitFor, send: (m: unknown) => ws.send(JSON.stringify(m)) }
}

describe("fake Kraken REST", () => {
  it("serves at most 720 rows ending with the unfinished interval, strings for decimals, a `last` cursor", async () => {
    const { status, body } = await get("/0/public/OHLC?pair=XBTUSD&interval=1")
    expect(status).toBe(200)
    const result = body.result as { XXBTZUSD: Array<Array<string | number>>; last: number }
    expect(result.XXBTZUSD).toHaveLength(720)
    expect(result.XXBTZUSD.at(-1)?.[0]).toBe(CURRENT / 1_000)
    expect(result.last).toBe((CURRENT - MINUTE) / 1_000)
    expect(typeof result.XXBTZUSD[0]?.[1]).toBe("string")
    const flat = result.XXBTZUSD.find((r) => r[7] === 0)
    expect(flat?.slice(5, 7)).toEqual(["0.0", "0.00000000"])
  })

  it("treats `since` as exclusive and accepts the REST key as the pair", async () => {
    const since = (CURRENT - 3 * MINUTE) / 1_000
    const { body } = await get(`/0/public/OHLC?pair=XXBTZUSD&interval=1&since=${since}`)
    const rows = (body.result as { XXBTZUSD: Array<Array<number | string>> }).XXBTZUSD
    expect(rows.map((r) => r[0])).toEqual([since + 60, since + 120, since + 180])
  })

  it("answers errors with HTTP 200 in the `error` array", async () => {
    expect(await get("/0/public/OHLC?pair=XBT/USD")).toEqual({
      status: 200,
      body: { error: ["EQuery:Unknown asset pair"] }
    })
    expect(await get("/0/public/OHLC?pair=XBTUSD&interval=7")).toEqual({
      status: 200,
      body: { error: ["EGeneral:Invalid arguments"] }
    })
    fake.restError("EAPI:Rate limit exceeded", 2)
    expect((await get("/0/public/AssetPairs")).body).toEqual({ error: ["EAPI:Rate limit exceeded"] })
    expect((await get("/0/public/Time")).body).toEqual({ error: ["EAPI:Rate limit exceeded"] })
    expect((await get("/0/public/Time")).body.error).toEqual([])
  })

  it("slows responses down on request, counts requests, and resets", async () => {
    fake.slow(150)
    const started = Date.now()
    await get("/0/public/Time")
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(fake.stats.restRequests).toBeGreaterThan(0)
    fake.reset()
    expect(fake.stats.restRequests).toBe(0)
    const again = Date.now()
    await get("/0/public/Time")
    expect(Date.now() - again).toBeLessThan(140)
  })

  it("filters AssetPairs by `?pair=`", async () => {
    const { body } = await get("/0/public/AssetPairs?pair=XBTUSD,XDGUSD")
    expect(Object.keys(body.result as object)).toEqual(["XXBTZUSD", "XDGUSD"])
    const all = await get("/0/public/AssetPairs")
    expect(Object.keys(all.body.result as object)).toContain("XXBTZUSD.d")
  })
})

describe("fake Kraken WS v2", () => {
  it("status on connect, per-symbol acks, v1 names refused, snapshot, pong, heartbeat, close when unsubscribed", async () => {
    const client = await open()
    expect(client.frames[0]).toMatchObject({
      channel: "status",
      data: [{ api_version: "v2", system: "online" }]
    })
    client.send({
      method: "subscribe",
      params: { channel: "ohlc", symbol: ["BTC/USD", "XBT/USD"], interval: 1 },
      req_id: 7
    })
    const ack = await client.waitFor((f) => f.method === "subscribe" && f.success === true)
    expect(ack).toMatchObject({ result: { channel: "ohlc", symbol: "BTC/USD", interval: 1 }, req_id: 7 })
    expect(ack.time_in).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    expect(await client.waitFor((f) => f.success === false)).toMatchObject({
      error: "Currency pair not supported XBT/USD",
      symbol: "XBT/USD",
      req_id: 7
    })
    const snapshot = await client.waitFor((f) => f.type === "snapshot")
    const data = snapshot.data as Array<Record<string, unknown>>
    expect(data.length).toBeGreaterThan(5)
    expect(data[0]?.interval_begin).toMatch(/:00\.000000000Z$/)
    expect(typeof data[0]?.open).toBe("number")
    client.send({ method: "ping", req_id: 42 })
    expect(await client.waitFor((f) => f.method === "pong")).toMatchObject({ req_id: 42 })
    await client.waitFor((f) => f.channel === "heartbeat")
    client.send({
      method: "unsubscribe",
      params: { channel: "ohlc", symbol: ["BTC/USD"], interval: 1 },
      req_id: 8
    })
    expect(await client.closed).toBe(1000)
  })
})

describe("fake Kraken WS v2 faults", () => {
  it("stops heartbeats, then everything when frozen", async () => {
    const client = await open()
    client.send({ method: "subscribe", params: { channel: "ohlc", symbol: ["ETH/USD"], interval: 5 } })
    await client.waitFor((f) => f.channel === "heartbeat")
    fake.stopHeartbeats(true)
    await new Promise((r) => setTimeout(r, 100))
    const count = client.frames.length
    await new Promise((r) => setTimeout(r, 500))
    expect(client.frames.length).toBe(count)
    fake.stopHeartbeats(false)
    fake.freeze(true)
    client.send({ method: "ping", req_id: 1 })
    await new Promise((r) => setTimeout(r, 500))
    expect(client.frames.length).toBe(count)
    fake.freeze(false)
    await client.waitFor((f) => f.channel === "heartbeat" && client.frames.indexOf(f) >= count)
    client.ws.close()
    fake.reset()
  })
})
