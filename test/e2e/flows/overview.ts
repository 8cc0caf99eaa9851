/** Overview page: the three services, the database and migrations, the subscriptions summary, live connections. */
import { CreateSubscription } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { textMatching, visibleText } from "../support/eventually"
import type { Stack } from "../support/stack"

export const overviewShowsHealth = async ({ page, url }: Stack) => {
  await page.goto(`${url}/`)
  for (const name of ["Registry", "DataHub", "Trader"]) {
    const card = page.getByRole("region", { name: `${name} health` })
    const text = await textMatching(card, /Migrations\s*version \d+ · up to date/)
    expect(text).toMatch(new RegExp(`^${name}\\s*ok`))
    expect(text).toMatch(/Database\s*up\s*postgresql/)
  }
  await page.getByRole("region", { name: "Subscriptions summary" }).waitFor()
  await textMatching(page.getByRole("main"), /No subscription is in error\./)
  await screenshot(page, "overview")
}

/** A subscription whose provider rejects the symbol for good ends in error, with the provider's words. */
export const failingSubscriptionShowsOnOverview = async ({ page, url, api }: Stack) => {
  await api.run(
    Effect.flatMap(api.datahub, (c) =>
      Effect.flatMap(
        Schema.decodeUnknown(CreateSubscription)({
          provider: "synthetic",
          symbol: "NOPE/USD",
          timeframes: ["1h"],
          mode: "history"
        }),
        (payload) => c.subscriptions.create({ payload })
      )
    )
  )
  await page.goto(`${url}/`)
  const inError = page.getByRole("table", { name: "Subscriptions in error" })
  // The overview refreshes every 10 s by itself.
  const text = await textMatching(inError, /synthetic · NOPE\/USD · 1h[\s\S]*error[\s\S]*NOPE\/USD/, 90_000)
  expect(text).toMatch(/unknown symbol NOPE\/USD/)
  await screenshot(page, "overview-with-error")
}

/** DataHub's live connections as `/live/status` reports them, with the series they carry. */
export const overviewShowsLiveConnections = async ({ page, url }: Stack) => {
  await page.goto(`${url}/`)
  const connections = page.getByRole("table", { name: "Live connections" })
  const row = connections.locator('tr[data-connection="synthetic 1m"]')
  const text = await textMatching(
    row,
    /synthetic · 1m[\s\S]*connected[\s\S]*\d+ symbols?[\s\S]*SYN\/USD/,
    30_000
  )
  expect(text).toContain("SYN/EUR")
  const summary = page.getByRole("region", { name: "Subscriptions summary" })
  expect(await visibleText(summary)).toMatch(/Live connections\s*[1-9]/)
  await textMatching(page.getByRole("table", { name: "Live series" }), /synthetic · SYN\/USD · 1m/)
  await textMatching(page.getByRole("main"), /\d+ clients? connected to the live feed\./)
  expect(await visibleText(page.getByRole("main"))).not.toMatch(/\(s\)/)
  await screenshot(page, "overview-live")
}
