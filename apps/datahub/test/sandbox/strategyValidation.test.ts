import { expect, layer } from "@effect/vitest"
import { Effect } from "effect"
import { expectHealthy, messages, testApp, validate } from "./support"

/**
 * A strategy module that forges a relay request on the IPC channel while it loads (there is no
 * `ctx` to ask) and reports the answer by throwing it. The address is public, so only the
 * strategy's lack of any network refuses it, before a connection is tried.
 */
const forgesFetch = `import { defineStrategy } from "@quasar/providers/sdk"
const reply = await new Promise((resolve) => {
  process.on("message", (m) => { if (m && m.req === 7777) resolve(m) })
  process.send({ _tag: "FetchStart", req: 7777, url: "http://93.184.215.14/", method: "GET", headers: [], redirect: "follow" })
})
throw new Error("the relay answered " + reply._tag + ": " + (reply.error ? reply.error.message : ""))
export default defineStrategy({
  name: "forger",
  version: "1.0.0",
  params: {},
  universe: { timeframe: "1m", symbols: ["BTC/USD"] },
  warmup: 0,
  onBar() {}
})
`

layer(testApp, { timeout: 90_000, excludeTestServices: true })("strategy validation", (it) => {
  it.effect("a strategy's validation has no network, even for requests it forges on the IPC channel", () =>
    Effect.gen(function* () {
      const { report, manifest } = yield* validate("forger", forgesFetch, "javascript", "strategy")
      expect(report.ok).toBe(false)
      expect(manifest).toBeNull()
      expect(messages(report)).toContain("the relay answered FetchError")
      expect(messages(report)).toContain("strategy code has no network access")
      yield* expectHealthy
    })
  )
})
