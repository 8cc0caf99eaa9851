/** Data explorer: the chart of stored bars, coverage, CSV, and a live bar appearing. */
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { eventually, textMatching } from "../support/eventually"
import type { Stack } from "../support/stack"
import { SERIES } from "./subscriptions"

const chart = ({ page }: Stack) =>
  page.getByRole("img", { name: new RegExp(`^${SERIES.provider} · ${SERIES.symbol} · ${SERIES.timeframe}:`) })

export const chartShowsStoredBars = async (stack: Stack) => {
  const { page, url } = stack
  await page.goto(`${url}/subscriptions`)
  await page
    .getByRole("link", { name: `${SERIES.provider} · ${SERIES.symbol} · ${SERIES.timeframe}` })
    .click()
  await page.waitForURL(/\/explorer\?/)
  // 6 hours of 1-minute bars: about 360 closed bars.
  const bars = await eventually(
    "bars on the chart",
    async () => Number(await chart(stack).getAttribute("data-bars")),
    (n) => n >= 300,
    30_000
  )
  expect(bars).toBeLessThanOrEqual(400)
  const coverage = page.getByRole("region", { name: "Coverage" })
  const text = await textMatching(coverage, /Bars stored\s*\d+/)
  expect(text).toMatch(/Gaps\s*none/)
  // How the range was collected: at least one backfill run that wrote bars.
  const runs = page.getByRole("table", { name: "Collection runs" })
  const runsText = await textMatching(runs, /backfill/)
  expect(runsText).toMatch(/ok/)
  const href = await page.getByRole("link", { name: "Download CSV" }).getAttribute("href")
  const csv = await (await page.request.get(`${url}${href}`)).text()
  expect(csv.split("\n")[0]).toBe("ts,open,high,low,close,volume,vwap,trades")
  // The range is open-ended, so the download holds what is stored when it is made: the bars the
  // chart shows, plus a bar that closed since, if a minute ended in between.
  const rows = csv.trim().split("\n").length - 1
  expect(rows - bars).toBeGreaterThanOrEqual(0)
  expect(rows - bars).toBeLessThanOrEqual(1)
  await screenshot(page, "explorer")
}

export const liveBarAppears = async (stack: Stack) => {
  const { page, url } = stack
  await page.goto(`${url}/explorer?${new URLSearchParams(SERIES)}`)
  await eventually(
    "stored bars on the chart",
    async () => Number(await chart(stack).getAttribute("data-bars")),
    (n) => n > 0
  )
  const before = (await chart(stack).getAttribute("data-last-ts")) ?? ""
  expect(before).not.toBe("")
  await page.getByLabel("Live updates").check()
  const status = page.locator("[data-live-status]")
  await textMatching(status, /Live: on · [1-9]\d* update/, 30_000)
  const after = await eventually(
    "a bar newer than the last stored one on the chart",
    async () => (await chart(stack).getAttribute("data-last-ts")) ?? "",
    (ts) => Date.parse(ts) > Date.parse(before),
    90_000
  )
  expect(Date.parse(after)).toBeGreaterThan(Date.parse(before))
  await screenshot(page, "explorer-live")
}
