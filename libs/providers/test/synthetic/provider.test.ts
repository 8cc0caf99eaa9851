import { barProblem } from "@quasar/domain"
import { describe, expect, it } from "vitest"
import type { HistoryRequest, LiveEvent, ProviderBar } from "../../src/sdk/types"
import { syntheticProvider } from "../../src/synthetic/provider"
import { barAt, barsBetween } from "../../src/synthetic/randomWalk"
import { testContext } from "../../src/testing/testContext"

const MINUTE = 60_000
const settings = { symbols: "SYN/USD, SYN/EUR ,ACME", seed: 42, updateMs: 1 }
const T0 = Date.UTC(2024, 0, 15, 9, 30)
type Spec = typeof syntheticProvider.settings

const collectHistory = async (request: HistoryRequest, now: number) => {
  const pages: Array<ReadonlyArray<ProviderBar>> = []
  for await (const page of syntheticProvider.history(
    testContext<Spec>(settings, { now: () => now }),
    request
  ))
    pages.push(page.bars)
  return pages
}

describe("synthetic provider", () => {
  it("lists the configured symbols, pairs as crypto with base and quote, others as equities", async () => {
    const assets = await syntheticProvider.listAssets(testContext<Spec>(settings))
    expect(assets.map((a) => a.symbol)).toEqual(["SYN/USD", "SYN/EUR", "ACME"])
    expect(assets[1]).toMatchObject({ assetClass: "crypto", base: "SYN", quote: "EUR" })
    expect(assets[2]).toMatchObject({ assetClass: "equity" })
    expect(assets[2]?.base).toBeUndefined()
  })

  it("serves any range in pages of at most 1000 bars, equal to the random walk", async () => {
    const request = { symbol: "ACME", timeframe: "5m", from: T0 - 2_345 * 5 * MINUTE + 7, to: T0 } as const
    const pages = await collectHistory(request, T0 + 1)
    expect(pages.map((p) => p.length)).toEqual([1_000, 1_000, 344])
    expect(pages.flat()).toEqual(barsBetween({ seed: 42 }, "ACME", "5m", request.from, request.to))
  })

  it("serves closed bars only", async () => {
    const now = T0 + 30_000
    const pages = await collectHistory(
      { symbol: "SYN/USD", timeframe: "1m", from: T0 - 5 * MINUTE, to: T0 + MINUTE },
      now
    )
    expect(pages.flat().map((b) => b.ts)).toEqual([1, 2, 3, 4, 5].map((i) => T0 - (6 - i) * MINUTE))
    const weekly = await collectHistory(
      { symbol: "SYN/USD", timeframe: "1w", from: T0 - 30 * 86_400_000, to: T0 },
      now
    )
    for (const bar of weekly.flat()) {
      expect(new Date(bar.ts).getUTCDay()).toBe(1)
      expect(bar.ts + 7 * 86_400_000).toBeLessThanOrEqual(now)
    }
  })

  it("refuses a symbol it does not serve, as fatal", async () => {
    await expect(
      collectHistory({ symbol: "NOPE", timeframe: "1m", from: 0, to: T0 }, T0)
    ).rejects.toMatchObject({
      name: "FatalError"
    })
  })

  it("streams forming bars converging on the ground truth and one closed bar per interval", async () => {
    let now = T0
    const controller = new AbortController()
    const ctx = testContext<Spec>(settings, { now: () => now, signal: controller.signal })
    const events = syntheticProvider.live!(ctx, { symbols: ["SYN/USD", "NOPE"], timeframe: "1m" })[
      Symbol.asyncIterator
    ]()
    const next = async (): Promise<LiveEvent> => {
      const r = await events.next()
      if (r.done) throw new Error("live ended")
      return r.value
    }
    expect(await next()).toEqual({ type: "subscribed", symbol: "SYN/USD" })
    expect(await next()).toMatchObject({ type: "rejected", symbol: "NOPE" })
    const truth = barAt({ seed: 42 }, "SYN/USD", "1m", T0)
    const atOpen = await next()
    expect(atOpen).toEqual({
      type: "bar",
      symbol: "SYN/USD",
      closed: false,
      bar: {
        ...truth,
        high: truth.open,
        low: truth.open,
        close: truth.open,
        volume: 0,
        vwap: truth.open,
        trades: 0
      }
    })
    expect(await next()).toEqual({ type: "heartbeat" })

    now = T0 + MINUTE - 1
    const late = await next()
    if (late.type !== "bar") throw new Error(`expected a bar, got ${late.type}`)
    expect(barProblem(late.bar, "1m", now)).toBeUndefined()
    expect(late.bar.close).toBeCloseTo(truth.close, 2)
    expect(late.bar.high).toBeCloseTo(truth.high, 2)
    expect(late.bar.low).toBeCloseTo(truth.low, 2)
    expect(await next()).toEqual({ type: "heartbeat" })

    // Three intervals pass in one tick: each closes exactly once, with the ground-truth values.
    now = T0 + 3 * MINUTE + 10_000
    const closed = [await next(), await next(), await next()]
    expect(closed).toEqual(
      [0, 1, 2].map((i) => ({
        type: "bar",
        symbol: "SYN/USD",
        closed: true,
        bar: barAt({ seed: 42 }, "SYN/USD", "1m", T0 + i * MINUTE)
      }))
    )
    expect(await next()).toMatchObject({ type: "bar", closed: false, bar: { ts: T0 + 3 * MINUTE } })
    expect(await next()).toEqual({ type: "heartbeat" })
    expect(await next()).toMatchObject({ type: "bar", closed: false, bar: { ts: T0 + 3 * MINUTE } })

    controller.abort()
    await next()
    expect((await events.next()).done).toBe(true)
  })
})
