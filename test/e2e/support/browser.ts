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
  await page.screenshot({ path, fullPage: true, animations: "disabled", caret: "hide", timeout: 20_000 })
  return path
}

/**
 * Everything the page logged as an error, and every uncaught exception: a test fails on them.
 * Chromium also logs every HTTP error answer ("Failed to load resource"); those are the API
 * refusing or failing a request, which the page shows the user (and the tests check what it
 * shows), so they are not errors of the page.
 */
export const collectPageErrors = (page: Page) => {
  const errors: Array<string> = []
  page.on("pageerror", (e) => errors.push(`uncaught: ${e.message}`))
  page.on("console", (m) => {
    if (
      m.type() === "error" &&
      !m.text().startsWith("Failed to load resource: the server responded with a status of")
    )
      errors.push(`console: ${m.text()}`)
  })
  return errors
}
