import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { Effect, Layer, Queue, TestClock } from "effect"
import { BacktestRunner } from "../../src/backtest/BacktestRunner"
import type { Progress } from "../../src/engine/runBacktest"
import { BARS, ready, request, traderClient, traderLayer } from "./support"

/**
 * Runs hold after every progress report until the test lets them go (`step`), so the test sees
 * each run at a known point; time only moves when the test moves the TestClock.
 */
class Steps extends Effect.Service<Steps>()("test/Steps", {
  effect: Effect.gen(function* () {
    const reached = yield* Queue.unbounded<Progress>()
    const gates = yield* Queue.unbounded<void>()
    return { reached, gates }
  })
}) {}

const EVERY = 500
const TOTAL = BARS - 100 + 30

const app = Layer.unwrapEffect(
  Effect.map(Steps, ({ reached, gates }) =>
    traderLayer({
      executor: {
        every: EVERY,
        pause: (progress) => Effect.zipRight(Queue.offer(reached, progress), Queue.take(gates))
      },
      runner: { concurrency: 1, maxUnfinished: 2, progressWriteMs: 1_000 }
    })
  )
).pipe(Layer.provideMerge(Steps.Default))

layer(app, { timeout: 60_000 })("progress and cancel", (it) => {
  it.effect("a run shows its progress and ETA, waits its turn, and stops on cancel", () =>
    Effect.gen(function* () {
      yield* ready
      const { reached, gates } = yield* Steps
      const api = yield* traderClient()
      const runner = yield* BacktestRunner

      const first = yield* api.backtests.submit({ payload: request() })
      expect(yield* Queue.take(reached)).toEqual({ done: EVERY, total: TOTAL })
      // 30 s for the first 500 bar times: the rest at the same rate.
      yield* TestClock.adjust("30 seconds")
      const running = yield* api.backtests.get({ path: { id: first.id } })
      expect(running).toMatchObject({
        status: "running",
        progress: { done: EVERY, total: TOTAL, etaSeconds: (30 * (TOTAL - EVERY)) / EVERY },
        result: null
      })
      expect(running.startedAt).not.toBeNull()

      // One at a time: the second waits, queued, with no ETA yet.
      const second = yield* api.backtests.submit({ payload: request() })
      const waiting = yield* api.backtests.get({ path: { id: second.id } })
      expect(waiting).toMatchObject({ status: "queued", progress: { done: 0, etaSeconds: null } })
      expect(waiting.startedAt).toBeNull()
      const listed = yield* api.backtests.list({ urlParams: { status: "queued" } })
      expect(listed.map((s) => s.id)).toEqual([second.id])
      // Two held (one running, one queued) is the most this process takes on: a third is refused.
      const full = yield* Effect.flip(api.backtests.submit({ payload: request() }))
      expect(full).toMatchObject({
        _tag: "Conflict",
        message: expect.stringContaining("already queued or running")
      })
      // A queued or running run cannot be deleted.
      expect((yield* Effect.flip(api.backtests.remove({ path: { id: second.id } })))._tag).toBe("Conflict")

      // The next step writes progress to the database (a second has passed since the last write).
      yield* Queue.offer(gates, undefined)
      expect(yield* Queue.take(reached)).toEqual({ done: 2 * EVERY, total: TOTAL })
      const sql = yield* SqlClient.SqlClient
      const stored = yield* sql<{ done: number }>`
        SELECT progress_done AS done FROM trader.backtests WHERE id = ${first.id}`
      expect(stored).toEqual([{ done: 2 * EVERY }])

      const cancelled = yield* api.backtests.cancel({ path: { id: first.id } })
      expect(cancelled).toMatchObject({ status: "cancelled", message: "cancelled on request" })
      yield* runner.settled(first.id)
      const stopped = yield* api.backtests.get({ path: { id: first.id } })
      expect(stopped).toMatchObject({
        status: "cancelled",
        progress: { done: 2 * EVERY, total: TOTAL, etaSeconds: null },
        result: null
      })
      expect(stopped.finishedAt).not.toBeNull()

      // The slot is free: the second starts; cancelled while it waits for its first step.
      expect(yield* Queue.take(reached)).toEqual({ done: EVERY, total: TOTAL })
      expect((yield* api.backtests.cancel({ path: { id: second.id } })).status).toBe("cancelled")
      yield* runner.settled(second.id)

      // A third one runs through when every step is let go at once.
      const third = yield* api.backtests.submit({ payload: request() })
      for (let i = 0; i < Math.ceil(TOTAL / EVERY); i++) yield* Queue.offer(gates, undefined)
      yield* runner.settled(third.id)
      const done = yield* api.backtests.get({ path: { id: third.id } })
      expect(done).toMatchObject({ status: "completed", progress: { done: TOTAL, total: TOTAL } })
      expect(done.result?.status).toBe("completed")
    })
  )
})
