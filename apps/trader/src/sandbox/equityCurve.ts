/**
 * A run's equity curve as its child sends it, in `Equity` messages while the run goes on. The
 * child shares its process with strategy code, so every piece is checked as it arrives, while the
 * child runs on: it must start where the last ended, hold columns of one length and no more points
 * than the run has bars (Trader holds no more than that), times that are epoch milliseconds and
 * rise, and finite values: what the result's schema promises its readers, checked here once
 * instead of element by element through the schema after the run. Each piece is copied into
 * columns sized for the whole run when it arrives, so no piece is kept and nothing is joined.
 */
import type { BacktestResult } from "@quasar/domain"
import { Either } from "effect"
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

export const makeEquityCurve = (maxPoints: number) => {
  const ts = new Float64Array(maxPoints)
  const equity = new Float64Array(maxPoints)
  const benchmark = new Float64Array(maxPoints)
  let length = 0
  let problem: string | undefined
  return {
    add: (piece: Equity): void => {
      if (problem !== undefined) return
      const n = piece.ts.length
      if (piece.at !== length) problem = `sent equity from traded bar ${piece.at} where ${length} was next`
      else if (piece.equity.length !== n || piece.benchmark.length !== n)
        problem = "sent equity columns of different lengths"
      else if (length + n > maxPoints) problem = `sent more equity points than the run's ${maxPoints} bars`
      else problem = wrongValues(piece, length === 0 ? -1 : ts[length - 1]!)
      if (problem !== undefined) return
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
