import { expect, layer } from "@effect/vitest"
import { bundleUpload } from "@quasar/sandbox/node"
import { Effect } from "effect"
import {
  importsFs,
  syntaxErrorJs,
  THROWS_JS_AT,
  THROWS_TS_AT,
  TYPE_ERROR_LINE,
  throwsWhileLoadingJs,
  throwsWhileLoadingTs,
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

  it.effect("reports where a module threw while loading, as a line and column of the upload", () =>
    Effect.gen(function* () {
      const cases = [
        { name: "fixture-throws-ts", source: throwsWhileLoadingTs, language: "typescript", at: THROWS_TS_AT },
        { name: "fixture-throws-js", source: throwsWhileLoadingJs, language: "javascript", at: THROWS_JS_AT }
      ] as const
      for (const { name, source, language, at } of cases) {
        const { report } = yield* validate(name, source, language)
        expect(report.ok).toBe(false)
        expect(report.issues).toHaveLength(1)
        expect(report.issues[0]).toMatchObject({ severity: "error", ...at })
        expect(report.issues[0]?.message).toContain(`the module threw while loading (line ${at.line}`)
      }
    })
  )

  it.effect("the bundle's source map names the upload and the SDK, never a host path", () =>
    Effect.gen(function* () {
      for (const [source, language] of [
        [throwsWhileLoadingTs, "typescript"],
        [validJs("fixture-js"), "javascript"]
      ] as const) {
        const { code } = yield* bundleUpload(source, language)
        const url = /\/\/# sourceMappingURL=data:application\/json;base64,(\S+)\s*$/.exec(code)
        expect(url).not.toBeNull()
        const map = JSON.parse(Buffer.from(url?.[1] ?? "", "base64").toString("utf8"))
        expect(map.sourcesContent).toBeUndefined()
        expect(map.sourceRoot).toBeUndefined()
        expect(map.sources).toContain(language === "typescript" ? "provider.ts" : "provider.js")
        for (const s of map.sources as ReadonlyArray<string>) {
          expect(s).toMatch(/^(provider\.(ts|js)|quasar-sdk\/[\w./-]+)$/)
          expect(s).not.toContain("..")
        }
        // Nothing else in the bundle names the host's directories either.
        expect(code).not.toContain(process.cwd())
      }
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

  it.effect("rejects a default export that is not built with defineProvider, naming the builders", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("fixture-export", wrongExport)
      expect(report.ok).toBe(false)
      expect(messages(report)).toContain(`kind is undefined, expected "provider", "broker" or "strategy"`)
      expect(messages(report)).toContain(
        "defineProvider({...}), defineBroker({...}) or defineStrategy({...})"
      )
      expect(messages(report)).toContain("sdkVersion is undefined")
      // Without a kind, the fields one kind requires would only mislead.
      expect(messages(report)).not.toContain("displayName")
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
