import { expect, layer } from "@effect/vitest"
import type { CodeVersion } from "@quasar/domain"
import { SchemaState } from "@quasar/server"
import { Effect } from "effect"
import { validJs } from "../fixtures/providerModules"
import {
  badDefaultsTs,
  notAStrategyJs,
  readmeStrategy,
  readmeStrategyV2,
  STRATEGY_TYPE_ERROR_LINE,
  strategyTypeErrorTs,
  THROWS_AT_LOAD_LINE,
  throwsAtLoadTs
} from "../fixtures/strategyModules"
import { client, registryWithDataHub } from "./support"

const ready = Effect.flatMap(SchemaState.SchemaState, (s) => s.ready)
const smaCross = "sma-cross" as never

const upload = (name: string, source: string, language: "typescript" | "javascript" = "typescript") =>
  Effect.flatMap(client(), (api) =>
    api.code.upload({ path: { name: name as never }, payload: { kind: "strategy", language, source } })
  )

const messages = (version: CodeVersion) => version.validation?.issues.map((i) => i.message) ?? []

layer(registryWithDataHub(), { timeout: 120_000, excludeTestServices: true })("strategy code", (it) => {
  it.effect("the README's strategy uploads valid, activates, takes a v2 and rolls back to v1", () =>
    Effect.gen(function* () {
      yield* ready
      const api = yield* client()
      const first = yield* upload("sma-cross", readmeStrategy())
      expect(messages(first.version)).toEqual([])
      expect(first.version).toMatchObject({
        name: "sma-cross",
        kind: "strategy",
        version: 1,
        status: "valid"
      })
      expect(first.version.manifest).toEqual({
        kind: "strategy",
        name: "sma-cross",
        version: "1.0.0",
        params: [
          { key: "fast", type: "integer", default: 10, min: 2, max: 200, label: "Fast SMA" },
          { key: "slow", type: "integer", default: 30, min: 3, max: 500, label: "Slow SMA" },
          { key: "fraction", type: "number", default: 0.95, min: 0.01, max: 1, label: "Cash per entry" }
        ],
        universe: { timeframe: "1h", symbols: ["BTC/USD"] },
        warmup: 30
      })

      expect((yield* api.code.activate({ path: { name: smaCross, version: 1 } })).status).toBe("active")
      const second = yield* upload("sma-cross", readmeStrategyV2())
      expect(second.version).toMatchObject({ version: 2, status: "valid", manifest: { version: "1.1.0" } })
      yield* api.code.activate({ path: { name: smaCross, version: 2 } })
      expect((yield* api.code.version({ path: { name: smaCross, version: 1 } })).status).toBe("valid")

      const back = yield* api.code.rollback({ path: { name: smaCross } })
      expect(back).toMatchObject({ version: 1, status: "active" })
      expect((yield* api.code.version({ path: { name: smaCross, version: 2 } })).status).toBe("valid")
      const summary = (yield* api.code.list()).find((s) => s.name === "sma-cross")
      expect(summary).toMatchObject({ kind: "strategy", activeVersion: 1, latestVersion: 2, disabled: false })
    })
  )

  it.effect("settings, an asset refresh and mappings refuse a strategy with a 409 that says why", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const because = { _tag: "Conflict", message: expect.stringContaining("sma-cross is a strategy") }
      expect(yield* api.code.settings({ path: { name: smaCross } }).pipe(Effect.flip)).toMatchObject({
        _tag: "Conflict",
        message: '"sma-cross" is a strategy and has no settings: give its params with each backtest instead'
      })
      expect(
        yield* api.code
          .updateSettings({ path: { name: smaCross }, payload: { values: { fast: 5 } } })
          .pipe(Effect.flip)
      ).toMatchObject({ _tag: "Conflict" })
      expect(yield* api.assets.refresh({ path: { provider: smaCross } }).pipe(Effect.flip)).toMatchObject(
        because
      )
      const mapping = { commonSymbol: "BTC/USD", source: smaCross, symbol: "BTC/USD" }
      expect(yield* api.mappings.upsert({ payload: mapping }).pipe(Effect.flip)).toMatchObject(because)
      const bulk = yield* api.mappings.bulk({ payload: { mappings: [mapping] } })
      expect(bulk).toMatchObject({ created: 0, conflicts: [{ message: because.message }] })
      expect(yield* api.mappings.list({ urlParams: { source: smaCross } })).toEqual([])
    })
  )

  it.effect("a type error in a strategy is invalid, reported by line, and cannot be activated", () =>
    Effect.gen(function* () {
      const api = yield* client()
      const bad = yield* upload("typo-strategy", strategyTypeErrorTs)
      expect(bad.version.status).toBe("invalid")
      const issue = bad.version.validation?.issues.find((i) => i.line !== undefined)
      expect(issue).toMatchObject({
        line: STRATEGY_TYPE_ERROR_LINE,
        message: expect.stringContaining('"hold"')
      })
      const refused = yield* api.code
        .activate({ path: { name: "typo-strategy" as never, version: 1 } })
        .pipe(Effect.flip)
      expect(refused._tag).toBe("Conflict")
    })
  )

  it.effect("a default export that is not a strategy, or a provider uploaded as one, is invalid", () =>
    Effect.gen(function* () {
      const plain = yield* upload("plain", notAStrategyJs, "javascript")
      expect(plain.version.status).toBe("invalid")
      expect(messages(plain.version)).toEqual([
        `the default export's kind is undefined, expected "provider", "broker" or "strategy": build it with defineProvider({...}), defineBroker({...}) or defineStrategy({...}) from @quasar/providers/sdk`,
        expect.stringMatching(/^sdkVersion is undefined/)
      ])
      const provider = yield* upload("acme", validJs("acme"), "javascript")
      expect(provider.version.status).toBe("invalid")
      expect(messages(provider.version)).toContainEqual(
        "the module is a provider but was uploaded as a strategy: build it with defineStrategy or upload it as a provider"
      )
    })
  )

  it.effect("params whose defaults break their own spec make the version invalid, naming each", () =>
    Effect.gen(function* () {
      const bad = yield* upload("bad-defaults", badDefaultsTs)
      expect(bad.version.status).toBe("invalid")
      expect(bad.version.manifest).toBeNull()
      expect(messages(bad.version)).toEqual([
        "params: the default of fast must be at least 2 (got 1)",
        'params: the default of mode must be one of "long", "flat"'
      ])
    })
  )

  it.effect("a strategy that throws while loading is invalid, with the line that threw", () =>
    Effect.gen(function* () {
      const bad = yield* upload("throws-at-load", throwsAtLoadTs)
      expect(bad.version.status).toBe("invalid")
      const [issue] = bad.version.validation?.issues ?? []
      expect(issue).toMatchObject({
        line: THROWS_AT_LOAD_LINE,
        message: expect.stringContaining("the module threw while loading")
      })
      expect(issue?.message).toContain("lookup table is empty")
    })
  )
})
