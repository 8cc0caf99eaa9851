import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { hostile } from "./fixtures/modules"
import { messages, testApp, validate } from "./support"

layer(testApp, { timeout: 90_000 })("tmp", (it) => {
  it.effect("loop", () =>
    Effect.gen(function* () {
      const t = Date.now()
      const r = yield* validate("hostile", hostile.loopAtImport).pipe(Effect.timeout("20 seconds"), Effect.either)
      console.log("took", Date.now() - t, r._tag === "Right" ? messages(r.right.report) : String(r.left))
      expect(1).toBe(1)
    }), 40_000
  )
})
