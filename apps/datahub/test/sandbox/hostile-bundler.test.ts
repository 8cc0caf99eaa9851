/**
 * The bundler (esbuild's service process) is shared by every validation and sandbox start: an
 * upload that would kill it is refused before it reaches it, and one that kills it anyway
 * leaves a restarted bundler behind, with the death in /health.
 */
import { expect, layer } from "@effect/vitest"
import { MAX_NESTING } from "@quasar/sandbox"
import { build } from "@quasar/sandbox/node"
import { Effect } from "effect"
import { validJs, validTs } from "./fixtures/modules"
import { client, messages, testApp, validate } from "./support"

/** About 600 KB of brackets nested as deep as that allows: enough to overflow esbuild's parser stack. */
const deep = (open: string, close: string) => {
  const levels = Math.floor(600_000 / (open.length + close.length))
  return `export const data = ${open.repeat(levels)}${close.repeat(levels)}\n`
}

const bundlerLine = Effect.gen(function* () {
  const health = yield* Effect.flatMap(client, (c) => c.health.health())
  expect(health.status).toBe("ok")
  return health.components?.find((c) => c.name === "bundler")
})

layer(testApp, { timeout: 120_000, excludeTestServices: true })("the bundler", (it) => {
  it.effect(
    "deep nesting of any bracket, in JS or TS, is refused before any parser sees it",
    () =>
      Effect.gen(function* () {
        for (const [open, close] of [
          ["[", "]"],
          ["(", ")"],
          ["{a:", "}"],
          ["`${", "}`"]
        ] as const)
          for (const language of ["javascript", "typescript"] as const) {
            const { report } = yield* validate("hostile", deep(open, close) + validJs("hostile"), language)
            expect(messages(report)).toBe(
              `the source nests brackets more than ${MAX_NESTING} levels deep: flatten it (deeply nested data belongs in a flat table or a string)`
            )
          }
        expect(yield* bundlerLine).toEqual({ name: "bundler", status: "up", detail: null })
      }),
    120_000
  )

  it.effect(
    "a bundler killed by an input is restarted; validations and /health go on",
    () =>
      Effect.gen(function* () {
        const died = yield* Effect.promise(() =>
          build(
            {
              stdin: { contents: deep("[", "]"), loader: "js" },
              bundle: true,
              write: false,
              logLevel: "silent"
            },
            "a test input"
          ).then(
            () => "survived",
            (e: Error) => e.message
          )
        )
        expect(died).toBe("the bundler (esbuild) crashed while building a test input; it was restarted")
        const line = yield* bundlerLine
        expect(line?.status).toBe("up")
        expect(line?.detail).toMatch(/^died 1 time, last at .* while building a test input; restarted$/)
        const ts = yield* validate("fixture-ts", validTs, "typescript")
        expect(ts.report.issues).toEqual([])
        const js = yield* validate("fixture-js", validJs("fixture-js"))
        expect(js.report.ok).toBe(true)
      }),
    120_000
  )

  it.effect(
    "an upload that gets past the nesting guard and kills the bundler is reported, not a failure of DataHub",
    () =>
      Effect.gen(function* () {
        // The guard does not parse: a regex holding "/*" reads to it as a comment that hides the nesting.
        const disguised = `const r = /\\/*/\n${deep("[", "]")}const s = "*/"\n${validJs("hostile")}`
        const { report } = yield* validate("hostile", disguised)
        expect(messages(report)).toBe(
          "the bundler (esbuild) crashed while building an upload; it was restarted: simplify the module (it is likely nested too deeply)"
        )
        expect((yield* bundlerLine)?.detail).toMatch(
          /^died \d+ times?, last at .* while building an upload; restarted$/
        )
        const { report: next } = yield* validate("fixture-js", validJs("fixture-js"))
        expect(next.ok).toBe(true)
      }),
    120_000
  )
})
