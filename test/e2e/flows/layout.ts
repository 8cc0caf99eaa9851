/** On a phone the navigation folds into a menu button; every page stays reachable by keyboard. */
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import type { Stack } from "../support/stack"

export const phoneLayoutAndKeyboard = async ({ page, url }: Stack) => {
  // The same tab at phone size (headless chromium only paints the tab in front, so no second one).
  const desktop = page.viewportSize() ?? { width: 1280, height: 900 }
  await page.setViewportSize({ width: 390, height: 844 })
  try {
    await page.goto(`${url}/subscriptions`)
    const nav = page.getByRole("navigation", { name: "Main" })
    expect(await nav.isVisible()).toBe(false)
    const menu = page.getByRole("button", { name: "Menu" })
    await menu.click()
    expect(await menu.getAttribute("aria-expanded")).toBe("true")
    await nav.getByRole("link", { name: "Data explorer" }).click()
    await page.waitForURL(/\/explorer$/)
    expect(await nav.isVisible()).toBe(false)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await screenshot(page, "phone-explorer")

    // Keyboard: the skip link comes first and moves focus to the page's content.
    await page.goto(`${url}/`)
    await page.keyboard.press("Tab")
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Skip to content")
    await page.keyboard.press("Enter")
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main")
    await screenshot(page, "phone-overview")
  } finally {
    await page.setViewportSize(desktop)
  }
}
