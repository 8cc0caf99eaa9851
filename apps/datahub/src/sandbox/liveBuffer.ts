/**
 * The live events a sandbox child has read from its provider and not yet sent (runs in the
 * child). A forming bar is a state, not an event: a newer version of the same forming bar (same
 * symbol and open time) replaces the one waiting, in its place, so a feed updating a bar many
 * times between two pulls costs the channel and the host one update. Everything else (closed
 * bars, acks, refusals, heartbeats) is kept, in order; a closed bar ends the replacing, so a
 * forming version arriving after it is kept after it (and refused by the host's screen).
 */

interface BarLike {
  readonly symbol: string
  readonly ts: number
  readonly closed: boolean
}

const barOf = (event: unknown): BarLike | undefined => {
  if (typeof event !== "object" || event === null) return undefined
  const { type, symbol, bar, closed } = event as Record<string, unknown>
  if (type !== "bar" || typeof symbol !== "string" || typeof closed !== "boolean") return undefined
  const ts = typeof bar === "object" && bar !== null ? (bar as { readonly ts?: unknown }).ts : undefined
  return typeof ts === "number" ? { symbol, ts, closed } : undefined
}

/** Where a symbol's forming bar waits; valid only in the round (`take`) it was written in. */
interface Slot {
  at: number
  ts: number
  round: number
}

export class LiveBuffer {
  private items: Array<unknown> = []
  /**
   * Symbol → its waiting forming bar. Kept across rounds (a busy feed has the same symbols every
   * round) and invalidated by the round number instead of cleared, so it allocates nothing then.
   */
  private readonly forming = new Map<string, Slot>()
  private round = 0
  /** Updates replaced by a newer version before they were sent. */
  coalesced = 0

  get size(): number {
    return this.items.length
  }

  push(event: unknown): void {
    const bar = barOf(event)
    if (bar !== undefined) {
      const slot = this.forming.get(bar.symbol)
      const waiting = slot !== undefined && slot.round === this.round && slot.ts === bar.ts
      if (!bar.closed) {
        if (waiting) {
          this.items[slot.at] = event
          this.coalesced++
          return
        }
        if (slot === undefined)
          this.forming.set(bar.symbol, { at: this.items.length, ts: bar.ts, round: this.round })
        else {
          slot.at = this.items.length
          slot.ts = bar.ts
          slot.round = this.round
        }
      } else if (waiting) slot.round = -1
    }
    this.items.push(event)
  }

  /** Everything waiting, oldest first; the buffer is empty after. */
  take(): Array<unknown> {
    const out = this.items
    this.items = []
    this.round++
    if (this.forming.size > 100_000) this.forming.clear()
    return out
  }
}
