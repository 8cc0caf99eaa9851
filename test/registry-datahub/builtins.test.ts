import { expect, layer } from "@effect/vitest"
import { Effect, Schedule } from "effect"
import * as BundledBuiltins from "../../apps/registry/src/node/bundleBuiltins"
import { client, registryWithDataHub } from "./support"

layer(registryWithDataHub(BundledBuiltins.layer), { timeout: 120_000, excludeTestServices: true })(
  "built-in providers and brokers",
  (it) => {
    it.effect(
      "are registered on first start through upload and validation, activated, and list their assets",
      () =>
        Effect.gen(function* () {
          const api = yield* client()
          const list = yield* api.code.list().pipe(
            Effect.filterOrFail((l) => l.filter((s) => s.builtIn && s.activeVersion === 1).length === 4),
            Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("90 seconds")))
          )
          expect(list.map((s) => s.name).sort()).toEqual(["eodhd", "kraken", "kraken-broker", "synthetic"])
          expect(list.find((s) => s.name === "kraken-broker")).toMatchObject({
            kind: "broker",
            activeVersion: 1
          })
          const broker = yield* api.code.version({ path: { name: "kraken-broker" as never, version: 1 } })
          expect(broker.validation?.ok).toBe(true)
          expect(broker.manifest).toMatchObject({ kind: "broker", name: "kraken-broker" })
          const kraken = yield* api.code.version({ path: { name: "kraken" as never, version: 1 } })
          expect(kraken.validation?.ok).toBe(true)
          expect(kraken.manifest).toMatchObject({
            name: "kraken",
            capabilities: expect.arrayContaining(["live"])
          })
          const source = yield* api.code.source({ path: { name: "kraken" as never, version: 1 } })
          expect(source).toContain('from "@quasar/providers/sdk"')

          // Activation lists the assets (synthetic needs no network).
          const page = yield* api.assets
            .search({ urlParams: { provider: "synthetic" as never, limit: 50, offset: 0 } })
            .pipe(
              Effect.filterOrFail((p) => p.total >= 3),
              Effect.retry(Schedule.spaced("500 millis").pipe(Schedule.upTo("30 seconds")))
            )
          expect(page.items.map((a) => a.symbol)).toEqual(
            expect.arrayContaining(["SYN/USD", "SYN/EUR", "ACME"])
          )
        })
    )
  }
)
