/** Providers page: upload (asking for the token once), validation reports, activation, rollback, settings. */
import { ProviderName } from "@quasar/domain"
import { Effect } from "effect"
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
  // Only one version: nothing to roll back to, and the page says why.
  expect(await page.getByRole("button", { name: "Roll back" }).isDisabled()).toBe(true)
  await textMatching(
    page.getByRole("main"),
    /Nothing to roll back to: there is no valid version older than version 1/
  )

  const settings = page.getByRole("form", { name: "Settings" })
  expect(await visibleText(settings)).toMatch(/API key[\s\S]*not set/)
  await settings.getByLabel(/API key/).fill("s3cret")
  await settings.getByRole("button", { name: "Save settings" }).click()
  // The key decides what the provider lists: saving it refreshed the asset list.
  await textMatching(
    page.getByRole("main"),
    /Settings saved; assets refreshed: 1 listed, 1 stored, 0 delisted, 1 rejected\./,
    60_000
  )
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

/**
 * Roll back is offered only when there is a version to roll back to; a settings save refreshes
 * what the provider lists; a number setting keeps to the bounds its provider declares.
 */
export const rollBackAndSettings = async ({ page, url, api }: Stack) => {
  // A second version of the fixture, active: version 1 is there to roll back to.
  await api.run(
    Effect.flatMap(api.registry, (c) =>
      Effect.flatMap(
        c.code.upload({
          path: { name: ProviderName.make("e2e-fixture") },
          payload: { kind: "provider", language: "javascript", source: `${validProviderJs}// v2\n` }
        }),
        (uploaded) =>
          c.code.activate({ path: { name: uploaded.version.name, version: uploaded.version.version } })
      )
    )
  )
  await page.goto(`${url}/providers/e2e-fixture`)
  const rollBack = page.getByRole("button", { name: "Roll back to v1" })
  await rollBack.click()
  await textMatching(page.getByRole("main"), /Rolled back: version 1 is active\./)
  const nothing = page.getByRole("button", { name: "Roll back" })
  await eventually(
    "Roll back disabled again",
    () => nothing.isDisabled(),
    (d) => d
  )
  await textMatching(page.getByRole("main"), /Nothing to roll back to/)

  // The region is part of what the fixture lists: saving it lists the assets again.
  const settings = page.getByRole("form", { name: "Settings" })
  await settings.getByLabel("Region").fill("us")
  await settings.getByRole("button", { name: "Save settings" }).click()
  await textMatching(page.getByRole("main"), /Settings saved; assets refreshed: 1 listed, 1 stored/, 60_000)
  await page.goto(`${url}/assets?provider=e2e-fixture`)
  await textMatching(page.getByRole("table", { name: "Assets" }), /AAA[\s\S]*us, key ok/)

  // The synthetic provider's update interval is at least 100 ms: the form says so and holds.
  await page.goto(`${url}/providers/synthetic`)
  const synthetic = page.getByRole("form", { name: "Settings" })
  const interval = synthetic.getByLabel(/Live update interval/)
  expect(await visibleText(synthetic)).toMatch(/Live update interval \(ms\)\s*\(at least 100\)/)
  await interval.fill("50")
  const problem = await textMatching(synthetic.getByRole("alert"), /must be at least 100, got 50/)
  expect(problem).toBe("Live update interval (ms) must be at least 100, got 50")
  expect(await synthetic.getByRole("button", { name: "Save settings" }).isDisabled()).toBe(true)
  await screenshot(page, "providers-settings-bounds")
  await interval.fill("250")
  await synthetic.getByRole("button", { name: "Save settings" }).click()
  await textMatching(page.getByRole("main"), /Settings saved; assets refreshed: [\d,]+ listed/, 90_000)
  expect(
    await api.run(
      Effect.flatMap(api.registry, (c) => c.code.settings({ path: { name: ProviderName.make("synthetic") } }))
    )
  ).toMatchObject({ values: { updateMs: 250 } })
}
