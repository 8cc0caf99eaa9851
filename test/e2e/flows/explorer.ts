/** Data explorer: the chart of stored bars, coverage, CSV, a week that fits, and live bars. */
import { CreateSubscription } from "@quasar/domain"
import { Effect, Schema } from "effect"
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

const WEEK = { provider: "synthetic", symbol: "SYN/EUR", timeframe: "1m" } as const
const DAY = 86_400_000

const weekChart = ({ page }: Stack) =>
  page.getByRole("img", { name: new RegExp(`^${WEEK.provider} · ${WEEK.symbol} · ${WEEK.timeframe}:`) })

/** What the chart element says about itself: bars, the last one, and the time range on screen. */
const chartState = async (stack: Stack) => {
  const el = weekChart(stack)
  const [bars, last, from, to] = await Promise.all(
    ["data-bars", "data-last-ts", "data-visible-from", "data-visible-to"].map((a) => el.getAttribute(a))
  )
  return { bars: Number(bars), last: last ?? "", from: Date.parse(from ?? ""), to: Date.parse(to ?? "") }
}

/**
 * "Last 1 week" of 1-minute bars is 10,080 candles, more than a chart can show: it is resampled
 * to 15-minute bars, and the whole week is on screen (not the day and a half that fit before).
 */
export const weekRangeFitsTheChart = async (stack: Stack) => {
  const { page, url, api } = stack
  const since = Date.now() - 8 * DAY
  await api.run(
    Effect.flatMap(api.datahub, (c) =>
      Effect.flatMap(
        Schema.decodeUnknown(CreateSubscription)({
          ...WEEK,
          timeframes: [WEEK.timeframe],
          mode: "both",
          backfillFrom: new Date(since).toISOString()
        }),
        (payload) => c.subscriptions.create({ payload: { ...payload } })
      )
    ).pipe(Effect.asVoid)
  )
  await eventually(
    "the 8-day backfill of SYN/EUR done",
    () =>
      api.run(
        Effect.flatMap(api.datahub, (c) => c.subscriptions.list({ urlParams: {} })).pipe(
          Effect.map((list) => list.find((s) => s.symbol === WEEK.symbol)?.state.backfillProgress ?? 0)
        )
      ),
    (progress) => progress >= 100,
    120_000,
    1_000
  )

  await page.goto(`${url}/explorer?${new URLSearchParams(WEEK)}`)
  await page.getByRole("button", { name: "Last 1 week" }).click()
  const status = page.locator("[data-bars-status]")
  const text = await textMatching(status, /^\d+ bars of 15m · resampled from 1m to fit the range$/, 30_000)
  const shown = Number(/^(\d+)/.exec(text)?.[1])
  // 7 days of 15-minute buckets, the first and the newest possibly partial.
  expect(shown).toBeGreaterThanOrEqual(672)
  expect(shown).toBeLessThanOrEqual(673)
  const fitted = await eventually(
    "the chart showing the whole week",
    () => chartState(stack),
    (s) => s.bars === shown && s.to - s.from >= 6.9 * DAY
  )
  expect(Date.parse(fitted.last) % (15 * 60_000)).toBe(0)
  await screenshot(page, "explorer-week")

  // Asked for 1-minute bars, the chart still fits all 10,080 of them.
  await page.getByRole("combobox", { name: /^Bars/ }).selectOption("1m")
  await textMatching(status, /^10,0[78]\d bars of 1m$/, 30_000)
  await eventually(
    "the chart showing the whole week of 1-minute bars",
    () => chartState(stack),
    (s) => s.bars >= 10_070 && s.to - s.from >= 6.9 * DAY
  )

  // Live bars update the newest 15-minute bucket in place.
  await page.getByRole("combobox", { name: /^Bars/ }).selectOption("auto")
  await textMatching(status, /bars of 15m/, 30_000)
  const before = await chartState(stack)
  await page.getByLabel("Live updates").check()
  await textMatching(page.locator("[data-live-status]"), /Live: on · [1-9][\d,]* updates?/, 30_000)
  const after = await eventually(
    "a live update on the resampled chart",
    () => chartState(stack),
    (s) => s.bars >= before.bars && Date.parse(s.last) >= Date.parse(before.last)
  )
  expect(Date.parse(after.last) % (15 * 60_000)).toBe(0)
  await page.getByLabel("Live updates").uncheck()
}
