/**
 * The live events a sandbox child has read from its provider and not yet sent (runs in the
 * child). A forming bar is a state, not an event: a newer version of the same forming bar (same
 * symbol and open time) replaces the one waiting, in its place, so a feed updating a bar many
 * times between two pulls costs the channel and the host one update. Everything else (closed
 * bars, acks, refusals, heartbeats) is kept, in order; a closed bar ends the replacing, so a
 * forming version arriving after it is kept after it (and refused by the host's screen).
 */

const barKey = (event: unknown): { readonly key: string; readonly closed: boolean } | undefined => {
  if (typeof event !== "object" || event === null) return undefined
  const { type, symbol, bar, closed } = event as Record<string, unknown>
  if (type !== "bar" || typeof symbol !== "string" || typeof closed !== "boolean") return undefined
  const ts = typeof bar === "object" && bar !== null ? (bar as { readonly ts?: unknown }).ts : undefined
  return typeof ts === "number" ? { key: `${symbol}\u0000${ts}`, closed } : undefined
}

export class LiveBuffer {
  private items: Array<unknown> = []
  /** Forming bar key → its index in `items`. */
  private readonly forming = new Map<string, number>()
  /** Updates replaced by a newer version before they were sent. */
  coalesced = 0

  get size(): number {
    return this.items.length
  }

  push(event: unknown): void {
    const bar = barKey(event)
    if (bar !== undefined && !bar.closed) {
      const at = this.forming.get(bar.key)
      if (at !== undefined) {
        this.items[at] = event
        this.coalesced++
        return
      }
      this.forming.set(bar.key, this.items.length)
    } else if (bar !== undefined) this.forming.delete(bar.key)
    this.items.push(event)
  }

  /** Everything waiting, oldest first; the buffer is empty after. */
  take(): Array<unknown> {
    const out = this.items
    this.items = []
    this.forming.clear()
    return out
  }
}
