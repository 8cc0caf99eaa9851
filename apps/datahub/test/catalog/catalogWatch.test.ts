/** The watch on the Registry's change counter, step by step, and the cache it drives. */
import { describe, expect, it } from "@effect/vitest"
import { ServiceUnavailable } from "@quasar/domain"
import { Effect, Ref } from "effect"
import * as CatalogCache from "../../src/catalog/CatalogCache"
import { initial, retryDelay, STARTUP_PATIENCE, step } from "../../src/catalog/CatalogWatch"

const answered = (
  cursor: number,
  changes: ReadonlyArray<{ topic: "code" | "assets" | "mappings"; name?: string }>,
  reset = false
) => ({ _tag: "Answered", answer: { cursor, reset, changes } }) as const
const failed = { _tag: "Failed", message: "connection refused" } as const

describe("CatalogWatch.step", () => {
  it("drops everything on the first answer, then only what each change names", () => {
    const first = step(initial, answered(7, []))
    expect(first).toMatchObject({ state: { cursor: 7, failures: 0 }, invalidate: "all", retryAfterMs: 0 })
    const next = step(first.state, answered(9, [{ topic: "code", name: "kraken" }, { topic: "mappings" }]))
    expect(next.state.cursor).toBe(9)
    expect(next.invalidate).toEqual([{ topic: "code", name: "kraken" }, { topic: "mappings" }])
    expect(next.log).toBeUndefined()
  })

  it("drops everything when the Registry cannot tell the changes since the cursor", () => {
    const known = step(initial, answered(3, [])).state
    expect(step(known, answered(1, [], true)).invalidate).toBe("all")
  })

  it("keeps the cursor through an outage, warns once, backs off, and catches up exactly", () => {
    const known = step(initial, answered(5, [])).state
    const down1 = step(known, failed)
    const down2 = step(down1.state, failed)
    const down3 = step(down2.state, failed)
    expect(down1.log?.level).toBe("warning")
    expect([down2.log, down3.log]).toEqual([undefined, undefined])
    expect([down1, down2, down3].map((s) => s.retryAfterMs)).toEqual([500, 1_000, 2_000])
    expect(down3.state).toEqual({ cursor: 5, failures: 3 })
    expect(down3.invalidate).toEqual([])
    // Back: what changed meanwhile comes from the cursor; nothing else is dropped.
    const back = step(down3.state, answered(6, [{ topic: "assets", name: "eodhd" }]))
    expect(back.invalidate).toEqual([{ topic: "assets", name: "eodhd" }])
    expect(back.log?.level).toBe("info")
    expect(back.state).toEqual({ cursor: 6, failures: 0 })
  })

  it("waits for a Registry that is starting without a warning, and warns when it never comes", () => {
    let state = initial
    const logs: Array<string | undefined> = []
    let waited = 0
    for (let i = 1; i <= STARTUP_PATIENCE + 3; i++) {
      const next = step(state, failed)
      logs.push(next.log?.level)
      if (i < STARTUP_PATIENCE) waited += next.retryAfterMs
      state = next.state
    }
    expect(logs[0]).toBe("info")
    expect(logs.filter((l) => l === "warning")).toHaveLength(1)
    expect(logs[STARTUP_PATIENCE - 1]).toBe("warning")
    // Long enough for the services to start together, short enough to tell an operator soon.
    expect(waited).toBeGreaterThanOrEqual(15_000)
    expect(waited).toBeLessThanOrEqual(30_000)
    // It answers at last: everything cached is dropped, and the recovery is said.
    const back = step(state, answered(2, []))
    expect(back.invalidate).toBe("all")
    expect(back.log?.level).toBe("info")
  })

  it("never waits longer than 5 s between asks", () => {
    expect(retryDelay(20)).toBe(5_000)
  })
})

describe("CatalogCache", () => {
  it.effect("serves a fresh value without asking, asks again once a change names it", () =>
    Effect.gen(function* () {
      const cache = CatalogCache.make()
      const asked = yield* Ref.make(0)
      const fetch = Ref.updateAndGet(asked, (n) => n + 1)
      expect(yield* cache.get("code:kraken", fetch)).toBe(1)
      expect(yield* cache.get("code:kraken", fetch)).toBe(1)
      yield* cache.invalidate(CatalogCache.touches({ topic: "code", name: "eodhd" }))
      expect(yield* cache.get("code:kraken", fetch)).toBe(1)
      yield* cache.invalidate(CatalogCache.touches({ topic: "code", name: "kraken" }))
      expect(yield* cache.get("code:kraken", fetch)).toBe(2)
    })
  )

  it.effect("serves the stale value while the Registry cannot answer, fails when it never knew", () =>
    Effect.gen(function* () {
      const cache = CatalogCache.make()
      const down = Effect.fail(new ServiceUnavailable({ message: "down" }))
      yield* cache.get("mappings", Effect.succeed(["BTC"]))
      yield* cache.invalidateAll
      expect(yield* cache.get("mappings", down)).toEqual(["BTC"])
      expect(yield* Effect.flip(cache.get("assets:kraken", down))).toMatchObject({
        _tag: "ServiceUnavailable"
      })
    })
  )

  it.effect("a fetch that raced with a change is kept stale, so the next read asks again", () =>
    Effect.gen(function* () {
      const cache = CatalogCache.make()
      const asked = yield* Ref.make(0)
      const racing = Effect.zipLeft(
        Ref.updateAndGet(asked, (n) => n + 1),
        cache.invalidate(CatalogCache.touches({ topic: "mappings" }))
      )
      expect(yield* cache.get("mappings", racing)).toBe(1)
      expect(yield* cache.get("mappings", racing)).toBe(2)
    })
  )

  it("a change names the keys it touches, and only those", () => {
    const code = CatalogCache.touches({ topic: "code", name: "kraken" })
    expect(["code:kraken", "settings:kraken", "version:kraken:3", "providers"].every(code)).toBe(true)
    expect(["code:krakenx", "assets:kraken", "mappings", "version:krakenx:1"].some(code)).toBe(false)
    const assets = CatalogCache.touches({ topic: "assets", name: "eodhd" })
    expect(["assets:eodhd", "providers"].every(assets)).toBe(true)
    expect(assets("code:eodhd")).toBe(false)
    expect(CatalogCache.touches({ topic: "mappings" })("mappings")).toBe(true)
  })
})
