/**
 * Deleting a running provider version: the Registry asks DataHub (over HTTP, with the service
 * credential) whether subscriptions use it, and deletes nothing when it cannot tell.
 */
import { expect, layer } from "@effect/vitest"
import { ProviderName } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { Effect } from "effect"
import { FakeDataHub, registryClient, registryLayer, seedCode } from "./fakeDataHub"

const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)

layer(registryLayer, { timeout: 120_000 })("deleting code versions", (it) => {
  it.effect(
    "a running version in use is refused with DataHub's count; DataHub down is a 503 that deletes nothing",
    () =>
      Effect.gen(function* () {
        yield* ready
        const client = yield* registryClient()
        const fake = yield* FakeDataHub
        const name = ProviderName.make("inuse")
        yield* seedCode(name, { status: "active" })
        const path = { name, version: 1 }

        yield* fake.setSubscriptions(name, 2)
        const refused = yield* Effect.flip(client.code.deleteVersion({ path }))
        expect(refused).toMatchObject({
          _tag: "Conflict",
          message:
            'version 1 of "inuse" is in use by 2 subscriptions: activate another version first, or delete those subscriptions'
        })

        yield* fake.setSubscriptions(name, 0)
        yield* fake.cut
        const unavailable = yield* Effect.flip(client.code.deleteVersion({ path }))
        yield* fake.restore
        expect(unavailable).toMatchObject({
          _tag: "ServiceUnavailable",
          message: expect.stringContaining('whether subscriptions use "inuse"')
        })
        expect((yield* client.code.version({ path })).version).toBe(1)

        yield* client.code.deleteVersion({ path })
        expect((yield* Effect.flip(client.code.version({ path })))._tag).toBe("NotFound")
      })
  )

  it.effect("a version that does not run is deleted without asking DataHub", () =>
    Effect.gen(function* () {
      yield* ready
      const client = yield* registryClient()
      const fake = yield* FakeDataHub
      const name = ProviderName.make("idle")
      yield* seedCode(name, { status: "valid" })
      yield* fake.setSubscriptions(name, 5)
      yield* fake.cut
      yield* client.code.deleteVersion({ path: { name, version: 1 } }).pipe(Effect.ensuring(fake.restore))
      expect((yield* Effect.flip(client.code.version({ path: { name, version: 1 } })))._tag).toBe("NotFound")
    })
  )
})
