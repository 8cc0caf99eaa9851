/**
 * Uploads that reach for what Node's permission model leaves open: V8 flags, the process's own
 * report and command line, the runner's verdict token and message path, the host's log fields.
 * Each is refused, the refusal is logged with the provider's name, and DataHub stays healthy.
 */
import { expect, layer } from "@effect/vitest"
import { boundedJson } from "@quasar/sandbox/node"
import { TestService } from "@quasar/server/testing"
import { Duration, Effect, Layer, Logger, LogLevel } from "effect"
import { appLayer } from "../../src/App"
import { MemoryCatalog } from "../../src/testing/MemoryCatalog"
import {
  hugeLogFields,
  hugeMalformed,
  spoofedLog,
  tokenHunt,
  v8Flags,
  verdictHijack
} from "./fixtures/escapes"
import { expectHealthy, messages, validate } from "./support"

interface Line {
  readonly message: unknown
  readonly annotations: Record<string, unknown>
}
const lines: Array<Line> = []
const capture = Logger.make((options) => {
  const { message, annotations } = Logger.structuredLogger.log(options)
  lines.push({ message, annotations })
})

const app = TestService.layer(
  appLayer({ callTimeout: Duration.seconds(2), loadTimeout: Duration.seconds(20) }).pipe(
    Layer.provideMerge(MemoryCatalog.layer)
  )
).pipe(
  Layer.provide(Logger.replace(Logger.defaultLogger, capture)),
  Layer.provide(Logger.minimumLogLevel(LogLevel.Warning))
)

const outcome = (text: string): Record<string, string> => {
  const json = /outcome (\{.*\})/.exec(text)?.[1]
  if (!json) throw new Error(`no outcome in: ${text}`)
  return JSON.parse(json)
}

layer(app, { timeout: 90_000, excludeTestServices: true })("sandbox escapes", (it) => {
  it.effect("every route to V8 flags, heap contents, setPriority and process.report is denied", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("hostile-v8", v8Flags)
      expect(report.ok).toBe(false)
      const seen = outcome(messages(report))
      expect(Object.keys(seen)).toHaveLength(14)
      for (const [route, result] of Object.entries(seen)) expect([route, result]).toEqual([route, "denied"])
      const denials = lines.filter(
        (l) => l.message === "the sandbox denied an operation" && l.annotations.provider === "hostile-v8"
      )
      expect(denials.map((l) => (l.annotations.fields as { denied: string }).denied)).toEqual(
        expect.arrayContaining([
          "v8.setFlagsFromString",
          "v8.getHeapSnapshot",
          "v8.queryObjects",
          "os.setPriority",
          "process.binding"
        ])
      )
      yield* expectHealthy
    })
  )

  it.effect("the verdict token cannot be found by reading the process about itself", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("hostile", tokenHunt)
      expect(report.ok).toBe(false)
      expect(manifest).toBeNull()
      expect(messages(report)).toBe("the module sent a malformed message: a forged Loaded")
      expect(
        lines.some(
          (l) =>
            l.message === "sandbox child ended" &&
            l.annotations.provider === "hostile" &&
            l.annotations.reason === "sent a malformed message: a forged Loaded"
        )
      ).toBe(true)
      yield* expectHealthy
    })
  )

  it.effect("the runner's verdict cannot be rewritten on its way out", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("hostile", verdictHijack)
      expect(report.ok).toBe(false)
      expect(manifest).toBeNull()
      expect(messages(report)).toMatch(/^the default export is 42, not a module definition/)
      yield* expectHealthy
    })
  )

  it.effect("provider log fields are nested: they cannot overwrite the host's own", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("hostile-log", spoofedLog)
      expect(report.ok).toBe(true)
      const line = lines.find((l) => l.message === "spoof")
      expect(line?.annotations).toMatchObject({
        provider: "hostile-log",
        sandbox: "validation of hostile-log",
        fields: { time: "1970-01-01", level: "FATAL", message: "forged", provider: "someone-else" }
      })
      for (const key of ["time", "level", "service", "message", "traceId", "spanId", "spans"])
        expect(line?.annotations).not.toHaveProperty(key)
    })
  )

  it.effect("a 50 MB typed array in a malformed message costs the host a 120-character preview", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("hostile", hugeMalformed)
      expect(messages(report)).toBe(
        'the module sent a malformed message: {"_tag":"Nope","data":"Uint8Array(52428800)"}'
      )
      yield* expectHealthy
    })
  )

  it.effect("a 50 MB typed array in log fields reaches the log as its kind and length", () =>
    Effect.gen(function* () {
      const { report } = yield* validate("hostile-big-log", hugeLogFields)
      expect(report.ok).toBe(true)
      const line = lines.find((l) => l.message === "big")
      expect(line?.annotations.fields).toEqual({ data: "Float64Array(6553600)" })
    })
  )

  it.effect("previews visit no more of a value than they show", () =>
    Effect.sync(() => {
      let reads = 0
      const counted = <T extends object>(target: T): T =>
        new Proxy(target, {
          get: (t, key, receiver) => {
            reads += 1
            return Reflect.get(t, key, receiver)
          }
        })
      const wide = counted(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`key${i}`, i])))
      const long = counted(Array.from({ length: 1_000_000 }, (_, i) => i))
      for (const value of [wide, long, { nested: [wide, long] }]) {
        reads = 0
        const { text, complete } = boundedJson(value, 120)
        expect(complete).toBe(false)
        expect(text.length).toBe(120)
        expect(reads).toBeLessThan(100)
      }
      const deep: Array<unknown> = []
      let cursor = deep
      for (let i = 0; i < 100_000; i++) {
        const next: Array<unknown> = []
        cursor.push(next)
        cursor = next
      }
      expect(boundedJson(deep, 1000).text).toContain("(nested too deep)")
      expect(boundedJson({ a: [1, "x", null, new Uint16Array(3)] }, 120)).toEqual({
        text: '{"a":[1,"x",null,"Uint16Array(3)"]}',
        complete: true
      })
    })
  )
})
