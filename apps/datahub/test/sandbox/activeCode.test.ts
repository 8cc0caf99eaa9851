/**
 * A version activated a moment ago is found even before the change feed brings it: refusing a
 * provider as not active, DataHub asks the Registry again first, at most once a second per name
 * (a caller inside that second waits for the next ask).
 */
import { describe, expect, it } from "@effect/vitest"
import { type CatalogCode, Manifest, ProviderName } from "@quasar/domain"
import { Effect, Fiber, Layer, Option, Schema, TestClock } from "effect"
import { RegistryCatalog, type RegistryCatalogService } from "../../src/catalog/RegistryCatalog"
import { ActiveCode } from "../../src/sandbox/ActiveCode"

const manifest = Schema.decodeUnknownSync(Manifest)({
  name: "synthetic",
  displayName: "Synthetic",
  version: "1.0.0",
  kind: "provider",
  capabilities: ["history"],
  timeframes: ["1m"],
  settings: []
})

const row = (status: CatalogCode["status"]): CatalogCode => ({
  name: ProviderName.make("synthetic"),
  version: 1,
  kind: "provider",
  status,
  language: "javascript",
  manifest,
  source: "export default {}"
})

/** A catalogue whose cache answers `cached` until a refresh brings what the Registry has. */
const catalogue = (registry: { status: CatalogCode["status"] }) => {
  let cached = row("valid")
  const asked = { count: 0 }
  const service: Pick<RegistryCatalogService, "current" | "refresh"> = {
    current: () => Effect.sync(() => Option.some(cached)),
    refresh: () =>
      Effect.sync(() => {
        asked.count++
        cached = row(registry.status)
      })
  }
  const layer = ActiveCode.layer.pipe(
    Layer.provide(Layer.succeed(RegistryCatalog, service as RegistryCatalogService))
  )
  return { layer, asked, registry }
}

describe("the active version of a provider", () => {
  it.effect(
    "is asked of the Registry again before it is refused, once a second per name, callers waiting for the next ask",
    () =>
      Effect.gen(function* () {
        // Activated at the Registry; the cache still holds the version as merely valid.
        const activated = catalogue({ status: "active" })
        const found = yield* Effect.flatMap(ActiveCode, (code) => code.current("synthetic")).pipe(
          Effect.provide(activated.layer)
        )
        expect(found.version).toBe(1)
        expect(activated.asked.count).toBe(1)

        // Not active at the Registry either: refused after asking. Refused again within the
        // second, it waits for the next ask; two callers waiting share it.
        const inactive = catalogue({ status: "valid" })
        yield* Effect.gen(function* () {
          const code = yield* ActiveCode
          const refusal = yield* Effect.flip(code.current("synthetic"))
          expect(refusal.message).toMatch(/"synthetic" has no active version/)
          expect(inactive.asked.count).toBe(1)
          const waiting = yield* Effect.fork(
            Effect.all([Effect.flip(code.current("synthetic")), Effect.flip(code.current("synthetic"))], {
              concurrency: 2
            })
          )
          yield* TestClock.adjust("999 millis")
          expect(inactive.asked.count).toBe(1)
          expect(waiting.unsafePoll()).toBeNull()
          yield* TestClock.adjust("1 milli")
          const refusals = yield* Fiber.join(waiting)
          expect(refusals.map((r) => r._tag)).toEqual(["NotFound", "NotFound"])
          expect(inactive.asked.count).toBe(2)
          // Activated meanwhile: the next caller finds it, a second after the last ask.
          inactive.registry.status = "active"
          const later = yield* Effect.fork(code.current("synthetic"))
          yield* TestClock.adjust("1 second")
          expect((yield* Fiber.join(later)).version).toBe(1)
          expect(inactive.asked.count).toBe(3)
        }).pipe(Effect.provide(inactive.layer))
      })
  )
})
