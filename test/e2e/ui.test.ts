/**
 * Quasar as a user gets it: the built UI behind real nginx (ops/nginx/quasar.conf), Registry,
 * DataHub and Trader on a fresh PostgreSQL database, fake Kraken/EODHD behind the built-in
 * providers, driven in Debian's chromium. The tests share one browser tab and run in order: later ones use what
 * earlier ones created (the uploaded provider, the SYN/USD subscription). Screenshots of every
 * page go to test-output/screenshots/.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { assetsSearchAndPaging } from "./flows/assets"
import { uploadStrategyAndBacktestIt } from "./flows/backtests"
import { deployToBrokerAndKill } from "./flows/brokerDeployments"
import { arrangePaper, deployToPaperAndKill } from "./flows/deployments"
import { chartShowsStoredBars, liveBarAppears, weekRangeFitsTheChart } from "./flows/explorer"
import { phoneLayoutAndKeyboard } from "./flows/layout"
import { liveFeedAnswersThroughNginx } from "./flows/live"
import { fixMappingsAndAcceptSuggestions } from "./flows/mappings"
import { nginxServesTheAppAndApis } from "./flows/nginx"
import {
  failingSubscriptionShowsOnOverview,
  overviewShowsHealth,
  overviewShowsLiveConnections
} from "./flows/overview"
import { rollBackAndSettings, uploadProviderWithTypeError, uploadValidProvider } from "./flows/providers"
import { refusedSubscriptionShowsTheServersReason, subscribeAndWatchBackfill } from "./flows/subscriptions"
import { collectPageErrors, screenshot } from "./support/browser"
import { missingPrerequisites } from "./support/prerequisites"
import { type Stack, startStack } from "./support/stack"

const missing = missingPrerequisites()
if (missing) process.stdout.write(`[quasar e2e] skipped: ${missing}\n`)

describe.runIf(missing === null)("Quasar UI end to end (nginx + chromium)", () => {
  let stack: Stack
  beforeAll(async () => {
    stack = await startStack()
  }, 300_000)
  afterAll(async () => {
    await stack?.stop()
  }, 60_000)
  // A page that logged an error or threw fails the test that was driving it.
  afterEach(() => {
    expect(stack?.takePageErrors() ?? []).toEqual([])
  })

  const step = (name: string, flow: (s: Stack) => Promise<void>, timeoutMs = 60_000) =>
    it(
      name,
      async () => {
        try {
          await flow(stack)
        } catch (e) {
          await screenshot(stack.page, `failed-${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}`).catch(
            () => undefined
          )
          throw new Error(`${e instanceof Error ? e.message : String(e)}\n--- service logs\n${stack.logs()}`)
        }
      },
      timeoutMs
    )

  step(
    "nginx serves the app, caches hashed assets, strips API prefixes, and sends security headers on errors",
    nginxServesTheAppAndApis
  )
  step("overview shows the three services, the database and migrations", overviewShowsHealth)
  step(
    "uploading a valid provider asks for the token once and shows it validated; secrets stay write-only",
    uploadValidProvider,
    120_000
  )
  step("a provider with a type error shows the error with its line", uploadProviderWithTypeError, 90_000)
  step(
    "a wrong mapping is fixed in place; a refusal says what to do; suggestions are accepted one by one and in bulk; CSV in and out, bad rows listed one per line",
    fixMappingsAndAcceptSuggestions
  )
  step("assets: 20,000 rows searched, filtered and paged by the server", assetsSearchAndPaging, 120_000)
  step("a refused subscription shows DataHub's reason", refusedSubscriptionShowsTheServersReason)
  step("a SYN/USD 1m subscription backfills 6 hours to 100 %", subscribeAndWatchBackfill, 180_000)
  step("the chart shows the stored bars, their coverage and the CSV download", chartShowsStoredBars)
  step(
    "the last week of 1-minute bars fits the chart, resampled to 15 minutes, and stays live",
    weekRangeFitsTheChart,
    240_000
  )
  step(
    "a subscription the provider rejects for good is listed in error on the overview, with the reason",
    failingSubscriptionShowsOnOverview,
    120_000
  )
  step("the phone layout folds the navigation into a menu; the skip link comes first", phoneLayoutAndKeyboard)
  // DataHub's live feed (/live), first at the protocol level, then as the user sees it.
  step(
    "live feed: the WebSocket upgrade through nginx answers ping, subscribe and bars",
    liveFeedAnswersThroughNginx
  )
  step("live: a new bar appears on the chart", liveBarAppears, 120_000)
  step("overview lists DataHub's live connections and their series", overviewShowsLiveConnections)
  step(
    "roll back only when there is something to roll back to; settings refresh the assets and keep to their bounds",
    rollBackAndSettings,
    180_000
  )
  step(
    "the README's strategy is uploaded and backtested on synthetic bars: equity, drawdown, trades on the chart, statistics, two runs compared",
    uploadStrategyAndBacktestIt,
    300_000
  )
  // Both deployments wait on minutes closing, so they run side by side, each in a tab of its own
  // and on a market of its own: the paper one on BTC/USD, the broker one on ETH/USD.
  step(
    "deployments side by side: the README's strategy on 1-minute bars on a paper account (a fill, the position in the portfolio, the kill switch flattens it) and a strategy on a broker account (kraken-broker on the fake Kraken: its order shows with the broker's id and fills; the kill switch sells it at the broker)",
    async (s) => {
      const { symbol, others } = await arrangePaper(s)
      const synthetic = others[0]
      if (synthetic === undefined) throw new Error(`no synthetic crypto pair left besides ${symbol}`)
      const tab = await s.browser.newPage({ viewport: { width: 1280, height: 900 } })
      tab.setDefaultTimeout(20_000)
      const tabErrors = collectPageErrors(tab)
      try {
        await Promise.all([
          deployToPaperAndKill(s, symbol),
          deployToBrokerAndKill(
            { ...s, page: tab },
            { commonSymbol: "ETH/USD", synthetic, pair: "ETH/USD", base: "XETH" }
          )
        ])
        expect(tabErrors).toEqual([])
      } finally {
        await tab.close()
      }
    },
    15 * 60_000
  )
})
