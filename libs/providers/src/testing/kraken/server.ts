/**
 * A fake Kraken on one local HTTP server: public REST (`/0/public/*`) and WS v2 (`/v2`), with
 * deterministic data (see `market.ts` for ground truth and no-trade intervals), fault controls
 * and counters for tests. Everything runs on `options.now`, so a test can share an accelerated
 * clock with the provider's `ctx.now`.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { type WebSocket, WebSocketServer } from "ws"
import type { ProviderBar, Timeframe } from "../../sdk/types"
import { FakeMarket } from "./market"
import { type FakePair, FakePairs, fakePairs, syntheticPairs } from "./pairs"
import { type FakeAccountSeed, FakeExchange } from "./private/exchange"
import { handleRest } from "./restApi"
import { type FakeConfig, type FakeState, type FakeStats, noFaults, zeroStats } from "./state"
import { FakeWsSession } from "./wsSession"

export interface FakeKrakenOptions extends Partial<FakeConfig> {
  /** Default 0: a random free port. */
  readonly port?: number
  readonly now?: () => number
  readonly seed?: number
  /** Real-time period of WS `update` pushes (default 1000). */
  readonly updateEveryMs?: number
  /** Real-time heartbeat period when a subscribed socket is idle (default 1000). */
  readonly heartbeatEveryMs?: number
  /** Extra generated pairs `S0001/USD`, `S0002/USD`, … served like the real ones (default 0). */
  readonly syntheticPairs?: number
  /** Accounts of the private API (`/0/private/*`), by API key. */
  readonly accounts?: ReadonlyArray<FakeAccountSeed>
}

export interface FakeKraken {
  readonly port: number
  /** `http://127.0.0.1:N`, the provider's `restUrl`. */
  readonly restUrl: string
  /** `ws://127.0.0.1:N/v2`, the provider's `wsUrl`. */
  readonly wsUrl: string
  readonly stats: Readonly<FakeStats> & { readonly openSockets: number }
  /** The private API: accounts, orders, trades and its fault controls. */
  readonly exchange: FakeExchange
  /** Ground truth: every closed bar in [from, to) as REST serves it, no-trade flat bars included. */
  closedBars(symbol: string, timeframe: Timeframe, from: number, to: number): Array<ProviderBar>
  /** The closed bars WS ends up sending final values for: `closedBars` without no-trade bars. */
  tradedBars(symbol: string, timeframe: Timeframe, from: number, to: number): Array<ProviderBar>
  /** The final bar opening at `ts` (aligned), whatever the clock says; `trades: 0` marks no-trade. */
  bar(symbol: string, timeframe: Timeframe, ts: number): ProviderBar
  /** Terminates every socket without a close frame (clients see 1006). */
  dropConnections(): void
  /** Closes every socket with a close code (e.g. 1008). */
  closeConnections(code: number, reason?: string): void
  stopHeartbeats(on: boolean): void
  /** Total silence on every socket: no updates, heartbeats, acks or pongs. */
  freeze(on: boolean): void
  /** Sends a frame to every socket (default: an `ohlc` update with a broken entry). */
  sendMalformed(frame?: string): void
  /** Refuses future subscriptions to this WS v2 symbol. */
  rejectSymbol(v2Symbol: string): void
  /** The next `times` REST requests answer HTTP 200 `{"error":[error]}`. */
  restError(error: string, times?: number): void
  /** The next `times` REST requests answer this HTTP status (429, 503, ...). */
  restHttpError(status: number, times?: number): void
  /** Delays every REST response by `ms`. */
  slow(ms: number): void
  /** Clears every fault and counter (the private API's accounts stay). */
  reset(): void
  close(): Promise<void>
}

const MALFORMED =
  '{"channel":"ohlc","type":"update","data":[{"symbol":"BTC/USD","interval":1,"interval_begin":"yesterday","open":"n/a"}]}'

export const startFakeKraken = async (options: FakeKrakenOptions = {}): Promise<FakeKraken> => {
  const now = options.now ?? Date.now
  const pairs = new FakePairs([...fakePairs, ...syntheticPairs(options.syntheticPairs ?? 0)])
  const pairNamed = (symbol: string): FakePair => {
    const pair = pairs.any(symbol)
    if (pair === undefined) throw new Error(`fake Kraken has no pair named ${symbol}`)
    return pair
  }
  const state: FakeState = {
    now,
    market: new FakeMarket(options.seed ?? 42),
    pairs,
    config: {
      maxRows: options.maxRows ?? 720,
      pageRows: options.pageRows ?? 720,
      snapshotBars: options.snapshotBars ?? 10,
      batchUpdates: options.batchUpdates ?? false,
      stampSentAt: options.stampSentAt ?? false
    },
    faults: noFaults(),
    stats: zeroStats()
  }
  const exchange = new FakeExchange(state.market, pairs, now, options.accounts)
  const sessions = new Set<FakeWsSession>()
  const sockets = new Set<WebSocket>()
  const server = createServer((req, res) => {
    const handled = req.url?.startsWith("/0/private/")
      ? exchange.handle(req, res)
      : handleRest(state, req, res)
    handled.catch((e: unknown) => {
      res.destroy(e instanceof Error ? e : new Error(String(e)))
    })
  })
  const wss = new WebSocketServer({ noServer: true })
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://fake.invalid").pathname !== "/v2") {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n")
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      state.stats.connections++
      sockets.add(ws)
      const session = new FakeWsSession(ws, state)
      sessions.add(session)
      ws.on("message", (data) => session.onMessage(data.toString()))
      ws.on("close", () => {
        sessions.delete(session)
        sockets.delete(ws)
      })
      ws.on("error", () => ws.terminate())
    })
  })
  // Ticks keep to their period on average: a late timer (a busy machine) is caught up on at
  // once, up to a few ticks, so a load test gets the update rate it asked for.
  const every = options.updateEveryMs ?? 1_000
  let due = Date.now() + every
  let updates: ReturnType<typeof setTimeout>
  const ticker = () => {
    const late = Date.now() - due
    if (late > 4 * every) due = Date.now()
    for (let n = 0; due <= Date.now() && n < 5; n++, due += every)
      for (const session of sessions) session.tick(now())
    updates = setTimeout(ticker, Math.max(0, due - Date.now()))
  }
  updates = setTimeout(ticker, every)
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 1_000
  const heartbeats = setInterval(() => {
    if (!state.faults.frozen) for (const session of sessions) session.heartbeat(heartbeatEveryMs)
  }, heartbeatEveryMs / 4)

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  return {
    port,
    restUrl: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}/v2`,
    get stats() {
      return { ...state.stats, openSockets: sockets.size }
    },
    exchange,
    closedBars: (symbol, timeframe, from, to) =>
      state.market.closedBars(pairNamed(symbol), timeframe, from, to, now()),
    tradedBars: (symbol, timeframe, from, to) =>
      state.market.closedBars(pairNamed(symbol), timeframe, from, to, now()).filter((b) => b.trades !== 0),
    bar: (symbol, timeframe, ts) => state.market.closedBar(pairNamed(symbol), timeframe, ts),
    dropConnections: () => {
      for (const ws of sockets) ws.terminate()
    },
    closeConnections: (code, reason) => {
      for (const ws of sockets) ws.close(code, reason)
    },
    stopHeartbeats: (on) => {
      state.faults.heartbeatsStopped = on
    },
    freeze: (on) => {
      state.faults.frozen = on
    },
    sendMalformed: (frame = MALFORMED) => {
      for (const session of sessions) session.sendRaw(frame, true)
    },
    rejectSymbol: (v2Symbol) => {
      state.faults.rejected.add(v2Symbol)
    },
    restError: (error, times = 1) => {
      for (let i = 0; i < times; i++) state.faults.restFailures.push({ error })
    },
    restHttpError: (status, times = 1) => {
      for (let i = 0; i < times; i++) state.faults.restFailures.push({ status })
    },
    slow: (ms) => {
      state.faults.slowMs = ms
    },
    reset: () => {
      Object.assign(state.faults, noFaults())
      Object.assign(state.stats, zeroStats())
      exchange.resetFaults()
    },
    close: async () => {
      clearTimeout(updates)
      clearInterval(heartbeats)
      for (const ws of sockets) ws.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
