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

  // A refused mapping says what to do in the page's words, not as an HTTP route.
  const add = page.getByRole("form", { name: "Add a mapping" })
  await add.getByLabel("Source", { exact: true }).fill("kraken")
  await add.getByLabel("Source symbol").fill("XDG/EUR")
  await add.getByLabel("Common symbol").fill("DOGE/USD")
  await add.getByRole("button", { name: "Add mapping" }).click()
  const refused = await textMatching(page.getByRole("main").getByRole("alert"), /Not saved:/)
  expect(refused).toContain("remove the mapping of kraken XDG/USD first, or choose another common symbol")
  expect(refused).not.toMatch(/\b(GET|POST|PUT|DELETE) \//)
  for (const field of ["Source", "Source symbol", "Common symbol"])
    await add.getByLabel(field, { exact: true }).fill("")

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

  // A file with bad rows imports nothing and lists each bad row on a line of its own.
  const importFile = (name: string, text: string) =>
    page.getByLabel("Import CSV").setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(text) })
  await importFile(
    "bad.csv",
    "common_symbol,source,symbol\nGOOD/ONE,synthetic,SYN/EUR\nBAD,Synthetic,X\nALSO BAD,synthetic,Y\n"
  )
  const badRows = page.getByRole("list", { name: "Rows not imported" })
  await textMatching(page.getByRole("main"), /Not imported: 2 rows are not a valid mapping\./)
  const lines = await badRows.getByRole("listitem").allInnerTexts()
  expect(lines).toHaveLength(2)
  expect(lines[0]).toMatch(/^line 3: source: .*"Synthetic"$/)
  expect(lines[1]).toMatch(/^line 4: common_symbol: .*"ALSO BAD"$/)
  for (const line of lines) expect(line).not.toContain("\n")
  const good = Schema.decodeSync(MappingInput)({
    commonSymbol: "GOOD/ONE",
    source: "synthetic",
    symbol: "SYN/EUR"
  })
  const stored = await api.run(
    Effect.flatMap(api.registry, (c) => c.mappings.list({ urlParams: { commonSymbol: good.commonSymbol } }))
  )
  expect(stored).toEqual([])
  await importFile("one-bad.csv", "common_symbol,source,symbol\nBAD,Synthetic,X\n")
  await textMatching(page.getByRole("main"), /Not imported: 1 row is not a valid mapping\./)
  await screenshot(page, "mappings-import-refused")

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
