/**
 * The fake Kraken's load options, which the live benchmark relies on: generated pairs served like
 * the real ones (REST and WS), one update frame per tick, and send times stamped in forming bars.
 */

import { type FakeKraken, startFakeKraken } from "@quasar/providers/testing"
import { afterEach, describe, expect, it } from "vitest"
import WebSocket from "ws"

const NOW = Date.UTC(2024, 0, 15, 12, 0) + 25_000
let running: Array<FakeKraken> = []
afterEach(async () => {
  await Promise.all(running.map((f) => f.close()))
  running = []
})

const start = async (options: Parameters<typeof startFakeKraken>[0]) => {
  const fake = await startFakeKraken({ now: () => NOW, heartbeatEveryMs: 60_000, ...options })
  running.push(fake)
  return fake
}

/** Subscribes `symbols` on one socket and collects `ohlc` update frames until `enough`. */
const updates = async (fake: FakeKraken, symbols: ReadonlyArray<string>, enough: number) => {
  const ws = new WebSocket(fake.wsUrl)
  const frames: Array<{ readonly data: ReadonlyArray<Record<string, unknown>> }> = []
  const acks: Array<Record<string, unknown>> = []
  ws.on("message", (raw) => {
    const frame = JSON.parse(String(raw)) as Record<string, unknown>
    if (frame.method === "subscribe") acks.push(frame)
    if (frame.channel === "ohlc" && frame.type === "update")
      frames.push(frame as unknown as { data: ReadonlyArray<Record<string, unknown>> })
  })
  await new Promise((resolve) => ws.once("open", resolve))
  ws.send(JSON.stringify({ method: "subscribe", params: { channel: "ohlc", symbol: symbols, interval: 1 } }))
  for (let i = 0; i < 100 && frames.length < enough; i++) await new Promise((r) => setTimeout(r, 20))
  ws.terminate()
  return { frames, acks }
}

describe("fake Kraken load options", () => {
  it("serves generated pairs on REST and WS like the real ones", async () => {
    const fake = await start({ syntheticPairs: 3, updateEveryMs: 20 })
    const pairs = (await (await fetch(`${fake.restUrl}/0/public/AssetPairs`)).json()) as {
      result: Record<string, { wsname?: string }>
    }
    expect(Object.keys(pairs.result)).toHaveLength(14 + 3)
    expect(pairs.result.S0002USD?.wsname).toBe("S0002/USD")
    const ohlc = (await (await fetch(`${fake.restUrl}/0/public/OHLC?pair=S0003USD&interval=1`)).json()) as {
      error: ReadonlyArray<string>
      result: Record<string, ReadonlyArray<unknown>>
    }
    expect(ohlc.error).toEqual([])
    expect(ohlc.result.S0003USD?.length).toBe(720)
    const { acks, frames } = await updates(fake, ["S0001/USD"], 2)
    expect(acks[0]).toMatchObject({ success: true, result: { symbol: "S0001/USD" } })
    expect(frames[0]?.data[0]).toMatchObject({ symbol: "S0001/USD" })
    expect(fake.closedBars("S0001/USD", "1m", NOW - 25_000 - 10 * 60_000, NOW)).toHaveLength(10)
  })

  it("batches every subscription of a tick into one frame, and stamps forming bars with their send time", async () => {
    const fake = await start({ syntheticPairs: 5, updateEveryMs: 20, batchUpdates: true, stampSentAt: true })
    const symbols = ["S0001/USD", "S0002/USD", "S0003/USD", "S0004/USD", "S0005/USD"]
    const { frames } = await updates(fake, symbols, 3)
    const full = frames.filter((f) => f.data.length === symbols.length)
    expect(full.length).toBeGreaterThan(0)
    const entries = full.at(-1)!.data
    expect(entries.map((e) => e.symbol)).toEqual(symbols)
    for (const e of entries) expect(Math.abs((Date.now() % 1e9) - Number(e.trades))).toBeLessThan(2_000)
    // Closed values stay ground truth: only forming bars carry the stamp.
    expect(fake.bar("S0001/USD", "1m", NOW - 60_000).trades).toBeLessThan(1_000)
  })
})
