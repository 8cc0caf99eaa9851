/**
 * Provider modules a user would upload, as strings (neither tsc nor biome should treat them as
 * project code). Line numbers matter where a test asserts them.
 */

const header = `import { defineProvider } from "@quasar/providers/sdk"`

/** Lists AAA (its name proves the secret arrived) and one invalid symbol (counted as rejected). */
export const validProviderJs = `${header}
export default defineProvider({
  name: "e2e-fixture",
  displayName: "E2E Fixture",
  version: "1.0.0",
  timeframes: ["1m", "1h"],
  settings: {
    apiKey: { type: "string", label: "API key", secret: true, required: true },
    region: { type: "string", label: "Region", default: "eu" }
  },
  listAssets: async (ctx) => [
    { symbol: "AAA", name: ctx.settings.region + (ctx.settings.apiKey === "s3cret" ? ", key ok" : ", wrong key") },
    { symbol: "not a symbol" }
  ],
  async *history() {
    yield { bars: [] }
  }
})
`

/** Line 9: a number where the SDK wants a symbol string. */
export const typeErrorTs = `${header}

export default defineProvider({
  name: "e2e-typo",
  displayName: "Typo",
  version: "1.0.0",
  timeframes: ["1h"],
  settings: {},
  listAssets: async () => [{ symbol: 42 }],
  async *history() {}
})
`
export const TYPE_ERROR_LINE = 9
