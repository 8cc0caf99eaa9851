import type { BarWindow } from "@quasar/providers/sdk"

const COLUMNS = ["ts", "open", "high", "low", "close", "volume"] as const

/**
 * The last `capacity` bars of one symbol as contiguous columns. The buffers hold twice the
 * capacity so that the window is always one contiguous range (a subarray view, no copy per
 * read); when they fill up, the newest bars move to the front, once per `capacity` pushes.
 */
export class SlidingWindow {
  private readonly columns: Record<(typeof COLUMNS)[number], Float64Array>
  private end = 0
  private count = 0
  private view: BarWindow | undefined

  constructor(readonly capacity: number) {
    const size = 2 * capacity
    this.columns = {
      ts: new Float64Array(size),
      open: new Float64Array(size),
      high: new Float64Array(size),
      low: new Float64Array(size),
      close: new Float64Array(size),
      volume: new Float64Array(size)
    }
  }

  get length(): number {
    return this.count
  }

  push(ts: number, open: number, high: number, low: number, close: number, volume: number): void {
    const c = this.columns
    if (this.end === c.ts.length) {
      const keep = this.capacity - 1
      for (const name of COLUMNS) c[name].copyWithin(0, this.end - keep, this.end)
      this.end = keep
    }
    const i = this.end++
    c.ts[i] = ts
    c.open[i] = open
    c.high[i] = high
    c.low[i] = low
    c.close[i] = close
    c.volume[i] = volume
    if (this.count < this.capacity) this.count++
    this.view = undefined
  }

  /** Views of the current contents, oldest first; valid until the next push. */
  read(): BarWindow {
    if (this.view !== undefined) return this.view
    const start = this.end - this.count
    const c = this.columns
    this.view = {
      length: this.count,
      ts: c.ts.subarray(start, this.end),
      open: c.open.subarray(start, this.end),
      high: c.high.subarray(start, this.end),
      low: c.low.subarray(start, this.end),
      close: c.close.subarray(start, this.end),
      volume: c.volume.subarray(start, this.end)
    }
    return this.view
  }
}
