/**
 * Assets page over tens of thousands of rows: the synthetic provider is set to list 20,000 more
 * symbols, then the page searches, filters and pages them with server paging and a total.
 */
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { textMatching } from "../support/eventually"
import type { Stack } from "../support/stack"

const EXTRA = 20_000
const symbols = () => {
  const list = ["SYN/USD", "SYN/EUR", "ACME"]
  for (let i = 0; i < EXTRA; i++)
    list.push(i % 2 === 0 ? `S${String(i).padStart(5, "0")}/USD` : `T${String(i).padStart(5, "0")}`)
  return list.join(",")
}

export const assetsSearchAndPaging = async ({ page, url, api }: Stack) => {
  await api.configure("synthetic", { symbols: symbols() })
  const refreshed = await api.refreshAssets("synthetic")
  expect(refreshed.upserted).toBeGreaterThanOrEqual(EXTRA)

  await page.goto(`${url}/assets`)
  const status = page.getByRole("main").getByRole("status").first()
  const shown = await textMatching(status, /^[\d,]+ assets/)
  const total = Number(/^([\d,]+)/.exec(shown)?.[1]?.replaceAll(",", ""))
  expect(total).toBeGreaterThan(EXTRA)

  // Filters go to the server; the total follows them.
  await page.getByLabel("Provider").selectOption("synthetic")
  await page.getByLabel("Class").selectOption("equity")
  await textMatching(status, /^10,001 assets/)
  const nav = page.getByRole("navigation", { name: "Pages" }).first()
  await nav.getByRole("button", { name: "Next" }).click()
  await textMatching(nav, /51–100 of 10,001/)
  await nav.getByRole("button", { name: "Last" }).click()
  await textMatching(nav, /10,001–10,001 of 10,001/)

  // Typing is debounced and answered quickly. A slow keystroke (a loaded machine) may let a
  // prefix's search through first; the whole word's answer is the one that stays.
  const started = Date.now()
  await page.getByRole("searchbox", { name: /Search/ }).pressSequentially("T1999", { delay: 40 })
  await textMatching(status, /^5 assets · \d+ ms/)
  expect(Date.now() - started).toBeLessThan(5_000)
  await textMatching(page.getByRole("table", { name: "Assets" }), /T19991/)
  expect(new URL(page.url()).searchParams.get("q")).toBe("T1999")
  // One match reads as one asset.
  await page.getByRole("searchbox", { name: /Search/ }).fill("T19991")
  await textMatching(status, /^1 asset · \d+ ms/)
  await screenshot(page, "assets")
}
