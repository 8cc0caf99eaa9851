/**
 * An account's performance from its fills and the latest bars, as pure functions. A position's
 * cost includes its buys' fees; a sell realises what it brought in (its fee taken off) less the
 * cost of the units it sold at their average; so `equity − initialCash = realised + unrealised`.
 */
import type { DeploymentFill, EquityPoint, Exposure, Performance, PositionView } from "@quasar/domain"

interface Holding {
  quantity: number
  /** Average entry price, fees excluded (as the account reports it). */
  averagePrice: number
  /** What the units held cost, fees included. */
  cost: number
}

/** Quantities within this relative distance of the position count as all of it. */
const EPSILON = 1e-9

export interface AccountInputs {
  readonly initialCash: number
  /** In time order. */
  readonly fills: ReadonlyArray<DeploymentFill>
  /** The latest close of each symbol. */
  readonly marks: ReadonlyMap<string, number>
  /** Equity at the close of each bar time, in time order. */
  readonly equity: ReadonlyArray<{ readonly ts: number; readonly equity: number }>
}

export const drawdownCurve = (
  initialCash: number,
  points: ReadonlyArray<{ readonly ts: number; readonly equity: number }>
): { readonly curve: ReadonlyArray<EquityPoint>; readonly maxDrawdown: number } => {
  let peak = initialCash
  let maxDrawdown = 0
  const curve = points.map(({ ts, equity }) => {
    peak = Math.max(peak, equity)
    const drawdown = peak > 0 ? 1 - equity / peak : 0
    maxDrawdown = Math.max(maxDrawdown, drawdown)
    return { ts, equity, drawdown }
  })
  return { curve, maxDrawdown }
}

const exposureOf = (positions: ReadonlyArray<PositionView>, equity: number): ReadonlyArray<Exposure> => {
  const byAsset = new Map<string, number>()
  for (const p of positions) {
    const asset = p.symbol.split("/")[0] ?? p.symbol
    byAsset.set(asset, (byAsset.get(asset) ?? 0) + p.marketValue)
  }
  return [...byAsset].map(([asset, marketValue]) => ({
    asset,
    marketValue,
    share: equity > 0 ? marketValue / equity : 0
  }))
}

export const accountPerformance = (a: AccountInputs): Performance => {
  let cash = a.initialCash
  let realizedPnl = 0
  let fees = 0
  const holdings = new Map<string, Holding>()
  for (const f of a.fills) {
    const held = holdings.get(f.symbol) ?? { quantity: 0, averagePrice: 0, cost: 0 }
    fees += f.fee
    if (f.side === "buy") {
      cash -= f.quantity * f.price + f.fee
      const quantity = held.quantity + f.quantity
      holdings.set(f.symbol, {
        quantity,
        averagePrice: (held.averagePrice * held.quantity + f.price * f.quantity) / quantity,
        cost: held.cost + f.quantity * f.price + f.fee
      })
    } else {
      cash += f.quantity * f.price - f.fee
      const sold = held.quantity > 0 ? Math.min(1, f.quantity / held.quantity) : 1
      const basis = held.cost * sold
      realizedPnl += f.quantity * f.price - f.fee - basis
      const left = held.quantity - f.quantity <= held.quantity * EPSILON ? 0 : held.quantity - f.quantity
      if (left === 0) holdings.delete(f.symbol)
      else holdings.set(f.symbol, { ...held, quantity: left, cost: held.cost - basis })
    }
  }
  const positions: Array<PositionView> = [...holdings].map(([symbol, h]) => {
    const lastPrice = a.marks.get(symbol) ?? h.averagePrice
    const marketValue = h.quantity * lastPrice
    return {
      symbol,
      quantity: h.quantity,
      averagePrice: h.averagePrice,
      lastPrice,
      marketValue,
      unrealizedPnl: marketValue - h.cost
    }
  })
  const equity = positions.reduce((sum, p) => sum + p.marketValue, cash)
  const { curve, maxDrawdown } = drawdownCurve(a.initialCash, a.equity)
  return {
    initialCash: a.initialCash,
    cash,
    equity,
    realizedPnl,
    unrealizedPnl: positions.reduce((sum, p) => sum + p.unrealizedPnl, 0),
    fees,
    maxDrawdown,
    positions,
    exposure: exposureOf(positions, equity),
    equityCurve: curve
  }
}

/** Accounts summed: equity curves add up at every time any of them has a point (each carried forward). */
export const totalPerformance = (accounts: ReadonlyArray<Performance>): Performance => {
  const sum = (f: (p: Performance) => number) => accounts.reduce((s, p) => s + f(p), 0)
  const initialCash = sum((p) => p.initialCash)
  const times = [...new Set(accounts.flatMap((p) => p.equityCurve.map((e) => e.ts)))].sort((x, y) => x - y)
  const cursors = accounts.map(() => 0)
  const last = accounts.map((p) => p.initialCash)
  const points = times.map((ts) => {
    accounts.forEach((p, i) => {
      while (cursors[i]! < p.equityCurve.length && p.equityCurve[cursors[i]!]!.ts <= ts) {
        last[i] = p.equityCurve[cursors[i]!]!.equity
        cursors[i]!++
      }
    })
    return { ts, equity: last.reduce((s, e) => s + e, 0) }
  })
  const { curve, maxDrawdown } = drawdownCurve(initialCash, points)
  const positions = accounts.flatMap((p) => p.positions)
  const equity = sum((p) => p.equity)
  return {
    initialCash,
    cash: sum((p) => p.cash),
    equity,
    realizedPnl: sum((p) => p.realizedPnl),
    unrealizedPnl: sum((p) => p.unrealizedPnl),
    fees: sum((p) => p.fees),
    maxDrawdown,
    positions,
    exposure: exposureOf(positions, equity),
    equityCurve: curve
  }
}
