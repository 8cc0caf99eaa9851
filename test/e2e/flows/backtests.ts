/**
 * Strategies and backtests: the README's example strategy uploaded, validated and activated, its
 * parameters shown as a form; backtested on synthetic bars with a progress bar to the end; its
 * equity curve, drawdown, trades on the price chart, trades table and statistics; a second run
 * with other parameters compared with the first.
 */
import { BacktestId, CreateSubscription, MappingInput } from "@quasar/domain"
import { Effect, Schema } from "effect"
import type { Page } from "playwright-core"
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { eventually, textMatching, visibleText } from "../support/eventually"
import type { Stack } from "../support/stack"
import { README_STRATEGY, readmeStrategy } from "./strategyModules"

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** The synthetic series the strategy's common symbol is mapped to. */
const SERIES = { provider: "synthetic", symbol: "SYN/USD", timeframe: README_STRATEGY.timeframe } as const
const BACKFILL_DAYS = 10

/**
 * Ten days of synthetic hourly bars, stored by a DataHub subscription, and the README strategy's
 * common symbol mapped to them: what a user would have set up before backtesting.
 */
const arrangeBars = async ({ api }: Stack) => {
  const mapping = Schema.decodeSync(MappingInput)({
    commonSymbol: README_STRATEGY.commonSymbol,
    source: SERIES.provider,
    symbol: SERIES.symbol
  })
  await api.run(Effect.flatMap(api.registry, (c) => c.mappings.upsert({ payload: mapping })))
  const subscription = Schema.decodeSync(CreateSubscription)({
    provider: SERIES.provider,
    symbol: SERIES.symbol,
    timeframes: [SERIES.timeframe],
    mode: "history",
    backfillFrom: new Date(Date.now() - BACKFILL_DAYS * DAY).toISOString()
  })
  await api.run(
    Effect.flatMap(api.datahub, (c) => c.subscriptions.create({ payload: subscription })).pipe(Effect.asVoid)
  )
  await eventually(
    `the ${BACKFILL_DAYS}-day backfill of ${SERIES.symbol} ${SERIES.timeframe} done`,
    () =>
      api.run(
        Effect.flatMap(api.datahub, (c) => c.subscriptions.list({ urlParams: {} })).pipe(
          Effect.map(
            (list) =>
              list.find((s) => s.symbol === SERIES.symbol && s.timeframe === SERIES.timeframe)?.state
                .backfillProgress ?? 0
          )
        )
      ),
    (progress) => progress >= 100,
    120_000,
    1_000
  )
}

/** A `datetime-local` value for an instant, in the browser's own zone (as the form reads it). */
const localInput = (page: Page, ms: number) =>
  page.evaluate((t) => new Date(t - new Date(t).getTimezoneOffset() * 60_000).toISOString().slice(0, 16), ms)

/** Answers the token dialog if this tab has no token yet (the flow may run on its own). */
export const tokenIfAsked = async (page: Page, adminToken: string, done: () => Promise<unknown>) => {
  const dialog = page.getByRole("dialog", { name: "Admin token needed" })
  const first = await Promise.race([
    dialog.waitFor({ timeout: 90_000 }).then(() => "dialog" as const),
    done().then(() => "done" as const)
  ])
  if (first === "done") return
  await dialog.getByLabel("Admin token").fill(adminToken)
  await dialog.getByRole("button", { name: "Use token" }).click()
  await done()
}

export const uploadAndActivate = async ({ page, url, adminToken }: Stack) => {
  await page.goto(`${url}/strategies`)
  await textMatching(page.getByRole("main"), /No strategy yet\./)
  const form = page.getByRole("form", { name: "Upload code" })
  expect(await form.getByLabel("Kind").inputValue()).toBe("strategy")
  expect(await form.getByLabel("Language").inputValue()).toBe("typescript")
  await form.getByRole("textbox", { name: /^Source/ }).fill(readmeStrategy())
  expect(await form.getByLabel("Name", { exact: true }).inputValue()).toBe(README_STRATEGY.name)
  await form.getByRole("button", { name: "Upload and validate" }).click()
  const result = page.getByRole("region", { name: "Upload result" })
  await tokenIfAsked(page, adminToken, () => textMatching(result, /Validation passed/, 90_000))
  expect(await visibleText(result)).toMatch(new RegExp(`${README_STRATEGY.name} version 1\\s*valid`))
  await screenshot(page, "strategies-upload")

  await page
    .getByRole("list", { name: "Strategies" })
    .getByRole("link", { name: /sma-cross/ })
    .click()
  await page.waitForURL(/\/strategies\/sma-cross$/)
  await page.getByRole("button", { name: "Activate version 1" }).click()
  await textMatching(page.getByRole("main"), /Version 1 is active\./)
  const manifest = await visibleText(page.locator("dl.manifest"))
  expect(manifest).toMatch(/Universe\s*BTC\/USD/)
  expect(manifest).toMatch(/Timeframe\s*1h/)
  expect(manifest).toMatch(/Warm-up\s*30 bars/)
  // The params form follows the manifest: labels, bounds and defaults.
  const params = page.getByRole("group", { name: "Parameters" })
  expect(await params.getByLabel(/Fast SMA/).inputValue()).toBe("10")
  expect(await params.getByLabel(/Slow SMA/).inputValue()).toBe("30")
  expect(await params.getByLabel(/Cash per entry/).inputValue()).toBe("0.95")
  expect(await visibleText(params)).toContain("Fast SMA (whole number, 2 to 200)")
  await params.getByLabel(/Fast SMA/).fill("1")
  await textMatching(params.getByRole("alert"), /Fast SMA must be at least 2, got 1/)
  await screenshot(page, "strategies")
}

/** Fills the launch form and runs it; resolves with the run's id once it has completed. */
const launch = async (stack: Stack, params: Record<string, string>, from: number, to: number) => {
  const { page } = stack
  const form = page.getByRole("form", { name: "New backtest" })
  await form.locator('select[name="provider"]').selectOption(SERIES.provider)
  await form.getByLabel("From", { exact: true }).fill(await localInput(page, from))
  await form.getByLabel("To", { exact: true }).fill(await localInput(page, to))
  const fields = form.getByRole("group", { name: "Parameters" })
  await fields.getByLabel(/Fast SMA/).waitFor()
  for (const [label, value] of Object.entries(params)) await fields.getByLabel(new RegExp(label)).fill(value)
  const runId = (url: string | URL) => /\/backtests\/(\d+)/.exec(String(url))?.[1]
  const before = runId(page.url())
  await form.getByRole("button", { name: "Run backtest" }).click()
  // The page opens the new run.
  await page.waitForURL((u) => runId(u) !== undefined && runId(u) !== before, { timeout: 30_000 })
  const id = Number(runId(page.url()))
  const run = page.getByRole("region", { name: `Run #${id}` })
  // The progress bar moves until the run ends; a run this short may end before it is seen.
  const status = await textMatching(
    run.getByRole("heading", { level: 2 }),
    /completed|failed|cancelled|interrupted/,
    120_000
  )
  if (!/completed/.test(status)) {
    const why = await run
      .getByRole("alert")
      .textContent({ timeout: 5_000 })
      .catch(() => "no reason shown")
    throw new Error(`run #${id} did not complete (${status.replace(/\s+/g, " ")}): ${why}`)
  }
  const progress = page
    .getByRole("table", { name: "Backtests" })
    .getByRole("progressbar", { name: `Progress of run ${id}` })
  await eventually(
    `run #${id}'s progress bar full in the list`,
    () => progress.getAttribute("aria-valuenow"),
    (v) => v === "100"
  )
  return { id, run }
}

export const uploadStrategyAndBacktestIt = async (stack: Stack) => {
  const { page, api } = stack
  await arrangeBars(stack)
  await uploadAndActivate(stack)

  await page.getByRole("link", { name: "Backtest", exact: true }).click()
  await page.waitForURL(/\/backtests\?strategy=sma-cross/)
  const to = Math.floor(Date.now() / HOUR) * HOUR
  const from = to - (BACKFILL_DAYS - 2) * DAY
  const first = await launch(stack, {}, from, to)

  // What the API stored is what the page shows.
  const stored = await api.run(
    Effect.flatMap(api.trader, (c) => c.backtests.get({ path: { id: BacktestId.make(first.id) } }))
  )
  const result = stored.result
  if (result === null) throw new Error(`run #${first.id} completed without a result`)
  expect(result.equity.ts.length).toBeGreaterThan(100)
  expect(result.fills.length).toBeGreaterThan(0)

  const equity = first.run.getByRole("img", { name: /^Equity curve:/ })
  await eventually(
    "the equity curve and the benchmark drawn",
    () => equity.getAttribute("data-points"),
    (p) => p === `${result.equity.ts.length},${result.equity.ts.length}`
  )
  const drawdown = first.run.getByRole("img", { name: /^Drawdown:/ })
  expect(await drawdown.getAttribute("data-points")).toBe(String(result.equity.ts.length))
  const price = first.run.getByRole("img", { name: /^BTC\/USD 1h with trades:/ })
  await eventually(
    "the price chart with a marker per fill",
    async () => [
      Number(await price.getAttribute("data-bars")),
      Number(await price.getAttribute("data-markers"))
    ],
    ([bars, markers]) => (bars ?? 0) >= result.equity.ts.length && markers === result.fills.length
  )
  const trades = first.run.getByRole("table", { name: "Trades" })
  expect(await trades.locator("tbody tr").count()).toBe(result.fills.length)
  expect(await visibleText(trades.locator("tbody tr").first())).toMatch(/BTC\/USD\s*buy/)
  const stats = await visibleText(first.run.getByRole("table", { name: "Statistics" }))
  expect(stats).toMatch(/Statistic\s*Strategy\s*Buy and hold/)
  expect(stats).toMatch(/Total return\s*-?[\d.,]+\s?%/)
  expect(stats).toMatch(new RegExp(`Trades\\s*${result.statistics.trades}\\s*—`))
  await screenshot(page, "backtest-result")

  // A faster pair of averages, then the two side by side.
  const second = await launch(stack, { "Fast SMA": "5", "Slow SMA": "20" }, from, to)
  expect(second.id).not.toBe(first.id)
  const runs = page.getByRole("table", { name: "Backtests" })
  await runs.getByRole("checkbox", { name: `Compare run ${first.id}` }).check()
  await runs.getByRole("checkbox", { name: `Compare run ${second.id}` }).check()
  const comparison = page.getByRole("region", { name: "Comparison" })
  const curves = comparison.getByRole("img", { name: /^Equity curves compared:/ })
  await eventually(
    "both equity curves on one chart",
    () => curves.getAttribute("data-points"),
    (p) => p === `${result.equity.ts.length},${result.equity.ts.length}`
  )
  const compared = await visibleText(comparison.getByRole("table", { name: "Statistics compared" }))
  expect(compared).toContain(`#${first.id} sma-cross v1`)
  expect(compared).toContain(`#${second.id} sma-cross v1`)
  expect(await visibleText(comparison)).toMatch(/params fast=5, slow=20/)
  await screenshot(page, "backtests-compare")
}
