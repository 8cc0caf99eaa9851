/**
 * Live bar events as columns for the channel (child → host). Node's IPC (`serialization:
 * "advanced"`) writes every object key of every event: as columns a pull of bars is less than
 * half the bytes and a fraction of the time to serialize and rebuild, and takes fewer trips
 * through the 64 KB pipe under load. Runs in the child too: no Effect here.
 *
 * Only events the host would read the same either way are packed: `{type: "bar", symbol,
 * closed, bar}` with a string symbol, a boolean `closed` and a bar of numbers (`vwap` and
 * `trades` present or absent). Anything else (acks, heartbeats, malformed events, which the host
 * must see as they are to name the problem) stays an object in `values`, in its place. A history
 * page's `bars` go as columns the same way when every one of them is such a bar.
 */

/** The packed bars of one `Items` message. */
export interface PackedBars {
  /** Each bar's position in the message's sequence (values and bars together), rising. */
  readonly at: Int32Array<ArrayBuffer>
  readonly symbols: ReadonlyArray<string>
  /** Bit 0 closed, bit 1 has vwap, bit 2 has trades. */
  readonly flags: Uint8Array<ArrayBuffer>
  /** Per bar: ts, open, high, low, close, volume, vwap, trades. */
  readonly numbers: Float64Array<ArrayBuffer>
}

export const NUMBERS_PER_BAR = 8
const CLOSED = 1
const HAS_VWAP = 2
const HAS_TRADES = 4

type Bar = Readonly<Record<string, number | undefined>>

interface PlainBar {
  readonly symbol: string
  readonly closed: boolean
  readonly bar: Bar
}

const isNumber = (u: unknown): u is number => typeof u === "number"

/** A bar of numbers: ts, open, high, low, close, volume; vwap and trades numbers or absent. */
const plainBar = (bar: unknown): bar is Bar => {
  if (typeof bar !== "object" || bar === null) return false
  const b = bar as Record<string, unknown>
  return (
    isNumber(b.ts) &&
    isNumber(b.open) &&
    isNumber(b.high) &&
    isNumber(b.low) &&
    isNumber(b.close) &&
    isNumber(b.volume) &&
    (!("vwap" in b) || isNumber(b.vwap)) &&
    (!("trades" in b) || isNumber(b.trades))
  )
}

const packable = (event: unknown): event is PlainBar => {
  if (typeof event !== "object" || event === null) return false
  const { type, symbol, closed, bar } = event as Record<string, unknown>
  return type === "bar" && typeof symbol === "string" && typeof closed === "boolean" && plainBar(bar)
}

/** Writes bar `k` into the columns; returns its flags (vwap, trades present). */
const writeBar = (numbers: Float64Array, k: number, bar: Bar): number => {
  const o = k * NUMBERS_PER_BAR
  numbers[o] = bar.ts!
  numbers[o + 1] = bar.open!
  numbers[o + 2] = bar.high!
  numbers[o + 3] = bar.low!
  numbers[o + 4] = bar.close!
  numbers[o + 5] = bar.volume!
  let f = 0
  if (bar.vwap !== undefined) {
    numbers[o + 6] = bar.vwap
    f |= HAS_VWAP
  }
  if (bar.trades !== undefined) {
    numbers[o + 7] = bar.trades
    f |= HAS_TRADES
  }
  return f
}

/** Bar `k` of the columns as a plain object. */
const readBar = (n: Float64Array, k: number, f: number): Record<string, number> => {
  const o = k * NUMBERS_PER_BAR
  const bar: Record<string, number> = {
    ts: n[o]!,
    open: n[o + 1]!,
    high: n[o + 2]!,
    low: n[o + 3]!,
    close: n[o + 4]!,
    volume: n[o + 5]!
  }
  if (f & HAS_VWAP) bar.vwap = n[o + 6]!
  if (f & HAS_TRADES) bar.trades = n[o + 7]!
  return bar
}

/** A history page's bars as columns (flags: bit 1 vwap, bit 2 trades). */
export interface PackedPage {
  readonly flags: Uint8Array<ArrayBuffer>
  readonly numbers: Float64Array<ArrayBuffer>
}

/**
 * `page` with its `bars` taken out as columns, when it is an object whose `bars` are all plain
 * bars; otherwise undefined (the page goes as it is, for the host to judge).
 */
export const packPage = (
  page: unknown
): { readonly value: unknown; readonly page: PackedPage } | undefined => {
  if (typeof page !== "object" || page === null) return undefined
  const bars = (page as { readonly bars?: unknown }).bars
  if (!Array.isArray(bars) || bars.length === 0 || !bars.every(plainBar)) return undefined
  const flags = new Uint8Array(bars.length)
  const numbers = new Float64Array(bars.length * NUMBERS_PER_BAR)
  for (let k = 0; k < bars.length; k++) flags[k] = writeBar(numbers, k, bars[k]!)
  return { value: { ...page, bars: [] }, page: { flags, numbers } }
}

/** The page with its bars rebuilt from the columns. */
export const unpackPage = (value: unknown, page: PackedPage): unknown => {
  const bars = new Array<Record<string, number>>(page.flags.length)
  for (let k = 0; k < bars.length; k++) bars[k] = readBar(page.numbers, k, page.flags[k]!)
  return { ...(value as object), bars }
}

/** Splits `events` into the objects sent as they are and the bars sent as columns. */
export const packEvents = (
  events: ReadonlyArray<unknown>
): { readonly values: Array<unknown>; readonly bars?: PackedBars } => {
  const values: Array<unknown> = []
  const at: Array<number> = []
  for (let i = 0; i < events.length; i++) if (packable(events[i])) at.push(i)
  if (at.length === 0) return { values: [...events] }
  const n = at.length
  const symbols = new Array<string>(n)
  const flags = new Uint8Array(n)
  const numbers = new Float64Array(n * NUMBERS_PER_BAR)
  let k = 0
  for (let i = 0; i < events.length; i++) {
    const event = events[i]
    if (at[k] !== i) {
      values.push(event)
      continue
    }
    const { symbol, closed, bar } = event as PlainBar
    symbols[k] = symbol
    flags[k] = writeBar(numbers, k, bar) | (closed ? CLOSED : 0)
    k++
  }
  return { values, bars: { at: Int32Array.from(at), symbols, flags, numbers } }
}

/** Why `bars` cannot belong to a message with `values`, if it cannot. */
export const packedProblem = (values: ReadonlyArray<unknown>, bars: PackedBars): string | undefined => {
  const n = bars.at.length
  if (bars.symbols.length !== n || bars.flags.length !== n || bars.numbers.length !== n * NUMBERS_PER_BAR)
    return "packed bar columns of different lengths"
  for (let k = 0; k < n; k++)
    if (bars.at[k]! < (k === 0 ? 0 : bars.at[k - 1]! + 1)) return "packed bar positions not rising"
  if (n > 0 && bars.at[n - 1]! >= values.length + n) return "packed bar position past the end"
  return undefined
}

/** The events in their order, bars rebuilt as plain objects (check `packedProblem` first). */
export const unpackEvents = (
  values: ReadonlyArray<unknown>,
  bars: PackedBars | undefined
): Array<unknown> => {
  if (bars === undefined || bars.at.length === 0) return values as Array<unknown>
  const total = values.length + bars.at.length
  const out = new Array<unknown>(total)
  let k = 0
  let v = 0
  for (let i = 0; i < total; i++) {
    if (bars.at[k] !== i) {
      out[i] = values[v++]
      continue
    }
    const f = bars.flags[k]!
    const bar = readBar(bars.numbers, k, f)
    out[i] = { type: "bar", symbol: bars.symbols[k]!, bar, closed: (f & CLOSED) !== 0 }
    k++
  }
  return out
}
