import { describe, expect, it } from "@effect/vitest"
import type { LiveEvent } from "@quasar/providers/sdk"
import { Clock, Deferred, Duration, Effect, Queue, Stream, TestClock } from "effect"
import { closeGeneration, openGeneration } from "../../src/live/Generation"

/** A generation of provider "p" for symbol A whose stream is `events`; each handled event's time goes to `handled`. */
const open = (events: Queue.Queue<LiveEvent>, handled: Queue.Queue<number>) =>
  openGeneration({
    source: { live: () => Stream.fromQueue(events), now: Clock.currentTimeMillis },
    n: 1,
    provider: "p",
    timeframe: "1m",
    symbols: ["A"],
    staleAfter: Duration.seconds(10),
    handoverTimeout: Duration.seconds(5),
    handle: (_gen, _event, now) => Queue.offer(handled, now)
  })

describe("a live connection's generation, on the TestClock", () => {
  it.effect("any event keeps it open; once nothing came for staleAfter it ends, worth a reconnect", () =>
    Effect.gen(function* () {
      const events = yield* Queue.unbounded<LiveEvent>()
      const handled = yield* Queue.unbounded<number>()
      const gen = yield* open(events, handled)
      expect(gen.openedAt).toBe(0)

      yield* TestClock.adjust("8 seconds")
      // Not every symbol answered: the handover timeout made it ready anyway.
      expect(yield* Deferred.isDone(gen.ready)).toBe(true)
      yield* Queue.offer(events, { type: "heartbeat" })
      expect(yield* Queue.take(handled)).toBe(8_000)
      expect(gen.lastEventAt).toBe(8_000)

      // 16 s after it opened, 8 s after its last event: still open.
      yield* TestClock.adjust("8 seconds")
      expect(yield* Deferred.isDone(gen.ended)).toBe(false)

      yield* TestClock.adjust("5 seconds")
      const ended = yield* Deferred.await(gen.ended)
      expect(ended._tag).toBe("ProviderRetryableError")
      expect(ended.message).toMatch(/^nothing received for 1\d s \(stale after 10s\); reconnecting$/)
      yield* closeGeneration(gen)
    })
  )
})
