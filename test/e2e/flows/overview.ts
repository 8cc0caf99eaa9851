/** Overview page: both services, the database and migrations, the subscriptions summary. */
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { textMatching } from "../support/eventually"
import type { Stack } from "../support/stack"

export const overviewShowsHealth = async ({ page, url }: Stack) => {
  await page.goto(`${url}/`)
  for (const name of ["Registry", "DataHub"]) {
    const card = page.getByRole("region", { name: `${name} health` })
    const text = await textMatching(card, /Migrations\s*version \d+ · up to date/)
    expect(text).toMatch(new RegExp(`^${name}\\s*ok`))
    expect(text).toMatch(/Database\s*up\s*postgresql/)
  }
  await page.getByRole("region", { name: "Subscriptions summary" }).waitFor()
  await textMatching(page.getByRole("main"), /No subscription is in error\./)
  await screenshot(page, "overview")
}
