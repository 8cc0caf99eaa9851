/** On a phone the navigation folds into a menu button; every page stays reachable by keyboard. */
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import type { Stack } from "../support/stack"

export const phoneLayoutAndKeyboard = async ({ browser, url }: Stack) => {
  const phone = await browser.newPage({
    viewport: { width: 390, height: 844 },
    isMobile: true,
    hasTouch: true
  })
  try {
    await phone.goto(`${url}/subscriptions`)
    const nav = phone.getByRole("navigation", { name: "Main" })
    expect(await nav.isVisible()).toBe(false)
    const menu = phone.getByRole("button", { name: "Menu" })
    await menu.click()
    expect(await menu.getAttribute("aria-expanded")).toBe("true")
    await nav.getByRole("link", { name: "Data explorer" }).click()
    await phone.waitForURL(/\/explorer$/)
    expect(await nav.isVisible()).toBe(false)
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    expect(overflow).toBeLessThanOrEqual(0)
    await screenshot(phone, "phone-explorer")

    // Keyboard: the skip link comes first, then the navigation.
    await phone.goto(`${url}/`)
    await phone.keyboard.press("Tab")
    expect(await phone.evaluate(() => document.activeElement?.textContent?.trim())).toBe("Skip to content")
    await screenshot(phone, "phone-overview")
  } finally {
    await phone.close()
  }
}
