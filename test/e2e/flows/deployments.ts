/**
 * Deployments and the portfolio: the README's example strategy, on 1-minute bars so that a test
 * sees it trade within minutes, deployed from the UI to a paper account on synthetic live bars;
 * an order fills and its position shows in the deployment and on the Portfolio page; the kill
 * switch sells it at market and the account ends flat, every step in the audit trail.
 */
import { CreateSubscription, MappingInput, ProviderName } from "@quasar/domain"
import { barAt } from "@quasar/providers/synthetic"
import { Effect, Schema } from "effect"
import type { Locator, Page } from "playwright-core"
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { eventually, textMatching, visibleText } from "../support/eventually"
import type { Stack } from "../support/stack"
import { tokenIfAsked } from "./backtests"
import { README_STRATEGY, readmeStrategy } from "./strategyModules"

const NAME = "sma-cross-live"
/** Closed 1-minute bars come once a minute: an order fills at the open of the bar after it. */
const MINUTES = 60_000

/** The README's strategy under its own name, trading 1-minute bars. */
const liveVariant = () =>
  readmeStrategy()
    .replace(`name: "${README_STRATEGY.name}"`, `name: "${NAME}"`)
    .replace(`timeframe: "${README_STRATEGY.timeframe}"`, `timeframe: "1m"`)

/** Risk limits high enough that the tests' orders are never the ones refused. */
export const liftRiskLimits = async (form: Locator) => {
  await form.getByLabel("Max order notional").fill("1000000")
  await form.getByLabel("Max position notional").fill("1000000")
  await form.getByLabel("Max daily loss").fill("1000000")
}

/** Starts deployment `id` from its row of the Deployments table; its `section` then says running. */
export const startFromList = async (page: Page, id: number, section: Locator) => {
  await page
    .getByRole("table", { name: "Deployments" })
    .locator(`tr[data-id="${id}"]`)
    .getByRole("button", { name: "Start" })
    .click()
  await textMatching(section.getByRole("heading", { level: 2 }), /running/)
}

type RegistryClient = Effect.Effect.Success<Stack["api"]["registry"]>

/**
 * Maps `commonSymbol` to `symbol` of `source`. A common symbol has one symbol per source, so
 * another step's mapping of it in that source gives way first, its symbol mapped to itself.
 */
export const mapCommonSymbol = (
  registry: RegistryClient,
  commonSymbol: string,
  source: string,
  symbol: string
) =>
  Effect.gen(function* () {
    const mapped = yield* registry.mappings.list({
      urlParams: { commonSymbol, source: ProviderName.make(source) }
    })
    for (const m of mapped.filter((m) => m.symbol !== symbol))
      yield* registry.mappings.upsert({
        payload: Schema.decodeSync(MappingInput)({
          commonSymbol: m.symbol,
          source: m.source,
          symbol: m.symbol
        })
      })
    yield* registry.mappings.upsert({
      payload: Schema.decodeSync(MappingInput)({ commonSymbol, source, symbol })
    })
  })

/** The synthetic provider's defaults, for settings never saved. */
const SYNTHETIC_DEFAULTS = { symbols: "SYN/USD,SYN/EUR,ACME", seed: 42 }

/**
 * A synthetic symbol whose closes rise through every minute from a few before now to `ahead`
 * after: the README's strategy (fast SMA above slow, flat) then buys on the first live bar it
 * sees. The walk is deterministic, so the test reads the market ahead instead of waiting for a
 * cross that may take a long downtrend to come.
 */
const risingSymbol = (symbols: ReadonlyArray<string>, seed: number, ahead: number): string | undefined => {
  const now = Math.floor(Date.now() / MINUTES) * MINUTES
  return symbols.find((symbol) => {
    let last = Number.NEGATIVE_INFINITY
    for (let t = now - 5 * MINUTES; t <= now + ahead * MINUTES; t += MINUTES) {
      const close = barAt({ seed }, symbol, "1m", t).close
      if (!(close > last)) return false
      last = close
    }
    return true
  })
}

/**
 * Uploads the strategy variant and maps BTC/USD to a rising synthetic symbol with stored history;
 * gives that symbol and the synthetic crypto pairs left for another deployment.
 */
export const arrangePaper = async ({ api }: Stack): Promise<{ symbol: string; others: Array<string> }> => {
  const source = liveVariant()
  expect(source).toContain(`name: "${NAME}"`)
  expect(source).toContain('timeframe: "1m"')
  const synthetic = ProviderName.make("synthetic")
  const { values } = await api.run(
    Effect.flatMap(api.registry, (c) => c.code.settings({ path: { name: synthetic } }))
  )
  // BASE/QUOTE symbols are the synthetic provider's crypto pairs, the class BTC/USD maps to.
  const symbols = String(values.symbols ?? SYNTHETIC_DEFAULTS.symbols)
    .split(",")
    .filter((symbol) => symbol.includes("/"))
  const seed = Number(values.seed ?? SYNTHETIC_DEFAULTS.seed)
  const symbol = risingSymbol(symbols, seed, 12) ?? "SYN/USD"
  await api.run(
    Effect.gen(function* () {
      const registry = yield* api.registry
      yield* mapCommonSymbol(registry, README_STRATEGY.commonSymbol, synthetic, symbol)
      const name = ProviderName.make(NAME)
      const { version } = yield* registry.code.upload({
        path: { name },
        payload: { kind: "strategy", language: "typescript", source }
      })
      yield* registry.code.activate({ path: { name, version: version.version } })
      // Stored history warms the averages up, so the first live bar can trade.
      const datahub = yield* api.datahub
      const subscription = Schema.decodeSync(CreateSubscription)({
        provider: "synthetic",
        symbol,
        timeframes: ["1m"],
        mode: "history",
        backfillFrom: new Date(Date.now() - 60 * MINUTES).toISOString()
      })
      const existing = yield* datahub.subscriptions.list({ urlParams: {} })
      if (!existing.some((s) => s.provider === "synthetic" && s.symbol === symbol && s.timeframe === "1m"))
        yield* datahub.subscriptions.create({ payload: subscription })
    })
  )
  await eventually(
    `the history of ${symbol} stored`,
    () =>
      api.run(
        Effect.flatMap(api.datahub, (c) => c.subscriptions.list({ urlParams: {} })).pipe(
          Effect.map(
            (list) =>
              list.find((s) => s.provider === "synthetic" && s.symbol === symbol && s.timeframe === "1m")
                ?.state.backfillProgress ?? 0
          )
        )
      ),
    (progress) => progress >= 100,
    120_000,
    1_000
  )
  return { symbol, others: symbols.filter((s) => s !== symbol) }
}

/** `symbol`: what `arrangePaper` chose, when it ran first; otherwise it runs now. */
export const deployToPaperAndKill = async (stack: Stack, arranged?: string) => {
  const { page, url } = stack
  const symbol = arranged ?? (await arrangePaper(stack)).symbol
  await page.goto(`${url}/deployments`)
  const form = page.getByRole("form", { name: "New deployment" })
  await form.locator('select[name="strategy"]').selectOption(NAME)
  await form.locator('select[name="provider"]').selectOption("synthetic")
  const params = form.getByRole("group", { name: "Parameters" })
  await params.getByLabel(/Fast SMA/).waitFor()
  // Short averages follow the rising closes at once: the strategy buys on the first live bar.
  await params.getByLabel(/Fast SMA/).fill("2")
  await params.getByLabel(/Slow SMA/).fill("3")
  await liftRiskLimits(form)
  await form.getByRole("button", { name: "Create deployment" }).click()
  await tokenIfAsked(page, stack.adminToken, () =>
    page.waitForURL(/\/deployments\/\d+$/, { timeout: 30_000 })
  )
  const id = Number(/\/deployments\/(\d+)$/.exec(page.url())?.[1])
  const section = page.getByRole("region", { name: `Deployment #${id}` })
  await textMatching(section.getByRole("heading", { level: 2 }), /created/)

  await startFromList(page, id, section)

  // A buy is placed on a closed bar and fills at the next one's open.
  const fills = section.getByRole("table", { name: "Fills" })
  await eventually(
    `a buy of deployment #${id} filled`,
    () => fills.locator('tbody tr[data-side="buy"]').count(),
    (n) => n > 0,
    5 * MINUTES,
    1_000
  )
  const positions = section.getByRole("table", { name: `Positions of deployment ${id}` })
  const held = await eventually(
    "its position shown",
    () => positions.locator("tbody tr").count(),
    (n) => n > 0,
    10_000
  ).catch(() => 0)
  await screenshot(page, "deployment-filled")
  const audit = section.getByRole("table", { name: "Audit trail" })
  expect(await visibleText(audit)).toMatch(/placed|accepted|fill/i)

  // The Portfolio page lists the account with its fill (and the position while it is held).
  await page.goto(`${url}/portfolio`)
  const accounts = page.getByRole("table", { name: "Accounts" })
  await textMatching(accounts, new RegExp(`#${id} ${NAME}`))
  await page.getByRole("button", { name: `#${id} ${NAME}` }).click()
  const portfolioFills = page.getByRole("table", { name: "Portfolio fills" })
  await eventually(
    "the fill in the portfolio",
    () => portfolioFills.locator("tbody tr").count(),
    (n) => n > 0
  )
  if (held > 0)
    await textMatching(
      page.getByRole("table", { name: "Portfolio positions" }),
      new RegExp(`BTC/USD|${symbol}`)
    )
  await screenshot(page, "portfolio")

  // The kill switch: stop, cancel, sell at market; flat once the sell fills.
  await page.goto(`${url}/deployments/${id}`)
  page.once("dialog", (dialog) => void dialog.accept())
  await section.getByRole("button", { name: "Kill switch" }).click()
  await textMatching(section.getByRole("heading", { level: 2 }), /killed/, 4 * MINUTES)
  await textMatching(section, /No open position: the account is flat\./)
  expect(await visibleText(audit)).toMatch(/kill/i)
  await screenshot(page, "deployment-killed")

  await page.goto(`${url}/portfolio`)
  await page.getByRole("button", { name: `#${id} ${NAME}` }).click()
  await textMatching(page.getByRole("main"), /No open position: the account is flat\./)
}
