/** Subscriptions page: a refused request shows the server's reason; a backfill runs to 100 %. */
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { eventually, textMatching, visibleText } from "../support/eventually"
import type { Stack } from "../support/stack"

export const SERIES = { provider: "synthetic", symbol: "SYN/USD", timeframe: "1m" } as const

const subscribe = async ({ page }: Stack, symbol: string, mode: string, common = false) => {
  const form = page.getByRole("form", { name: "New subscription" })
  await form.getByRole("combobox", { name: "Provider" }).selectOption("synthetic")
  await form.getByRole("radio", { name: common ? "Common symbol" : "Provider symbol" }).check()
  await form.locator('input[name="symbol"]').fill(symbol)
  await form.getByLabel("Mode").selectOption(mode)
  await form.getByRole("button", { name: "6 hours" }).click()
  await form.getByRole("button", { name: "Subscribe" }).click()
  return form
}

export const refusedSubscriptionShowsTheServersReason = async (stack: Stack) => {
  await stack.page.goto(`${stack.url}/subscriptions`)
  // The synthetic provider streams live: a new subscription collects history and live by default.
  const mode = stack.page.getByRole("form", { name: "New subscription" }).getByLabel("Mode")
  await stack.page
    .getByRole("form", { name: "New subscription" })
    .getByRole("combobox", { name: "Provider" })
    .selectOption("synthetic")
  await eventually(
    "the mode follows the provider",
    () => mode.inputValue(),
    (v) => v === "both"
  )
  // A common symbol that nothing maps to synthetic: DataHub refuses it and says why.
  const form = await subscribe(stack, "NOPE/USD", "history", true)
  const alert = await textMatching(form.getByRole("alert"), /Not subscribed:/, 30_000)
  expect(alert).toContain("common symbol NOPE/USD is not mapped to a synthetic symbol")
}

export const subscribeAndWatchBackfill = async (stack: Stack) => {
  const { page, url } = stack
  await page.goto(`${url}/subscriptions`)
  const form = await subscribe(stack, SERIES.symbol, "both")
  await textMatching(form, /Subscribed: 1 series\./, 30_000)

  const row = page.locator(`tr[data-subscription="${SERIES.provider} ${SERIES.symbol} ${SERIES.timeframe}"]`)
  await row.waitFor()
  const bar = row.getByRole("progressbar", {
    name: `Backfill of ${SERIES.provider} ${SERIES.symbol} ${SERIES.timeframe}`
  })
  const seen = new Set<number>()
  await eventually(
    "backfill progress reaches 100 %",
    async () => {
      const now = Number(await bar.getAttribute("aria-valuenow"))
      seen.add(now)
      if (seen.size === 1 || (now > 0 && now < 100 && seen.size < 3))
        await screenshot(page, "subscriptions-backfilling")
      return now
    },
    (now) => now >= 100,
    120_000,
    500
  )
  expect(await visibleText(bar)).toBe("100 %")
  const state = await textMatching(row, /current|backfilling/, 30_000)
  expect(state).not.toMatch(/\berror\b/)
  await screenshot(page, "subscriptions")
}
