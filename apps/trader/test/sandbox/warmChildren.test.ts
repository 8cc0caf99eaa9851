/**
 * The registry of children warmed ahead of their runs, with a stand-in child: a run's progress
 * handler gets the child's reports while the run lasts and nothing after it, so what the handler
 * gathers (a backtest's equity curve) is not kept alive by the child's registry once the run ends.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Scope } from "effect"
import { makeWarmChildren } from "../../src/sandbox/WarmChildren"

interface StandIn {
  readonly report: (progress: number) => void
}

describe("children warmed ahead of their runs", () => {
  it.scoped("route a child's reports to the run that took it, and to nothing once that run ended", () =>
    Effect.gen(function* () {
      const warm = yield* makeWarmChildren<StandIn, never, number>({ max: 2, ttl: "30 seconds" })
      yield* warm.warm("code", (onProgress) => Effect.succeed({ report: onProgress }))
      const seen: Array<number> = []
      const run = yield* Scope.make()
      const child = yield* warm.take("code", (p) => void seen.push(p)).pipe(Scope.extend(run))
      const standIn = Option.getOrThrow(child)
      standIn.report(1)
      standIn.report(2)
      yield* Scope.close(run, Exit.void)
      standIn.report(3)
      expect(seen).toEqual([1, 2])
      // Taken once: a second run of the same code finds no warmed child.
      expect(Option.isNone(yield* warm.take("code", () => undefined))).toBe(true)
    })
  )
})
