/**
 * A run's equity curve as its child sends it, in `Equity` messages while the run goes on. The
 * child shares its process with strategy code, so every piece is checked as it arrives, while the
 * child runs on: it must start where the last ended, hold columns of one length and no more points
 * than the bars handed to the child so far (Trader holds no more than that), times that are epoch milliseconds and
 * rise, and finite values: what the result's schema promises its readers, checked here once
 * instead of element by element through the schema after the run. Each piece is copied into
 * columns made for the expected points when it arrives, so no piece is kept and nothing is joined.
 */
import type { BacktestResult } from "@quasar/domain"
import { Either } from "effect"
import { withRoom } from "../engine/growable"
import type { Equity } from "./protocol"

type Curve = BacktestResult["equity"]

/** What is wrong with `piece`'s values, which follow a point at `lastTs`; undefined when nothing. */
const wrongValues = (piece: Equity, lastTs: number): string | undefined => {
  let previous = lastTs
  for (let i = 0; i < piece.ts.length; i++) {
    const t = piece.ts[i]!
    if (!Number.isSafeInteger(t) || t < 0) return `sent equity at time ${t}, which is not epoch milliseconds`
    if (t <= previous) return `sent equity at time ${t}, not after the point before it (${previous})`
    if (!Number.isFinite(piece.equity[i]!) || !Number.isFinite(piece.benchmark[i]!))
      return `sent equity that is not a finite number at time ${t}`
    previous = t
  }
  return undefined
}

/**
 * `bars()`: the bars handed to the child so far, which bound the points it can have (one per bar
 * time at most); `expected`: the points room is made for at first (more grow the columns).
 */
export const makeEquityCurve = (bars: () => number, expected = 0) => {
  let ts = new Float64Array(expected)
  let equity = new Float64Array(expected)
  let benchmark = new Float64Array(expected)
  let length = 0
  let problem: string | undefined
  return {
    add: (piece: Equity): void => {
      if (problem !== undefined) return
      const n = piece.ts.length
      const most = bars()
      if (piece.at !== length) problem = `sent equity from traded bar ${piece.at} where ${length} was next`
      else if (piece.equity.length !== n || piece.benchmark.length !== n)
        problem = "sent equity columns of different lengths"
      else if (length + n > most) problem = `sent more equity points than the ${most} bars it was given`
      else problem = wrongValues(piece, length === 0 ? -1 : ts[length - 1]!)
      if (problem !== undefined) return
      ts = withRoom(ts, length, length + n)
      equity = withRoom(equity, length, length + n)
      benchmark = withRoom(benchmark, length, length + n)
      ts.set(piece.ts, length)
      equity.set(piece.equity, length)
      benchmark.set(piece.benchmark, length)
      length += n
    },
    /** The whole curve so far, or what was wrong with a piece. */
    joined: (): Either.Either<Curve, string> =>
      problem !== undefined
        ? Either.left(problem)
        : Either.right({
            ts: ts.subarray(0, length),
            equity: equity.subarray(0, length),
            benchmark: benchmark.subarray(0, length)
          })
  }
}
