import type { StrategyOrder } from "@quasar/providers/sdk"
import type { AccountView } from "../engine/LiveOrderBook"
import * as Paper from "../paper/PaperAccount"
import type { DeploymentState } from "./DeploymentState"

/** The deployment's account as its strategy sees it: open orders under the ids `ctx.order` gave. */
export const accountView = (state: DeploymentState): AccountView => ({
  cash: state.account.cash,
  positions: state.account.holdings,
  openOrders: Paper.openOrders(state.account).map(
    (o): StrategyOrder => ({
      id: state.seqByClientId.get(o.clientOrderId ?? "") ?? 0,
      symbol: o.symbol,
      side: o.side,
      type: o.type,
      quantity: o.quantity,
      ...(o.limitPrice !== undefined && { limitPrice: o.limitPrice }),
      ...(o.stopPrice !== undefined && { stopPrice: o.stopPrice }),
      placedAt: o.createdAt,
      status: "open"
    })
  ),
  nextOrderId: state.nextSeq
})
