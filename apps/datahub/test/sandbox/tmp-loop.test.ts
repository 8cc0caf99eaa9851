import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { hostile } from "./fixtures/modules"
import { messages, testApp, validate } from "./support"
import { Validator } from "../../src/sandbox/Validator"

layer(testApp, { timeout: 90_000 })("tmp", (it) => {
  it.effect("loop direct", () =>
    Effect.gen(function* () {
      const t = Date.now()
      const tick = setInterval(() => console.log("tick", Date.now() - t), 1000)
      const v = yield* Validator
      const r = yield* v.validate("hostile", "provider", "javascript", hostile.loopAtImport)
      console.log("direct took", Date.now() - t, messages(r.report))
      const r2 = yield* validate("hostile", hostile.loopAtImport).pipe(Effect.timeout("20 seconds"), Effect.either)
      clearInterval(tick)
      console.log("http took", Date.now() - t, r2._tag === "Right" ? messages(r2.right.report) : String(r2.left))
      expect(1).toBe(1)
    }), 40_000
  )
})
