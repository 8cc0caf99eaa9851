/**
 * A deployment on a broker account, from the UI: kraken-broker (built in, active) is given a funded
 * account of the fake Kraken's private API, a common symbol (BTC/USD unless told) is mapped to a
 * synthetic symbol for the bars and to the broker's pair, and a strategy that buys once at market
 * is deployed on the broker account. Its order reaches the fake Kraken, shows with the broker's order id and fills; the kill
 * switch sells it at the broker and the account ends flat.
 */
import { randomUUID } from "node:crypto"
import { ProviderName } from "@quasar/domain"
import { Effect } from "effect"
import { expect } from "vitest"
import { screenshot } from "../support/browser"
import { eventually, textMatching, visibleText } from "../support/eventually"
import type { Stack } from "../support/stack"
import { tokenIfAsked } from "./backtests"
import { liftRiskLimits, mapCommonSymbol, startFromList } from "./deployments"

const NAME = "buy-once-broker"
const BROKER = "kraken-broker"
const MINUTES = 60_000

/** Which market: the common symbol, its synthetic bars, and the broker's pair and base asset. */
export interface BrokerMarket {
  readonly commonSymbol: string
  readonly synthetic: string
  readonly pair: string
  readonly base: string
}

const BTC: BrokerMarket = { commonSymbol: "BTC/USD", synthetic: "SYN/USD", pair: "XBT/USD", base: "XXBT" }

const strategy = (commonSymbol: string) => `import { defineStrategy } from "@quasar/providers/sdk"

export default defineStrategy({
  name: "${NAME}",
  version: "1.0.0",
  params: {},
  universe: { timeframe: "1m", symbols: ["${commonSymbol}"] },
  warmup: 0,
  onBar(ctx, bars) {
    for (const bar of bars)
      if (ctx.position(bar.symbol).quantity === 0 && ctx.openOrders.length === 0)
        ctx.order({ symbol: bar.symbol, side: "buy", type: "market", quantity: 0.001 })
  }
})
`

const arrange = async ({ api, kraken }: Stack, market: BrokerMarket) => {
  const account = kraken.exchange.addAccount({ key: `e2e-${randomUUID()}`, balances: { ZUSD: 100_000 } })
  await api.builtinsActive([BROKER])
  // The default poll (every 10 s) keeps within the account's rate limit, which orders share.
  await api.configure(BROKER, { restUrl: kraken.restUrl, apiKey: account.key, apiSecret: account.secret })
  await api.run(
    Effect.gen(function* () {
      const registry = yield* api.registry
      for (const [source, symbol] of [
        ["synthetic", market.synthetic],
        [BROKER, market.pair]
      ] as const)
        yield* mapCommonSymbol(registry, market.commonSymbol, source, symbol)
      const name = ProviderName.make(NAME)
      const { version } = yield* registry.code.upload({
        path: { name },
        payload: { kind: "strategy", language: "typescript", source: strategy(market.commonSymbol) }
      })
      yield* registry.code.activate({ path: { name, version: version.version } })
    })
  )
  return account
}

export const deployToBrokerAndKill = async (stack: Stack, market: BrokerMarket = BTC) => {
  const { page, url, kraken, adminToken } = stack
  const account = await arrange(stack, market)
  await page.goto(`${url}/deployments`)
  const form = page.getByRole("form", { name: "New deployment" })
  await form.locator('select[name="strategy"]').selectOption(NAME)
  await form.locator('select[name="provider"]').selectOption("synthetic")
  await form.getByLabel("Broker", { exact: true }).check()
  await form.locator('select[name="broker"]').selectOption(BROKER)
  await liftRiskLimits(form)
  await form.getByRole("button", { name: "Create deployment" }).click()
  await tokenIfAsked(page, adminToken, () => page.waitForURL(/\/deployments\/\d+$/, { timeout: 30_000 }))
  const id = Number(/\/deployments\/(\d+)$/.exec(page.url())?.[1])
  const section = page.getByRole("region", { name: `Deployment #${id}` })
  await textMatching(section.getByRole("heading", { level: 2 }), /created/)
  await textMatching(section.locator('[data-figure="account"]'), /broker kraken-broker/)

  await startFromList(page, id, section)

  // The buy goes to the fake Kraken on the first closed bar, under the broker's symbol.
  const orders = section.getByRole("table", { name: "Orders" })
  await eventually(
    `deployment #${id}'s buy filled at the broker`,
    () => orders.locator('tbody tr[data-status="filled"]').count(),
    (n) => n > 0,
    4 * MINUTES,
    1_000
  )
  const atBroker = kraken.exchange.account(account.key).orders
  expect(atBroker).toHaveLength(1)
  expect(atBroker[0]?.pair.row.wsname).toBe(market.pair)
  await textMatching(
    orders.locator('tbody tr[data-status="filled"] [data-field="orderId"]'),
    new RegExp(atBroker[0]!.txid)
  )
  await eventually(
    "its fill",
    () => section.getByRole("table", { name: "Fills" }).locator('tbody tr[data-side="buy"]').count(),
    (n) => n > 0,
    30_000
  )
  const audit = section.getByRole("table", { name: "Audit trail" })
  expect(await visibleText(audit)).toMatch(/sending/)
  expect(await visibleText(audit)).toMatch(/placed/)
  await screenshot(page, "broker-deployment-filled")

  page.once("dialog", (dialog) => void dialog.accept())
  await section.getByRole("button", { name: "Kill switch" }).click()
  await textMatching(section.getByRole("heading", { level: 2 }), /killed/, 2 * MINUTES)
  await textMatching(section, /No open position: the account is flat\./)
  expect(kraken.exchange.account(account.key).balances[market.base] ?? 0).toBeCloseTo(0, 9)
  await screenshot(page, "broker-deployment-killed")
}
