/**
 * The live stream against the fake with an accelerated clock shared by both sides: 60× real
 * time, so a 1m bar closes every second.
 */
import { afterEach, describe, expect, it } from "vitest"
import kraken from "../../src/kraken"
import { FatalError, type LiveEvent, type ProviderBar, RetryableError } from "../../src/sdk"
import { type FakeKraken, startFakeKraken } from "../../src/testing/kraken/server"
import { testContext } from "../../src/testing/testContext"

const MINUTE = 60_000
const SPEED = 60

interface Run {
  readonly fake: FakeKraken
  readonly ctx: ReturnType<typeof testContext<typeof kraken.settings>>
  readonly now: () => number
  readonly abort: AbortController
}

let running: Array<FakeKraken> = []
afterEach(async () => {
  await Promise.all(running.map((f) => f.close()))
  running = []
})

/** A fake and a provider context on one clock starting at `t0` and running at 60×. */
const setUp = async (t0: number): Promise<Run> => {
  const start = Date.now()
  const now = () => t0 + (Date.now() - start) * SPEED
  const fake = await startFakeKraken({ now, updateEveryMs: 100 })
  running.push(fake)
  const abort = new AbortController()
  const ctx = testContext<typeof kraken.settings>(
    // 40 s of fake time = 2/3 s real: well above the fake's update period (100 ms real = 6 s).
    { restUrl: fake.restUrl, wsUrl: fake.wsUrl, closeGraceMs: 40_000 },
    { now, signal: abort.signal }
  )
  return { fake, ctx, now, abort }
}

interface Seen {
  readonly event: LiveEvent
  /** The shared clock when the event arrived. */
  readonly at: number
}

/** Consumes the stream until `done` says so (or a real-time deadline), keeping every event. */
const collect = async (
  run: Run,
  symbols: ReadonlyArray<string>,
  done: (seen: ReadonlyArray<Seen>) => boolean,
  onEvent: (event: LiveEvent, seen: ReadonlyArray<Seen>) => void = () => {}
): Promise<Array<Seen>> => {
  const seen: Array<Seen> = []
  let timedOut = false
  const deadline = setTimeout(() => {
    timedOut = true
    run.abort.abort()
  }, 15_000)
  try {
    for await (const event of kraken.live!(run.ctx, { symbols, timeframe: "1m" })) {
      seen.push({ event, at: run.now() })
      onEvent(event, seen)
      if (done(seen)) break
    }
  } finally {
    clearTimeout(deadline)
  }
  if (timedOut) throw new Error(`no end after 15 s; saw ${seen.length} events`)
  return seen
}

const closedBars = (seen: ReadonlyArray<Seen>, symbol: string): Array<ProviderBar> =>
  seen.flatMap(({ event: e }) => (e.type === "bar" && e.closed && e.symbol === symbol ? [e.bar] : []))

const formingBars = (seen: ReadonlyArray<Seen>, symbol: string): Array<ProviderBar> =>
  seen.flatMap(({ event: e }) => (e.type === "bar" && !e.closed && e.symbol === symbol ? [e.bar] : []))

const T0 = Date.UTC(2024, 0, 15, 12, 0) + 5_000

describe("Kraken live against the fake", () => {
  it("yields subscribed, forming and closed bars whose closed values equal ground truth", async () => {
    const run = await setUp(T0)
    const symbols = ["XBT/USD", "ETH/USD"]
    const streamed = (s: ReadonlyArray<Seen>, symbol: string) =>
      closedBars(s, symbol).filter((b) => b.ts >= T0 - 5_000)
    const seen = await collect(run, symbols, (s) =>
      symbols.every((symbol) => streamed(s, symbol).length >= 3)
    )
    const events = seen.map((s) => s.event)
    expect(events).toContainEqual({ type: "subscribed", symbol: "XBT/USD" })
    expect(events).toContainEqual({ type: "subscribed", symbol: "ETH/USD" })
    expect(events).toContainEqual({ type: "heartbeat" }) // pongs to the provider's pings
    for (const symbol of symbols) {
      const closed = closedBars(seen, symbol)
      expect(streamed(seen, symbol).length).toBeGreaterThanOrEqual(3)
      expect(formingBars(seen, symbol).length).toBeGreaterThan(3)
      // Exactly the bars that traded, each once, in order, with the final values.
      const first = closed[0]?.ts ?? 0
      const last = closed.at(-1)?.ts ?? 0
      expect(closed).toEqual(run.fake.tradedBars(symbol, "1m", first, last + 1))
    }
    expect(run.fake.stats.subscribeRequests).toBe(1)
  })

  it("reports a rejected symbol and keeps streaming the others", async () => {
    const run = await setUp(T0)
    run.fake.rejectSymbol("ETH/USD")
    const seen = await collect(run, ["XBT/USD", "ETH/USD"], (s) => closedBars(s, "XBT/USD").length >= 12)
    const events = seen.map((s) => s.event)
    expect(events).toContainEqual({
      type: "rejected",
      symbol: "ETH/USD",
      reason: "Currency pair not supported ETH/USD"
    })
    expect(events).toContainEqual({ type: "subscribed", symbol: "XBT/USD" })
    expect(events.some((e) => e.type === "bar" && e.symbol === "ETH/USD")).toBe(false)
  })

  it("fails for good when every symbol is rejected", async () => {
    const run = await setUp(T0)
    await expect(collect(run, ["NOPE/USD"], () => false)).rejects.toBeInstanceOf(FatalError)
  })

  it("skips malformed frames with a warning and goes on", async () => {
    const run = await setUp(T0)
    let sentAt: number | undefined
    const seen = await collect(
      run,
      ["XBT/USD"],
      (s) => sentAt !== undefined && formingBars(s.slice(sentAt), "XBT/USD").length >= 5,
      (event, s) => {
        if (sentAt === undefined && event.type === "bar" && !event.closed) {
          sentAt = s.length
          run.fake.sendMalformed()
          run.fake.sendMalformed("}{ not json")
          run.fake.sendMalformed('{"channel":"ohlc","type":"update","data":"nope"}')
        }
      }
    )
    const warnings = run.ctx.logs.filter((l) => l.level === "warn").map((l) => l.message)
    expect(warnings).toContain("kraken: skipping malformed ohlc entry")
    expect(warnings.filter((m) => m === "kraken: skipping malformed ws frame")).toHaveLength(2)
    expect(closedBars(seen, "XBT/USD").length).toBeGreaterThan(0)
  })

  it("throws RetryableError when the connection drops (1006) and FatalError on 1008", async () => {
    const dropped = await setUp(T0)
    const drop = collect(
      dropped,
      ["XBT/USD"],
      () => false,
      (e) => e.type === "subscribed" && dropped.fake.dropConnections()
    )
    await expect(drop).rejects.toBeInstanceOf(RetryableError)
    const policy = await setUp(T0)
    const close = collect(
      policy,
      ["XBT/USD"],
      () => false,
      (e) => e.type === "subscribed" && policy.fake.closeConnections(1008)
    )
    await expect(close).rejects.toBeInstanceOf(FatalError)
  })

  it("returns quietly and closes the socket when aborted", async () => {
    const run = await setUp(T0)
    const seen = await collect(
      run,
      ["XBT/USD"],
      () => false,
      (e) => e.type === "subscribed" && run.abort.abort()
    )
    expect(seen.map((s) => s.event.type)).toContain("subscribed")
    await new Promise((r) => setTimeout(r, 100))
    expect(run.fake.stats.openSockets).toBe(0)
  })

  it("closes a bar after its end plus the grace period when the next minute has no trades", async () => {
    const probe = await setUp(T0)
    // A traded minute followed by two no-trade minutes: nothing arrives to close it for 2 minutes.
    let quiet = T0 - 5_000 + MINUTE
    const trades = (ts: number) => probe.fake.bar("XBT/USD", "1m", ts).trades !== 0
    while (trades(quiet) || trades(quiet + MINUTE) || !trades(quiet - MINUTE)) quiet += MINUTE
    const run = await setUp(quiet - MINUTE + 3_000)
    const target = quiet - MINUTE
    const seen = await collect(run, ["XBT/USD"], (s) => closedBars(s, "XBT/USD").some((b) => b.ts === target))
    const closing = seen.find((s) => s.event.type === "bar" && s.event.closed && s.event.bar.ts === target)
    expect(closing?.event).toEqual({
      type: "bar",
      symbol: "XBT/USD",
      closed: true,
      bar: run.fake.bar("XBT/USD", "1m", target)
    })
    // Closed by the timer: after end + grace, before the next traded minute could have closed it.
    expect(closing?.at).toBeGreaterThanOrEqual(quiet + 40_000)
    expect(closing?.at).toBeLessThan(quiet + 2 * MINUTE)
    expect(seen.some((s) => s.event.type === "bar" && s.event.bar.ts >= quiet)).toBe(false)
  })

  it("revises a bar its timer closed when the exchange's final values arrive late", async () => {
    const run = await setUp(T0)
    let target: number | undefined
    const versions = (s: ReadonlyArray<Seen>) => closedBars(s, "XBT/USD").filter((b) => b.ts === target)
    const seen = await collect(
      run,
      ["XBT/USD"],
      (s) => versions(s).length >= 2,
      (event, s) => {
        // Silence from the middle of a traded minute until the timer has closed it on what it saw.
        if (
          target === undefined &&
          event.type === "bar" &&
          !event.closed &&
          s.at(-1)!.at >= event.bar.ts + 20_000
        ) {
          target = event.bar.ts
          run.fake.freeze(true)
        }
        if (target !== undefined && versions(s).length === 1) run.fake.freeze(false)
      }
    )
    const [guess, revision] = versions(seen)
    const truth = run.fake.bar("XBT/USD", "1m", target!)
    expect(guess).not.toEqual(truth)
    expect(revision).toEqual(truth)
  })
})
