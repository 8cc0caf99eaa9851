/** Mappings page: fix a wrong mapping in place, accept suggestions one and then in bulk, CSV in/out. */
import { MappingInput } from "@quasar/domain"
import { Effect, Schema } from "effect"
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { eventually, textMatching } from "../support/eventually"
import type { Stack } from "../support/stack"

export const fixMappingsAndAcceptSuggestions = async ({ page, url, api }: Stack) => {
  // Arrange: someone mapped Kraken's Dogecoin pair to a wrong common symbol.
  const wrong = Schema.decodeSync(MappingInput)({
    commonSymbol: "DOGE-WRONG",
    source: "kraken",
    symbol: "XDG/USD"
  })
  await api.run(Effect.flatMap(api.registry, (c) => c.mappings.upsert({ payload: wrong })))

  await page.goto(`${url}/mappings`)
  await page.getByRole("searchbox", { name: "Filter" }).fill("wrong")
  const table = page.getByRole("table", { name: "Mappings", exact: true })
  await textMatching(table, /DOGE-WRONG[\s\S]*kraken[\s\S]*XDG\/USD/)
  await page.getByRole("button", { name: "Edit kraken XDG/USD" }).click()
  const input = page.getByLabel("Common symbol for kraken XDG/USD")
  expect(await input.evaluate((el) => el === document.activeElement)).toBe(true)
  await input.fill("DOGE/USD")
  await input.press("Enter")
  await textMatching(page.getByRole("main"), /kraken XDG\/USD now maps to DOGE\/USD\./)
  await page.getByRole("searchbox", { name: "Filter" }).fill("XDG")
  await textMatching(table, /DOGE\/USD[\s\S]*kraken[\s\S]*XDG\/USD/)

  // Suggestions from the fake Kraken and EODHD listings: one accepted alone, the rest in bulk.
  const suggestions = page.getByRole("table", { name: "Suggested mappings" })
  await textMatching(suggestions, /BTC\/USD[\s\S]*XBT\/USD/)
  const before = await suggestions.locator("tbody tr").count()
  expect(before).toBeGreaterThan(1)
  await screenshot(page, "mappings-suggestions")
  await page.getByRole("button", { name: "Accept kraken XBT/USD → BTC/USD" }).click()
  await textMatching(page.getByRole("main"), /kraken XBT\/USD now maps to BTC\/USD\./)
  const rest = await eventually(
    "one suggestion fewer",
    () => suggestions.locator("tbody tr").count(),
    (n) => n === before - 1
  )
  await page.getByLabel(/Select all/).check()
  await page.getByRole("button", { name: `Accept ${rest} selected` }).click()
  await textMatching(page.getByRole("main"), new RegExp(`Suggestions: ${rest} created, 0 unchanged\\.`))
  await suggestions.waitFor({ state: "detached" })

  // CSV import, then the export holds what was fixed.
  await page.getByLabel("Import CSV").setInputFiles({
    name: "extra.csv",
    mimeType: "text/csv",
    buffer: Buffer.from("common_symbol,source,symbol\nACME,synthetic,ACME\n")
  })
  await textMatching(page.getByRole("main"), /Imported extra\.csv: 1 created, 0 unchanged\./)
  const href = await page.getByRole("link", { name: "Export CSV" }).getAttribute("href")
  const csv = await (await page.request.get(`${url}${href}`)).text()
  expect(csv).toContain("DOGE/USD,kraken,XDG/USD")
  expect(csv).toContain("ACME,synthetic,ACME")
  await page.getByRole("searchbox", { name: "Filter" }).fill("")
  await screenshot(page, "mappings")
}
