/**
 * The drawdown curve of an equity series: at each close, how far equity is below the highest
 * equity so far (the initial cash included), as a fraction ≤ 0 — the series the statistics'
 * max drawdown is the lowest point of.
 */
export const drawdownOf = (equity: ArrayLike<number>, initialCash: number): Float64Array => {
  const out = new Float64Array(equity.length)
  let peak = initialCash
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i] ?? peak
    if (e > peak) peak = e
    out[i] = peak > 0 ? e / peak - 1 : 0
  }
  return out
}
