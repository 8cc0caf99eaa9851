/**
 * A version activated a moment ago is found even before the change feed brings it: refusing a
 * provider as not active, DataHub asks the Registry again first, at most once a second per name.
 */
import { describe, expect, it } from "@effect/vitest"
import { type CatalogCode, Manifest, ProviderName } from "@quasar/domain"
import { Effect, Layer, Option, Schema, TestClock } from "effect"
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
  return { layer, asked }
}

describe("the active version of a provider", () => {
  it.effect("is asked of the Registry again before it is refused, once a second per name", () =>
    Effect.gen(function* () {
      // Activated at the Registry; the cache still holds the version as merely valid.
      const activated = catalogue({ status: "active" })
      const found = yield* Effect.flatMap(ActiveCode, (code) => code.current("synthetic")).pipe(
        Effect.provide(activated.layer)
      )
      expect(found.version).toBe(1)
      expect(activated.asked.count).toBe(1)

      // Not active at the Registry either: refused, and asked again only after a second.
      const inactive = catalogue({ status: "valid" })
      yield* Effect.gen(function* () {
        const code = yield* ActiveCode
        const refusal = yield* Effect.flip(code.current("synthetic"))
        expect(refusal.message).toMatch(/"synthetic" has no active version/)
        yield* Effect.flip(code.current("synthetic"))
        expect(inactive.asked.count).toBe(1)
        yield* TestClock.adjust("1 second")
        yield* Effect.flip(code.current("synthetic"))
        expect(inactive.asked.count).toBe(2)
      }).pipe(Effect.provide(inactive.layer))
    })
  )
})
