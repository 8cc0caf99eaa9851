import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as GracefulHttpServer from "../src/node/GracefulHttpServer"

const listening = (http: GracefulHttpServer.GracefulHttpServer) =>
  Effect.acquireRelease(
    Effect.async<void>((resume) => {
      http.server.listen(0, "127.0.0.1", () => resume(Effect.void))
    }),
    () => Effect.sync(() => http.server.close())
  )

describe("GracefulHttpServer's drain, on the TestClock", () => {
  it.scoped(
    "an idle server stops accepting once things are quiet, and the drain ends after a quiet while",
    () =>
      Effect.gen(function* () {
        const http = GracefulHttpServer.make(yield* Effect.clock)
        yield* listening(http)
        const drain = yield* Effect.fork(http.drain)

        yield* TestClock.adjust("100 millis")
        // Not quiet for long enough yet: still accepting.
        expect(http.server.listening).toBe(true)

        yield* TestClock.adjust("1 second")
        expect(http.server.listening).toBe(false)
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(drain)).toBeUndefined()
      })
  )

  it.scoped("a server that no longer listens has nothing to drain", () =>
    Effect.gen(function* () {
      const http = GracefulHttpServer.make(yield* Effect.clock)
      // No clock adjustment: the drain must not wait for it.
      yield* http.drain
      expect(http.server.listening).toBe(false)
    })
  )
})
