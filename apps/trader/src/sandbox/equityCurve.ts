/**
 * A run's equity curve as its child sends it, in `Equity` messages while the run goes on: each
 * piece must start where the last ended and hold columns of one length, and the curve can have
 * no more points than the run has bars (the child shares its process with strategy code, which
 * must not make Trader hold more than that); joined, they are the curve the result carries.
 */
import type { BacktestResult } from "@quasar/domain"
import { Either } from "effect"
import type { Equity } from "./protocol"

type Curve = BacktestResult["equity"]

const join = (pieces: ReadonlyArray<Float64Array>, length: number): Float64Array<ArrayBuffer> => {
  const out = new Float64Array(length)
  let at = 0
  for (const piece of pieces) {
    out.set(piece, at)
    at += piece.length
  }
  return out
}

export const makeEquityCurve = (maxPoints: number) => {
  const pieces: Array<Equity> = []
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
      else {
        pieces.push(piece)
        length += n
      }
    },
    /** The whole curve so far, or what was wrong with a piece. */
    joined: (): Either.Either<Curve, string> =>
      problem !== undefined
        ? Either.left(problem)
        : Either.right({
            ts: join(
              pieces.map((p) => p.ts),
              length
            ),
            equity: join(
              pieces.map((p) => p.equity),
              length
            ),
            benchmark: join(
              pieces.map((p) => p.benchmark),
              length
            )
          })
  }
}
