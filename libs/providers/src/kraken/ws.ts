/**
 * One Kraken WS v2 connection's life as `LiveEvent`s: subscribe to `ohlc`, turn snapshot/update
 * frames into forming bars, and decide when a bar is closed. The channel is documented at
 * docs.kraken.com/api/docs/websocket-v2/ohlc.
 */
import {
  FatalError,
  type LiveEvent,
  type LiveRequest,
  type ProviderBar,
  type ProviderContext,
  RetryableError,
  type SocketConnection,
  sameBarValues
} from "../sdk"
import { type Parsed, parseWsFrame, type WsFrame, type WsOhlc } from "./parse"
import { krakenInterval, wsV2Symbol } from "./symbols"

export interface LiveOptions {
  readonly wsUrl: string
  /** How long after a bar's end to wait for a late update before calling it closed. */
  readonly closeGraceMs: number
  /** App-level ping period (docs.kraken.com/api/docs/websocket-v2/ping), measured on `ctx.now`. */
  readonly pingEveryMs?: number
  /** Real-time period of the close/ping timer. */
  readonly tickMs?: number
}

/**
 * Kraken sends no "closed" flag and nothing for a no-trade interval (updates are generated on trade
 * events), so a bar is closed when a later `interval_begin` arrives for its symbol, or when its end
 * plus a grace period has passed. The timer only guesses that no update is coming: a frame that
 * arrives later for the bar it closed, with other values, closes that bar again (a revision that
 * replaces the guess downstream). Frames for older bars are ignored.
 */
export class BarCloser {
  private readonly forming = new Map<string, ProviderBar>()
  private readonly lastClosed = new Map<string, ProviderBar>()

  constructor(
    private readonly barMs: number,
    private readonly graceMs: number
  ) {}

  /** Takes a frame's bar; returns the bar it closes, if any, and whether `bar` is now forming. */
  update(symbol: string, bar: ProviderBar, now: number): { closed: Array<ProviderBar>; forming: boolean } {
    const last = this.lastClosed.get(symbol)
    if (last !== undefined && bar.ts === last.ts && !sameBarValues(last, bar))
      return { closed: [this.close(symbol, bar, false)], forming: false }
    const current = this.forming.get(symbol)
    if ((last !== undefined && bar.ts <= last.ts) || (current !== undefined && bar.ts < current.ts))
      return { closed: [], forming: false }
    const closed: Array<ProviderBar> = []
    if (current !== undefined && current.ts < bar.ts) closed.push(this.close(symbol, current))
    if (this.expired(bar, now)) return { closed: [...closed, this.close(symbol, bar)], forming: false }
    this.forming.set(symbol, bar)
    return { closed, forming: true }
  }

  /** Bars whose end plus grace has passed, in the order they are closed. */
  expire(now: number): Array<[string, ProviderBar]> {
    const out: Array<[string, ProviderBar]> = []
    for (const [symbol, bar] of this.forming)
      if (this.expired(bar, now)) out.push([symbol, this.close(symbol, bar)])
    return out
  }

  /** Whether `expire(now)` would close anything. */
  anyExpired(now: number): boolean {
    for (const bar of this.forming.values()) if (this.expired(bar, now)) return true
    return false
  }

  private expired(bar: ProviderBar, now: number): boolean {
    return bar.ts + this.barMs + this.graceMs <= now
  }

  private close(symbol: string, bar: ProviderBar, wasForming = true): ProviderBar {
    if (wasForming) this.forming.delete(symbol)
    this.lastClosed.set(symbol, bar)
    return bar
  }
}

const TICK = Symbol("tick")

const nextOrTick = <T>(next: Promise<T>, ms: number): Promise<T | typeof TICK> => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const tick = new Promise<typeof TICK>((resolve) => {
    timer = setTimeout(() => resolve(TICK), ms)
  })
  return Promise.race([next, tick]).finally(() => clearTimeout(timer))
}

/** The events for one parsed frame; also updates the subscription state it is given. */
class LiveSession {
  /** v2 symbol → the symbol as the caller gave it. */
  readonly callerSymbol = new Map<string, string>()
  private readonly awaitingAck = new Set<string>()
  private accepted = 0

  constructor(
    private readonly ctx: ProviderContext,
    symbols: ReadonlyArray<string>,
    private readonly interval: number,
    private readonly closer: BarCloser
  ) {
    for (const s of symbols) this.callerSymbol.set(wsV2Symbol(s), s)
    for (const v2 of this.callerSymbol.keys()) this.awaitingAck.add(v2)
  }

  /** True once every symbol has been answered and none was accepted. */
  get allRejected(): boolean {
    return this.awaitingAck.size === 0 && this.accepted === 0
  }

  handle(frame: WsFrame): Array<LiveEvent> {
    switch (frame.kind) {
      case "heartbeat":
      case "pong":
        return [{ type: "heartbeat" }]
      case "status":
        // Sent on connect and on engine-status changes; informational
        // (docs.kraken.com/api/docs/websocket-v2/status).
        if (frame.system === "online") this.ctx.log.debug("kraken: ws status", { system: frame.system })
        else this.ctx.log.warn("kraken: exchange not fully online", { system: frame.system })
        return []
      case "subscribed":
        return this.ack(frame.symbol, undefined)
      case "subscribeFailed":
        if (frame.symbol !== undefined) return this.ack(frame.symbol, frame.error)
        // A failure naming no symbol (e.g. "Malformed request") answers the whole request.
        return [...this.awaitingAck].flatMap((v2) => this.ack(v2, frame.error))
      case "ohlc":
        return this.bars(frame.entries)
      case "error":
        this.ctx.log.warn("kraken: ws error message", { error: frame.error })
        return []
      default:
        this.ctx.log.debug("kraken: ignoring ws frame", { frame: frame.kind })
        return []
    }
  }

  anyExpired(now: number): boolean {
    return this.closer.anyExpired(now)
  }

  closeExpired(now: number): Array<LiveEvent> {
    return this.closer.expire(now).map(([v2, bar]) => this.barEvent(v2, bar, true))
  }

  private ack(v2: string, error: string | undefined): Array<LiveEvent> {
    const symbol = this.callerSymbol.get(v2)
    if (symbol === undefined || !this.awaitingAck.delete(v2)) return []
    if (error === undefined) {
      this.accepted++
      return [{ type: "subscribed", symbol }]
    }
    return [{ type: "rejected", symbol, reason: error }]
  }

  private barEvent(v2: string, bar: ProviderBar, closed: boolean): LiveEvent {
    return { type: "bar", symbol: this.callerSymbol.get(v2) ?? v2, bar, closed }
  }

  private bars(entries: ReadonlyArray<Parsed<WsOhlc>>): Array<LiveEvent> {
    const mine: Array<WsOhlc> = []
    for (const entry of entries) {
      if (!entry.ok) this.ctx.log.warn("kraken: skipping malformed ohlc entry", { error: entry.error })
      else if (entry.value.interval === this.interval && this.callerSymbol.has(entry.value.symbol))
        mine.push(entry.value)
    }
    mine.sort((a, b) => a.bar.ts - b.bar.ts)
    const events: Array<LiveEvent> = []
    const now = this.ctx.now()
    // Only the newest bar of a symbol in a frame is news; older ones (a snapshot's history) are
    // closed by it at once. (A batched update frame carries every pair: one pass, not n².)
    const lastOf = new Map<string, number>()
    for (let i = 0; i < mine.length; i++) lastOf.set(mine[i]!.symbol, i)
    for (let i = 0; i < mine.length; i++) {
      const { symbol, bar } = mine[i]!
      const { closed, forming } = this.closer.update(symbol, bar, now)
      for (const c of closed) events.push(this.barEvent(symbol, c, true))
      if (forming && lastOf.get(symbol) === i) events.push(this.barEvent(symbol, bar, false))
    }
    return events
  }
}

const connect = async (ctx: ProviderContext, url: string): Promise<SocketConnection> => {
  try {
    return await ctx.connect(url)
  } catch (cause) {
    // Cloudflare 429/503 on upgrade and network errors are worth another try
    // (github.com/krakenfx/kraken-api-sdk `rust/docs/guides/streaming.md`).
    throw new RetryableError(`Kraken WebSocket ${url}: connect failed`, { cause })
  }
}

/**
 * Live bars for one connection. Ends by throwing: `RetryableError` when the socket closes (1006
 * etc.), `FatalError` on close code 1008 (terminal, per github.com/krakenfx/kraken-api-sdk
 * `rust/docs/guides/streaming.md`) or when every symbol was rejected; returns quietly when
 * `ctx.signal` aborts.
 */
export async function* krakenLive(
  ctx: ProviderContext,
  request: LiveRequest,
  options: LiveOptions
): AsyncGenerator<LiveEvent> {
  const interval = krakenInterval(request.timeframe)
  const session = new LiveSession(
    ctx,
    request.symbols,
    interval,
    new BarCloser(interval * 60_000, options.closeGraceMs)
  )
  if (session.callerSymbol.size === 0 || ctx.signal.aborted) return
  const socket = await connect(ctx, options.wsUrl)
  const onAbort = () => socket.close(1000, "aborted")
  ctx.signal.addEventListener("abort", onAbort, { once: true })
  const messages = socket.messages[Symbol.asyncIterator]()
  let next = messages.next()
  let reqId = 0
  const send = (message: object) => {
    try {
      socket.send(JSON.stringify({ ...message, req_id: ++reqId }))
    } catch (error) {
      // A socket that is closing: the message loop sees the close and ends the connection.
      ctx.log.debug("kraken: ws send failed", { error: String(error) })
    }
  }
  const pingEveryMs = options.pingEveryMs ?? 30_000
  let pingAt = ctx.now() + pingEveryMs
  try {
    send({
      method: "subscribe",
      params: { channel: "ohlc", symbol: [...session.callerSymbol.keys()], interval, snapshot: true }
    })
    /** A frame already read by the check below, handled first on the next turn. */
    let ready: IteratorResult<string> | undefined
    while (true) {
      let received: IteratorResult<string> | typeof TICK
      try {
        received = ready ?? (await nextOrTick(next, options.tickMs ?? 200))
      } catch (cause) {
        if (ctx.signal.aborted) return
        throw new RetryableError("Kraken WebSocket failed", { cause })
      }
      ready = undefined
      if (ctx.signal.aborted) return
      if (received !== TICK && received.done) break
      if (received !== TICK) {
        next = messages.next()
        const frame = parseWsFrame(received.value)
        if (!frame.ok)
          ctx.log.warn("kraken: skipping malformed ws frame", {
            error: frame.error,
            raw: received.value.slice(0, 300)
          })
        else yield* session.handle(frame.value)
        if (session.allRejected) throw new FatalError("Kraken rejected every symbol of the subscription")
      }
      if (ctx.now() >= pingAt) {
        pingAt = ctx.now() + pingEveryMs
        send({ method: "ping" })
      }
      // A bar is closed on the timer only when no frame is waiting: a late timer (a busy
      // machine) fires before the frames that arrived meanwhile are read, and one of those may
      // carry the bar's last update. A zero timer lets those frames be read first; it is only
      // set when a bar is due, not on every frame.
      if (!session.anyExpired(ctx.now())) continue
      let waiting: IteratorResult<string> | typeof TICK
      try {
        waiting = await nextOrTick(next, 0)
      } catch (cause) {
        if (ctx.signal.aborted) return
        throw new RetryableError("Kraken WebSocket failed", { cause })
      }
      if (waiting !== TICK) ready = waiting
      else yield* session.closeExpired(ctx.now())
    }
    if (ctx.signal.aborted) return
    const code = socket.closeCode
    if (code === 1008) throw new FatalError("Kraken closed the WebSocket with 1008 (policy violation)")
    throw new RetryableError(`Kraken WebSocket closed (code ${code ?? "unknown"})`)
  } finally {
    ctx.signal.removeEventListener("abort", onAbort)
    next.catch(() => undefined)
    if (socket.closeCode === undefined) socket.close(1000, "done")
  }
}
