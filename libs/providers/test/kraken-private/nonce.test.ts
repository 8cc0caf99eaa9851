/** Nonces increase per API key, and one key's requests leave one at a time in nonce order. */
import { describe, expect, it } from "vitest"
import { KeyLane, laneOf, nextNonce } from "../../src/kraken/private/nonce"

describe("nonces", () => {
  it("are microseconds of the clock, bumped when the clock stands still or goes back", () => {
    expect(nextNonce(0, 1_700_000_000_000)).toBe(1_700_000_000_000_000)
    expect(nextNonce(1_700_000_000_000_000, 1_700_000_000_000)).toBe(1_700_000_000_000_001)
    expect(nextNonce(1_700_000_000_000_005, 1_699_999_999_000)).toBe(1_700_000_000_000_006)
    expect(nextNonce(1_700_000_000_000_005, 1_700_000_000_001)).toBe(1_700_000_000_001_000)
  })

  it("go out one request at a time, in the order asked, increasing, even when a request fails", async () => {
    const lane = new KeyLane()
    const log: Array<string> = []
    let running = 0
    const send = (i: number) => async (nonce: number) => {
      running++
      expect(running).toBe(1)
      log.push(`${i}:${nonce}`)
      await new Promise((resolve) => setTimeout(resolve, 3 - (i % 3)))
      running--
      if (i === 4) throw new Error("the request failed")
      return nonce
    }
    const results = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => lane.run(() => 5, send(i))))
    expect(log.map((l) => Number(l.split(":")[0]))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    const nonces = log.map((l) => Number(l.split(":")[1]))
    expect(nonces).toEqual(nonces.map((_, i) => 5_000 + i))
    expect(results[4]?.status).toBe("rejected")
    expect(results[9]).toEqual({ status: "fulfilled", value: 5_009 })
  })

  it("belong to the key: one lane per API key", () => {
    expect(laneOf("key-a")).toBe(laneOf("key-a"))
    expect(laneOf("key-a")).not.toBe(laneOf("key-b"))
  })
})
