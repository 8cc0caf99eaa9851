/** Debian's chromium through playwright-core (never a downloaded browser), and page screenshots. */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"
import { repoRoot } from "../../support/processes"
import { CHROMIUM } from "./prerequisites"

export const SCREENSHOTS = join(repoRoot, "test-output", "screenshots")

export const launchBrowser = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic"
    ]
  })

export const screenshot = async (page: Page, name: string) => {
  mkdirSync(SCREENSHOTS, { recursive: true })
  const path = join(SCREENSHOTS, `${name}.png`)
  await page.screenshot({ path, fullPage: true })
  return path
}

/**
 * Everything the page logged as an error, and every uncaught exception: a test fails on them.
 * Chromium also logs each 4xx answer; those are the API refusing a request, which the page shows
 * the user (and the tests check), so they are not errors of the page.
 */
export const collectPageErrors = (page: Page) => {
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`))
  page.on("console", (m) => {
    if (m.type() === "error" && !/status of 4\d\d/.test(m.text())) errors.push(`console: ${m.text()}`)
  })
  return errors
}
