/**
 * The live mode of a strategy's sandbox child: one `LiveRun` for as long as the deployment runs,
 * fed bar by bar by the host. Everything posted back is plain data (numbers and strings only), as
 * the strategy's order objects may carry anything.
 */
import type { Strategy, StrategyOrderInput } from "@quasar/providers/sdk"
import { LiveRun } from "../engine/LiveRun"
import type { ChildMessage, HostMessage } from "./protocol"

type LiveMessage = Extract<HostMessage, { readonly _tag: "Live" }>
type FeedMessage = Extract<HostMessage, { readonly _tag: "Feed" }>

const text = (x: unknown, max: number) => (typeof x === "string" ? x.slice(0, max) : String(typeof x))
const numberOr = (x: unknown) => (typeof x === "number" ? x : undefined)

const plainOrder = (o: StrategyOrderInput) => {
  const quantity = numberOr(o?.quantity)
  const notional = numberOr(o?.notional)
  const limitPrice = numberOr(o?.limitPrice)
  const stopPrice = numberOr(o?.stopPrice)
  return {
    symbol: text(o?.symbol, 200),
    side: text(o?.side, 20),
    type: text(o?.type, 20),
    ...(quantity !== undefined && { quantity }),
    ...(notional !== undefined && { notional }),
    ...(limitPrice !== undefined && { limitPrice }),
    ...(stopPrice !== undefined && { stopPrice })
  }
}

export const makeLiveSession = (post: (message: ChildMessage) => void, describe: (e: unknown) => string) => {
  let run: LiveRun | undefined
  return {
    /** True when the message was a live one. */
    handle: (strategy: Strategy | undefined, message: HostMessage): boolean => {
      if (message._tag === "Live") {
        start(strategy, message)
        return true
      }
      if (message._tag === "Feed") {
        feed(message)
        return true
      }
      return false
    }
  }

  function start(strategy: Strategy | undefined, message: LiveMessage) {
    if (strategy === undefined || run !== undefined)
      return post({ _tag: "Refused", id: message.id, problems: ["the live session cannot start twice"] })
    try {
      const prepared = LiveRun.prepare(strategy, message.params)
      if (!prepared.ok)
        return post({ _tag: "Refused", id: message.id, problems: prepared.problems.slice(0, 100) })
      run = prepared.run
      post({ _tag: "LiveReady", id: message.id })
    } catch (e) {
      post({ _tag: "Refused", id: message.id, problems: [`the strategy cannot be set up: ${describe(e)}`] })
    }
  }

  function feed(message: FeedMessage) {
    if (run === undefined)
      return post({
        _tag: "Refused",
        id: message.id,
        problems: ["bars came before the live session started"]
      })
    const account = message.account
    if (account === undefined) {
      for (const bar of message.bars) run.push(bar)
      return post({ _tag: "Taken", id: message.id })
    }
    try {
      const decision = run.decide(message.bars, {
        cash: account.cash,
        positions: new Map(
          account.positions.map(([symbol, quantity, averagePrice]) => [symbol, { quantity, averagePrice }])
        ),
        openOrders: account.openOrders.map((o) => ({ ...o, status: "open" as const })),
        nextOrderId: account.nextOrderId
      })
      post({
        _tag: "Decision",
        id: message.id,
        orders: decision.orders.slice(0, 1_000).map(plainOrder),
        cancels: decision.cancels.filter(Number.isSafeInteger).slice(0, 1_000),
        logs: decision.logs.slice(0, 1_000).map((l) => ({ ts: l.ts, message: text(l.message, 2_000) }))
      })
    } catch (e) {
      const at = message.bars[0] === undefined ? "" : ` at bar ${new Date(message.bars[0].ts).toISOString()}`
      post({ _tag: "Threw", id: message.id, message: `onBar threw${at}: ${describe(e)}`.slice(0, 4_000) })
    }
  }
}
