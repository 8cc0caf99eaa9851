import type { BarPoint } from "@quasar/domain"
import { describe, expect, it } from "vitest"
import { MAX_CHART_BARS, readPages } from "../src/bars/readPages"
import type { Outcome } from "../src/composables/useApi"

const bar = (i: number): BarPoint => ({
  ts: new Date(i * 60_000).toISOString(),
  open: i,
  high: i,
  low: i,
  close: i,
  volume: 0,
  vwap: null,
  trades: null
})
const pages = (sizes: ReadonlyArray<number>) => {
  const asked: Array<string | null> = []
  let start = 0
  const page = async (cursor: string | null) => {
    asked.push(cursor)
    const index = asked.length - 1
    const bars = Array.from({ length: sizes[index]! }, (_, k) => bar(start + k))
    start += bars.length
    const nextCursor = index + 1 < sizes.length ? `c${index + 1}` : null
    return { ok: true as const, value: { bars, nextCursor } } satisfies Outcome<unknown>
  }
  return { asked, page }
}

describe("reading a bars query page after page", () => {
  it("follows the cursors to the last page and reports progress", async () => {
    const { asked, page } = pages([3, 3, 1])
    const progress: Array<number> = []
    const read = await readPages(
      page,
      () => true,
      (n) => progress.push(n)
    )
    expect(read?.bars.map((b) => b.open)).toEqual([0, 1, 2, 3, 4, 5, 6])
    expect(read).toMatchObject({ error: null, truncated: false })
    expect(asked).toEqual([null, "c1", "c2"])
    expect(progress).toEqual([3, 6, 7])
  })

  it("stops at the chart's limit and says the range was cut", async () => {
    const { page } = pages([MAX_CHART_BARS, 10])
    const read = await readPages(page, () => true)
    expect(read?.bars).toHaveLength(MAX_CHART_BARS)
    expect(read?.truncated).toBe(true)
  })

  it("keeps what it read and the reason when a page fails; yields nothing once superseded", async () => {
    let calls = 0
    const failing = async (): Promise<Outcome<never>> => {
      calls++
      return { ok: false, failure: { tag: "ResponseError", message: "DataHub is down", error: null } }
    }
    expect(await readPages(failing, () => true)).toEqual({
      bars: [],
      error: "DataHub is down",
      truncated: false
    })
    expect(await readPages(pages([2, 2]).page, () => false)).toBeUndefined()
    expect(calls).toBe(1)
  })
})
