/** Providers page: upload (asking for the token once), validation reports, activation, settings. */
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { eventually, textMatching, visibleText } from "../support/eventually"
import type { Stack } from "../support/stack"
import { TYPE_ERROR_LINE, typeErrorTs, validProviderJs } from "./modules"

export const uploadValidProvider = async ({ page, url, adminToken }: Stack) => {
  await page.goto(`${url}/providers`)
  await page.getByRole("textbox", { name: /^Source/ }).fill(validProviderJs)
  // The name comes from the module's own `name:`.
  expect(await page.getByLabel("Name", { exact: true }).inputValue()).toBe("e2e-fixture")
  await page.getByRole("button", { name: "Upload and validate" }).click()

  // The first write has no token: the server refuses it and the dialog asks once.
  const dialog = page.getByRole("dialog", { name: "Admin token needed" })
  await dialog.waitFor()
  expect(await visibleText(dialog.getByRole("alert"))).not.toBe("")
  await dialog.getByLabel("Admin token").fill(adminToken)
  await dialog.getByRole("button", { name: "Use token" }).click()

  const result = page.getByRole("region", { name: "Upload result" })
  await textMatching(result, /Validation passed/, 60_000)
  expect(await visibleText(result)).toMatch(/e2e-fixture version 1\s*valid/)
  await screenshot(page, "providers-upload-valid")

  // Activate it, set its secret, and list its assets: the name proves the secret reached it.
  await page.getByRole("link", { name: /E2E Fixture/ }).click()
  await page.getByRole("button", { name: "Activate version 1" }).click()
  await textMatching(page.getByRole("main"), /Version 1 is active\./)
  expect(await dialog.isVisible()).toBe(false)

  const settings = page.getByRole("form", { name: "Settings" })
  expect(await visibleText(settings)).toMatch(/API key[\s\S]*not set/)
  await settings.getByLabel(/API key/).fill("s3cret")
  await settings.getByRole("button", { name: "Save settings" }).click()
  await textMatching(page.getByRole("main"), /Settings saved\./)
  // Write-only: once saved, the field is empty again and only says that a value is set.
  await settings.getByText("set", { exact: true }).waitFor()
  await eventually(
    "the secret field cleared",
    () => settings.getByLabel(/API key/).inputValue(),
    (v) => v === ""
  )

  await page.getByRole("button", { name: "Refresh assets" }).click()
  await textMatching(
    page.getByRole("main"),
    /Assets refreshed: \d+ listed, 1 stored, 0 delisted, 1 rejected\./,
    60_000
  )
  await page.getByRole("link", { name: "Assets", exact: true }).last().click()
  await textMatching(page.getByRole("table", { name: "Assets" }), /AAA[\s\S]*eu, key ok/)
  await page.goto(`${url}/providers/e2e-fixture`)
  await page.getByRole("table", { name: "Versions" }).waitFor()
  await screenshot(page, "providers")
}

export const uploadProviderWithTypeError = async ({ page, url }: Stack) => {
  await page.goto(`${url}/providers/e2e-fixture`)
  await page.getByRole("button", { name: "Upload code" }).click()
  await page.getByLabel("Language").selectOption("typescript")
  await page.getByRole("textbox", { name: /^Source/ }).fill(typeErrorTs)
  await page.getByRole("button", { name: "Upload and validate" }).click()

  const result = page.getByRole("region", { name: "Upload result" })
  const text = await textMatching(result, /Validation failed/, 60_000)
  expect(text).toMatch(/e2e-typo version 1\s*invalid/)
  expect(text).toContain(`line ${TYPE_ERROR_LINE}`)
  // The report quotes the offending line of what was uploaded.
  expect(text).toContain(`${TYPE_ERROR_LINE} | listAssets: async () => [{ symbol: 42 }],`)

  // Clicking the line puts the caret on it in the editor.
  await result
    .getByRole("button", { name: new RegExp(`line ${TYPE_ERROR_LINE}`) })
    .first()
    .click()
  const selected = await page
    .getByRole("textbox", { name: /^Source/ })
    .evaluate((el) =>
      el instanceof HTMLTextAreaElement ? el.value.slice(el.selectionStart, el.selectionEnd) : ""
    )
  expect(selected.trim()).toBe("listAssets: async () => [{ symbol: 42 }],")
  await screenshot(page, "providers-upload-invalid")
}
