/** How the Registry answers a wait for changes, from what its change events hold. */
import { describe, expect, it } from "vitest"
import { answer } from "../src/CatalogChanges"

const row = (id: number, channel: string, name: string | null = null) => ({ id, channel, name })

describe("CatalogChanges.answer", () => {
  it("a first ask gets the newest id and a reset", () => {
    expect(answer(undefined, { latest: 42, oldest: 1, rows: [], full: false })).toEqual({
      cursor: 42,
      reset: true,
      changes: []
    })
  })

  it("names each change after the cursor by topic; the counter moves to the newest id", () => {
    const events = {
      latest: 12,
      oldest: 1,
      rows: [row(9, "code", "kraken"), row(10, "assets", "eodhd"), row(11, "mappings")],
      full: false
    }
    expect(answer(8, events)).toEqual({
      cursor: 12,
      reset: false,
      changes: [{ topic: "code", name: "kraken" }, { topic: "assets", name: "eodhd" }, { topic: "mappings" }]
    })
  })

  it("a full page moves the counter only to its last change", () => {
    expect(
      answer(0, { latest: 900, oldest: 1, rows: [row(1, "code", "a"), row(2, "code", "b")], full: true })
        .cursor
    ).toBe(2)
  })

  it("resets a counter ahead of the newest id (another database) or behind the pruned ones", () => {
    expect(answer(50, { latest: 12, oldest: 1, rows: [], full: false }).reset).toBe(true)
    expect(answer(5, { latest: 120, oldest: 100, rows: [], full: false }).reset).toBe(true)
    expect(answer(99, { latest: 120, oldest: 100, rows: [], full: false }).reset).toBe(false)
    // Nothing was ever published: nothing can have been missed.
    expect(answer(0, { latest: 0, oldest: 0, rows: [], full: false })).toEqual({
      cursor: 0,
      reset: false,
      changes: []
    })
  })
})
