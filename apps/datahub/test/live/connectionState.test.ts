import { describe, expect, it } from "@effect/vitest"
import {
  type GenerationInfo,
  initialLifecycle,
  type LifecycleState,
  stepLifecycle
} from "../../src/live/ProviderConnectionState"

const HEALTHY = 30_000
const T0 = 1_000_000
const gen = (n: number, symbols: ReadonlyArray<string>, openedAt = T0): GenerationInfo => ({
  n,
  symbols: new Set(symbols),
  openedAt
})
const retryable = { _tag: "ProviderRetryableError", message: "socket closed" }
const fatal = { _tag: "ProviderFatalError", message: "bad key" }

/** A connection streaming generation 1 for `symbols`. */
const streaming = (symbols: ReadonlyArray<string>): LifecycleState => {
  const opened = stepLifecycle(initialLifecycle(HEALTHY), { _tag: "Tick", wanted: symbols })
  return stepLifecycle(opened.state, { _tag: "Opened", generation: gen(1, symbols) }).state
}

describe("provider connection lifecycle", () => {
  it("with no members it stops and waits for a change", () => {
    const s = initialLifecycle(HEALTHY)
    expect(stepLifecycle(s, { _tag: "Tick", wanted: [] })).toEqual({
      state: s,
      outputs: [{ _tag: "SetState", state: "stopped" }, { _tag: "AwaitChange" }]
    })
  })

  it("opens generation 1 for its members, then waits for an end or a change", () => {
    const first = stepLifecycle(initialLifecycle(HEALTHY), { _tag: "Tick", wanted: ["A", "B"] })
    expect(first.outputs).toEqual([
      { _tag: "SetState", state: "connecting" },
      { _tag: "Open", n: 1, symbols: ["A", "B"] }
    ])
    expect(first.state.generations).toBe(1)
    const opened = stepLifecycle(first.state, { _tag: "Opened", generation: gen(1, ["A", "B"]) })
    expect(opened.outputs).toEqual([{ _tag: "AwaitEndOrChange" }])
    expect(opened.state.primary?.n).toBe(1)
    expect(stepLifecycle(opened.state, { _tag: "Tick", wanted: ["A", "B"] }).outputs).toEqual([
      { _tag: "AwaitEndOrChange" }
    ])
  })

  it("the last member removed closes the open generation", () => {
    const next = stepLifecycle(streaming(["A"]), { _tag: "Tick", wanted: [] })
    expect(next.outputs).toEqual([
      { _tag: "Close", n: 1 },
      { _tag: "SetState", state: "stopped" },
      { _tag: "AwaitChange" }
    ])
    expect(next.state.primary).toBeNull()
  })

  it("an added symbol hands over to a new generation; a removed one changes nothing", () => {
    const s = streaming(["A", "B"])
    expect(stepLifecycle(s, { _tag: "Changed", wanted: ["A"] })).toEqual({ state: s, outputs: [] })
    const added = stepLifecycle(s, { _tag: "Changed", wanted: ["A", "B", "C"] })
    expect(added.outputs).toEqual([{ _tag: "Handover", n: 2, symbols: ["A", "B", "C"] }])
    expect(added.state).toMatchObject({ generations: 2, primary: { n: 1 } })
  })

  it("a ready candidate takes over: the old one closes, its series need no gap fill", () => {
    const s = { ...streaming(["A"]), generations: 2 }
    const next = stepLifecycle(s, { _tag: "HandedOver", candidate: gen(2, ["A", "B"]), lost: null })
    expect(next.state).toMatchObject({ primary: { n: 2 }, reconnects: 0, lastError: null })
    expect(next.outputs).toEqual([
      { _tag: "Close", n: 1 },
      { _tag: "ReportReopened", n: 2, symbols: 2 },
      { _tag: "WaitUnlessAnswered", n: 2 }
    ])
  })

  it("the primary lost during a handover: the candidate takes over and the loss is counted", () => {
    const s = { ...streaming(["A"]), generations: 2 }
    const next = stepLifecycle(s, { _tag: "HandedOver", candidate: gen(2, ["A", "B"]), lost: retryable })
    expect(next.state).toMatchObject({ primary: { n: 2 }, reconnects: 1, lastError: "socket closed" })
    expect(next.outputs).toEqual([
      { _tag: "Close", n: 1 },
      { _tag: "ReportLost", n: 1, reason: retryable, reconnects: 1 },
      { _tag: "WaitUnlessAnswered", n: 2 }
    ])
  })

  it("a failed candidate keeps the current generation and asks again later", () => {
    const s = { ...streaming(["A"]), generations: 2 }
    const next = stepLifecycle(s, {
      _tag: "HandoverFailed",
      candidate: gen(2, ["A", "B"]),
      reason: retryable,
      wanted: ["A", "B"]
    })
    expect(next.state).toBe(s)
    expect(next.outputs).toEqual([
      { _tag: "Close", n: 2 },
      { _tag: "ReportHandoverFailed", reason: retryable },
      { _tag: "RetryChangeLater" }
    ])
  })

  it("a candidate refused for good puts only the added symbols in error", () => {
    const s = { ...streaming(["A"]), generations: 2 }
    const next = stepLifecycle(s, {
      _tag: "HandoverFailed",
      candidate: gen(2, ["A", "B", "C"]),
      reason: fatal,
      wanted: ["A", "B", "C"]
    })
    expect(next.state).toBe(s)
    expect(next.outputs.at(-1)).toEqual({ _tag: "Refuse", symbols: ["B", "C"], message: "bad key" })
  })

  it("lost: closes, counts the reconnect and backs off", () => {
    const next = stepLifecycle(streaming(["A"]), { _tag: "Ended", reason: retryable, now: T0 + 1_000 })
    expect(next.state).toMatchObject({ primary: null, reconnects: 1, lastError: "socket closed" })
    expect(next.outputs).toEqual([
      { _tag: "Close", n: 1 },
      { _tag: "ReportLost", n: 1, reason: retryable, reconnects: 1 },
      { _tag: "WaitUnlessAnswered", n: null },
      { _tag: "SetState", state: "backoff" },
      { _tag: "Backoff", reason: retryable }
    ])
    // The next turn opens generation 2.
    expect(stepLifecycle(next.state, { _tag: "Tick", wanted: ["A"] }).outputs).toContainEqual({
      _tag: "Open",
      n: 2,
      symbols: ["A"]
    })
  })

  it("lost after it had been up longer than healthyAfter: the backoff starts from its first delay", () => {
    const s = streaming(["A"])
    const atLimit = stepLifecycle(s, { _tag: "Ended", reason: retryable, now: T0 + HEALTHY })
    expect(atLimit.outputs).not.toContainEqual({ _tag: "ResetBackoff" })
    const after = stepLifecycle(s, { _tag: "Ended", reason: retryable, now: T0 + HEALTHY + 1 })
    expect(after.outputs.slice(-2)).toEqual([
      { _tag: "ResetBackoff" },
      { _tag: "Backoff", reason: retryable }
    ])
  })

  it("refused for good: every subscription in error, no backoff", () => {
    const next = stepLifecycle(streaming(["A", "B"]), { _tag: "Ended", reason: fatal, now: T0 })
    expect(next.state).toMatchObject({ primary: null, reconnects: 1, lastError: "bad key" })
    expect(next.outputs).toEqual([
      { _tag: "Close", n: 1 },
      { _tag: "ReportLost", n: 1, reason: fatal, reconnects: 1 },
      { _tag: "WaitUnlessAnswered", n: null },
      { _tag: "Refuse", symbols: null, message: "the live connection was refused: bad key" }
    ])
  })

  it("an end with no open generation changes nothing", () => {
    const s = initialLifecycle(HEALTHY)
    expect(stepLifecycle(s, { _tag: "Ended", reason: retryable, now: T0 })).toEqual({ state: s, outputs: [] })
  })

  it("a crash closes the open generation and restarts later, keeping the counters", () => {
    const s = { ...streaming(["A"]), reconnects: 3 }
    const next = stepLifecycle(s, { _tag: "Crashed" })
    expect(next.state).toMatchObject({ primary: null, reconnects: 3, generations: 1 })
    expect(next.outputs).toEqual([
      { _tag: "Close", n: 1 },
      { _tag: "WaitUnlessAnswered", n: null },
      { _tag: "RestartLater" }
    ])
    expect(stepLifecycle(initialLifecycle(HEALTHY), { _tag: "Crashed" }).outputs).toEqual([
      { _tag: "WaitUnlessAnswered", n: null },
      { _tag: "RestartLater" }
    ])
  })
})
