import { SqlClient } from "@effect/sql"
import { expect, layer } from "@effect/vitest"
import { SchemaState } from "@quasar/server"
import { Effect } from "effect"
import { TYPE_ERROR_LINE, typeErrorTs, validJs } from "../fixtures/providerModules"
import { client, registryWithDataHub } from "./support"

const name = "acme" as never
const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)

layer(registryWithDataHub(), { timeout: 120_000, excludeTestServices: true })("code registry", (it) => {
  it.effect("uploads become versions validated by DataHub; identical code returns the existing version", () =>
    Effect.gen(function* () {
      yield* ready
      const api = yield* client()
      const first = yield* api.code.upload({
        path: { name },
        payload: { kind: "provider", language: "javascript", source: validJs("acme") }
      })
      expect(first.created).toBe(true)
      expect(first.version).toMatchObject({ name: "acme", version: 1, status: "valid", builtIn: false })
      expect(first.version.sha256).toMatch(/^[0-9a-f]{64}$/)
      expect(first.version.manifest).toMatchObject({ settings: [{ key: "apiKey" }, { key: "region" }] })
      expect(first.version.validation?.ok).toBe(true)

      const again = yield* api.code.upload({
        path: { name },
        payload: { kind: "provider", language: "javascript", source: validJs("acme") }
      })
      expect(again.created).toBe(false)
      expect(again.version.version).toBe(1)

      const second = yield* api.code.upload({
        path: { name },
        payload: { kind: "provider", language: "javascript", source: `${validJs("acme")}\n// v2\n` }
      })
      expect(second.version.version).toBe(2)
      const source = yield* api.code.source({ path: { name, version: 2 } })
      expect(source).toContain("// v2")
      const versions = yield* api.code.versions({ path: { name } })
      expect(versions.map((v) => v.version)).toEqual([2, 1])
    })
  )

  it.effect(
    "a TypeScript upload with a type error is invalid, reported by line, and cannot be activated",
    () =>
      Effect.gen(function* () {
        const api = yield* client()
        const bad = yield* api.code.upload({
          path: { name: "fixture-typo" as never },
          payload: { kind: "provider", language: "typescript", source: typeErrorTs }
        })
        expect(bad.version.status).toBe("invalid")
        const issue = bad.version.validation?.issues.find((i) => i.line !== undefined)
        expect(issue?.line).toBe(TYPE_ERROR_LINE)
        const refused = yield* api.code
          .activate({ path: { name: "fixture-typo" as never, version: 1 } })
          .pipe(Effect.flip)
        expect(refused._tag).toBe("Conflict")
      })
  )

  it.effect("activate, roll back and disable keep exactly one current version", () =>
    Effect.gen(function* () {
      const api = yield* client()
      yield* api.code.activate({ path: { name, version: 1 } })
      const v2 = yield* api.code.activate({ path: { name, version: 2 } })
      expect(v2.status).toBe("active")
      expect((yield* api.code.version({ path: { name, version: 1 } })).status).toBe("valid")
      const back = yield* api.code.rollback({ path: { name } })
      expect(back.version).toBe(1)
      // Nothing older than version 1: refused, saying so.
      expect(yield* api.code.rollback({ path: { name } }).pipe(Effect.flip)).toMatchObject({
        _tag: "Conflict",
        message:
          '"acme" cannot be rolled back: there is no valid version older than version 1 to roll back to'
      })
      const list = yield* api.code.list()
      expect(list.find((s) => s.name === "acme")).toMatchObject({
        activeVersion: 1,
        latestVersion: 2,
        disabled: false
      })
      const disabled = yield* api.code.disable({ path: { name } })
      expect(disabled).toMatchObject({ activeVersion: null, disabled: true })
      yield* api.code.activate({ path: { name, version: 1 } })
    })
  )

  it.effect("settings are checked against the manifest; secrets are sealed at rest and never returned", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const view = yield* api.code.updateSettings({
        path: { name },
        payload: { values: { apiKey: "s3cret", region: "us" } }
      })
      expect(view.values).toEqual({ region: "us" })
      expect(view.secretsSet).toEqual(["apiKey"])
      expect(JSON.stringify(yield* api.code.settings({ path: { name } }))).not.toContain("s3cret")
      const sql = yield* SqlClient.SqlClient
      const [row] = yield* sql<{
        secrets: Record<string, string>
      }>`SELECT secrets FROM registry.provider_settings WHERE name = 'acme'`
      expect(row?.secrets.apiKey).toMatch(/^v2:/)
      expect(JSON.stringify(row)).not.toContain("s3cret")

      const unknown = yield* api.code
        .updateSettings({ path: { name }, payload: { values: { colour: "red" } } })
        .pipe(Effect.flip)
      expect(unknown).toMatchObject({ _tag: "InvalidRequest", field: "colour" })
      const cleared = yield* api.code.updateSettings({
        path: { name },
        payload: { values: { apiKey: null } }
      })
      expect(cleared.secretsSet).toEqual([])
    })
  )

  it.effect("number settings keep to the bounds their provider declares: 400 outside, nothing saved", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const bounded = "bounded" as never
      const module = (bounds: string) => `import { defineProvider } from "@quasar/providers/sdk"
export default defineProvider({
  name: "bounded",
  displayName: "Bounded",
  version: "1.0.0",
  timeframes: ["1m"],
  settings: { updateMs: { type: "number", default: 1000, ${bounds} } },
  listAssets: async () => [],
  async *history() {}
})
`
      const uploaded = yield* api.code.upload({
        path: { name: bounded },
        payload: { kind: "provider", language: "javascript", source: module("min: 100, max: 60000") }
      })
      expect(uploaded.version.manifest).toMatchObject({
        settings: [
          {
            key: "updateMs",
            type: "number",
            default: 1000,
            min: 100,
            max: 60000,
            secret: false,
            required: false
          }
        ]
      })
      yield* api.code.activate({ path: { name: bounded, version: 1 } })
      const save = (updateMs: number) =>
        api.code.updateSettings({ path: { name: bounded }, payload: { values: { updateMs } } })
      expect((yield* save(250)).values).toEqual({ updateMs: 250 })
      for (const [value, message] of [
        [50, 'setting "updateMs" must be between 100 and 60000, got 50'],
        [60001, 'setting "updateMs" must be between 100 and 60000, got 60001']
      ] as const)
        expect(yield* Effect.flip(save(value))).toMatchObject({
          _tag: "InvalidRequest",
          field: "updateMs",
          message
        })
      expect((yield* api.code.settings({ path: { name: bounded } })).values).toEqual({ updateMs: 250 })

      // Inconsistent bounds make the version invalid, with the reason.
      const bad = yield* api.code.upload({
        path: { name: bounded },
        payload: { kind: "provider", language: "javascript", source: module("min: 2000, max: 100") }
      })
      expect(bad.version.status).toBe("invalid")
      expect(bad.version.validation?.issues.map((i) => i.message)).toContainEqual(
        expect.stringContaining("min 2000 is above max 100")
      )
    })
  )

  it.effect("a version in use by a subscription cannot be deleted; an unused one can", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const sql = yield* SqlClient.SqlClient
      yield* sql`INSERT INTO datahub.provider_subscription (provider, symbol, timeframe, mode) VALUES ('acme', 'AAA', '1h', 'history')`
      const refused = yield* api.code.deleteVersion({ path: { name, version: 1 } }).pipe(Effect.flip)
      expect(refused._tag).toBe("Conflict")
      expect(refused.message).toBe(
        'version 1 of "acme" is in use by 1 subscription: activate another version first, or delete that subscription'
      )
      yield* api.code.deleteVersion({ path: { name, version: 2 } })
      const gone = yield* api.code.version({ path: { name, version: 2 } }).pipe(Effect.flip)
      expect(gone._tag).toBe("NotFound")
    })
  )

  it.effect(
    "writes need the admin token: none → 401, a wrong one → 403; a provider cannot become a broker",
    () =>
      Effect.gen(function* () {
        const upload = {
          path: { name },
          payload: { kind: "provider" as const, language: "javascript" as const, source: "x" }
        }
        const anonymous = yield* client(null)
        expect((yield* anonymous.code.upload(upload).pipe(Effect.flip))._tag).toBe("Unauthorized")
        const wrong = yield* client("not-the-token")
        expect((yield* wrong.code.upload(upload).pipe(Effect.flip))._tag).toBe("Forbidden")
        const api = yield* client()
        const clash = yield* api.code
          .upload({
            path: { name },
            payload: { kind: "broker", language: "javascript", source: "export default 1" }
          })
          .pipe(Effect.flip)
        expect(clash._tag).toBe("Conflict")
      })
  )
})
