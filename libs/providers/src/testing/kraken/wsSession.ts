/**
 * One client socket on the fake's WS v2 endpoint, behaving as docs.kraken.com/api/docs/websocket-v2
 * describes: a `status` frame on connect, one ack per symbol with `time_in`/`time_out`/`req_id`,
 * `success:false` for symbols v2 does not know (v1 names like `XBT/USD` included), an `ohlc`
 * snapshot then `update` frames, nothing for no-trade intervals, no closed flag, heartbeats when
 * idle, ping → pong, and the socket closed once every subscription is gone.
 */
import type WebSocket from "ws"
import type { ProviderBar, Timeframe } from "../../sdk/types"
import { timeframeMs } from "../../synthetic/randomWalk"
import { barOpen } from "./market"
import type { FakePair } from "./pairs"
import { type FakeState, rfc3339 } from "./state"

const TIMEFRAMES: ReadonlyArray<readonly [number, Timeframe]> = [
  [1, "1m"],
  [5, "5m"],
  [15, "15m"],
  [30, "30m"],
  [60, "1h"],
  [240, "4h"],
  [1_440, "1d"],
  [10_080, "1w"]
]

interface Subscription {
  readonly pair: FakePair
  readonly symbol: string
  readonly interval: number
  readonly tf: Timeframe
  /** Intervals before this one have had their final update sent. */
  formingBegin: number
}

type Fields = Readonly<Record<string, unknown>>

const isRecord = (u: unknown): u is Fields => typeof u === "object" && u !== null && !Array.isArray(u)

let connectionIds = 1_000_000

/**
 * The most entries a batched `update` frame carries. Kraken sends an update per trade event, so
 * its frames are small; a frame of every pair at once (2,000 pairs ≈ 460 KB) would also cost
 * both ends far more per entry than the same entries in frames of this size: V8 allocates a
 * string over 128 KB in its large-object space, ~50× slower per byte (bench/live.bench.ts).
 */
const FRAME_ENTRIES = 200

export class FakeWsSession {
  private readonly subscriptions = new Map<string, Subscription>()
  private lastSentAt = Date.now()

  constructor(
    private readonly socket: WebSocket,
    private readonly state: FakeState
  ) {
    const data = [{ api_version: "v2", connection_id: ++connectionIds, system: "online", version: "2.0.9" }]
    this.send({ channel: "status", type: "update", data })
  }

  get subscriptionCount(): number {
    return this.subscriptions.size
  }

  send(message: unknown): void {
    this.sendRaw(JSON.stringify(message))
  }

  sendRaw(frame: string, force = false): void {
    if ((this.state.faults.frozen && !force) || this.socket.readyState !== this.socket.OPEN) return
    this.socket.send(frame)
    this.lastSentAt = Date.now()
  }

  onMessage(raw: string): void {
    const timeIn = rfc3339(this.state.now(), 6)
    let message: unknown
    try {
      message = JSON.parse(raw)
    } catch {
      message = undefined
    }
    const method = isRecord(message) ? message.method : undefined
    const reqId = isRecord(message) && typeof message.req_id === "number" ? { req_id: message.req_id } : {}
    const reply = (fields: Fields) =>
      this.send({ ...fields, time_in: timeIn, time_out: rfc3339(this.state.now(), 6), ...reqId })
    const params = isRecord(message) && isRecord(message.params) ? message.params : {}
    if (method === "ping") {
      this.state.stats.pings++
      reply({ method: "pong" })
    } else if (method === "subscribe") this.subscribe(params, reply)
    else if (method === "unsubscribe") this.unsubscribe(params, reply)
    else reply({ error: "Malformed request", method: "error", success: false })
  }

  private subscribe(params: Fields, reply: (fields: Fields) => void): void {
    this.state.stats.subscribeRequests++
    const symbols = Array.isArray(params.symbol) ? params.symbol.filter((s) => typeof s === "string") : []
    const interval = params.interval ?? 1
    const tf = TIMEFRAMES.find(([i]) => i === interval)?.[1]
    if (symbols.length === 0 || tf === undefined || typeof interval !== "number") {
      reply({ error: "EGeneral:Invalid arguments", method: "subscribe", success: false })
      return
    }
    for (const symbol of symbols) {
      const refuse = (error: string) => reply({ error, method: "subscribe", success: false, symbol })
      if (params.channel !== "ohlc") {
        refuse(`Channel not supported by the fake: ${String(params.channel)}`)
        continue
      }
      const pair = this.state.pairs.ws(symbol)
      if (pair === undefined || this.state.faults.rejected.has(symbol)) {
        refuse(`Currency pair not supported ${symbol}`)
        continue
      }
      const key = `${symbol}|${interval}`
      if (this.subscriptions.has(key)) {
        refuse("Already subscribed")
        continue
      }
      const now = this.state.now()
      const subscription = { pair, symbol, interval, tf, formingBegin: barOpen(tf, now) }
      this.subscriptions.set(key, subscription)
      const snapshot = params.snapshot !== false
      reply({ method: "subscribe", result: { channel: "ohlc", interval, snapshot, symbol }, success: true })
      if (snapshot) this.sendSnapshot(subscription, now)
    }
  }

  private unsubscribe(params: Fields, reply: (fields: Fields) => void): void {
    this.state.stats.unsubscribeRequests++
    const symbols = Array.isArray(params.symbol) ? params.symbol.filter((s) => typeof s === "string") : []
    const interval = params.interval ?? 1
    for (const symbol of symbols) {
      if (this.subscriptions.delete(`${symbol}|${String(interval)}`))
        reply({ method: "unsubscribe", result: { channel: params.channel, interval, symbol }, success: true })
      else reply({ error: "Subscription Not Found", method: "unsubscribe", success: false, symbol })
    }
    // Kraken closes a socket that has no subscription left (github.com/krakenfx/kraken-api-sdk
    // `rust/docs/guides/streaming.md`).
    if (this.subscriptions.size === 0) this.socket.close(1000, "no subscriptions")
  }

  private entry(subscription: Subscription, bar: ProviderBar): Fields {
    return {
      symbol: subscription.symbol,
      open: bar.open,
      high: bar.high,
      low: bar.low,
      close: bar.close,
      trades: bar.trades ?? 0,
      volume: bar.volume,
      vwap: bar.vwap ?? bar.close,
      interval_begin: rfc3339(bar.ts, 9),
      interval: subscription.interval
    }
  }

  private sendSnapshot(subscription: Subscription, now: number): void {
    const { pair, tf } = subscription
    const d = timeframeMs(tf)
    const past: Array<ProviderBar> = []
    for (let ts = subscription.formingBegin - d; past.length < this.state.config.snapshotBars; ts -= d)
      if (this.state.market.hasTrades(pair, tf, ts)) past.unshift(this.state.market.closedBar(pair, tf, ts))
    const forming = this.state.market.hasTrades(pair, tf, subscription.formingBegin)
      ? [this.state.market.formingBar(pair, tf, subscription.formingBegin, now)]
      : []
    // Snapshot entries carry the deprecated `timestamp` (= interval end) like the doc example
    // (docs.kraken.com/api/docs/websocket-v2/ohlc).
    const data = [...past, ...forming].map((bar) => ({
      ...this.entry(subscription, bar),
      timestamp: rfc3339(bar.ts + d, 6)
    }))
    this.send({ channel: "ohlc", type: "snapshot", timestamp: rfc3339(now, 9), data })
  }

  /** Pushes what changed since the last tick: final values of intervals that ended, then the forming bar. */
  tick(now: number): void {
    if (this.state.faults.frozen) return
    const { batchUpdates, stampSentAt } = this.state.config
    const batch: Array<Fields> = []
    const stamp = Date.now() % 1e9
    let stamped = 0
    for (const subscription of this.subscriptions.values()) {
      const { pair, tf } = subscription
      const d = timeframeMs(tf)
      const current = barOpen(tf, now)
      const data: Array<Fields> = batchUpdates ? batch : []
      for (let ts = Math.max(subscription.formingBegin, current - 720 * d); ts < current; ts += d)
        if (this.state.market.hasTrades(pair, tf, ts))
          data.push(this.entry(subscription, this.state.market.closedBar(pair, tf, ts)))
      if (this.state.market.hasTrades(pair, tf, current)) {
        const forming = this.state.market.formingBar(pair, tf, current, now)
        stamped++
        data.push(this.entry(subscription, stampSentAt ? { ...forming, trades: stamp } : forming))
      }
      subscription.formingBegin = Math.max(subscription.formingBegin, current)
      if (!batchUpdates && data.length > 0) this.sendUpdate(data)
      if (batch.length >= FRAME_ENTRIES) this.sendUpdate(batch.splice(0))
    }
    if (batch.length > 0) this.sendUpdate(batch)
    if (stampSentAt) {
      this.state.stats.lastStamp = stamp
      this.state.stats.lastStampPairs = stamped
    }
  }

  private sendUpdate(data: ReadonlyArray<Fields>): void {
    this.state.stats.updatesSent += data.length
    this.send({ channel: "ohlc", type: "update", data })
  }

  /**
   * "approximately once every second in the absence of any other channel updates", only once
   * subscribed (docs.kraken.com/api/docs/websocket-v2/heartbeat).
   */
  heartbeat(everyMs: number): void {
    if (this.subscriptions.size === 0 || this.state.faults.heartbeatsStopped) return
    if (Date.now() - this.lastSentAt >= everyMs * 0.9) this.send({ channel: "heartbeat" })
  }
}
