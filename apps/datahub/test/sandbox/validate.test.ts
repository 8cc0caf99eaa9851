import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import {
  importsFs,
  syntaxErrorJs,
  TYPE_ERROR_LINE,
  typeErrorTs,
  validBroker,
  validJs,
  validTs,
  wrongExport
} from "./fixtures/modules"
import { expectHealthy, messages, testApp, validate } from "./support"

layer(testApp, { timeout: 90_000, excludeTestServices: true })("sandbox validation", (it) => {
  it.effect("accepts a valid JavaScript provider and decodes its manifest", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("fixture-js", validJs("fixture-js"))
      expect(messages(report)).toBe("")
      expect(report.ok).toBe(true)
      expect(manifest).toEqual({
        name: "fixture-js",
        displayName: "Fixture JS",
        version: "1.0.0",
        kind: "provider",
        capabilities: ["assets", "history"],
        timeframes: ["1m", "1h"],
        settings: [
          { key: "apiKey", type: "string", label: "API key", secret: true, required: true },
          { key: "region", type: "string", secret: false, required: false, default: "eu" }
        ]
      })
    })
  )

  it.effect("accepts a valid TypeScript provider with a live feed", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("fixture-ts", validTs, "typescript")
      expect(messages(report)).toBe("")
      expect(manifest).toMatchObject({
        name: "fixture-ts",
        capabilities: ["assets", "history", "live"],
        timeframes: ["1m", "5m", "1d"],
        settings: [{ key: "depth", type: "number", default: 10 }]
      })
    })
  )

  it.effect("accepts a broker against the broker contract (manifest and listAssets only)", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("fixture-broker", validBroker, "javascript", "broker")
      expect(messages(report)).toBe("")
      expect(manifest).toMatchObject({ kind: "broker", capabilities: ["assets"], timeframes: [] })
    })
  )

  it.effect("rejects a TypeScript type error with its line and column", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("fixture-typo", typeErrorTs, "typescript")
      expect(report.ok).toBe(false)
      expect(manifest).toBeNull()
      const [issue] = report.issues
      expect(issue).toMatchObject({ severity: "error", line: TYPE_ERROR_LINE })
      expect(issue?.column).toBeGreaterThan(0)
      expect(issue?.message).toMatch(/TS2322.*number.*string/s)
    })
  )

  it.effect("rejects a syntax error with its position", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("fixture-syntax", syntaxErrorJs)
      expect(report.ok).toBe(false)
      expect(report.issues[0]?.message).toMatch(/Unexpected|Expected/)
      expect(report.issues[0]?.line).toBeGreaterThanOrEqual(4)
    })
  )

  it.effect("rejects an import of node:fs, naming it", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("fixture-fs", importsFs)
      expect(report.ok).toBe(false)
      expect(report.issues[0]).toMatchObject({ line: 1 })
      expect(messages(report)).toContain(`import of "node:fs" is not allowed`)
    })
  )

  it.effect("rejects a default export that is not built with defineProvider", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("fixture-export", wrongExport)
      expect(report.ok).toBe(false)
      expect(messages(report)).toContain(`kind is undefined, expected "provider" or "broker"`)
      expect(messages(report)).toContain("sdkVersion is undefined")
      expect(messages(report)).toContain("displayName must be a non-empty string")
    })
  )

  it.effect("rejects a module whose name differs from the upload's", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("fixture-name", validJs("other-name"))
      expect(report.ok).toBe(false)
      expect(manifest).toBeNull()
      expect(messages(report)).toContain(
        `the module is named "other-name" but was uploaded as "fixture-name"`
      )
    })
  )

  it.effect("rejects a provider uploaded as a broker", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("fixture-js", validJs("fixture-js"), "javascript", "broker")
      expect(messages(report)).toContain("the module is a provider but was uploaded as a broker")
      yield* expectHealthy
    })
  )
})
