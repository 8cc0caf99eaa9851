/**
 * Live bars for one series over DataHub's WebSocket (`/api/datahub/live`), every frame encoded
 * and decoded with the `LiveClientMessage`/`LiveServerMessage` schemas. Reconnects with backoff
 * and subscribes again; pings every 25 s so idle proxies keep the connection. Bars that closed
 * while the connection was down are not replayed by the feed: `onResubscribed` lets the page
 * reload them from history.
 */
import { type BarPoint, LIVE_PATH, LiveClientMessage, LiveServerMessage } from "@quasar/domain"
import { Either, Schema } from "effect"
import { onBeforeUnmount, ref, watch } from "vue"
import type { SeriesKey } from "./useBars"

export type LiveStatus = "off" | "connecting" | "subscribed" | "retrying"

const encode = Schema.encodeUnknownEither(Schema.parseJson(LiveClientMessage))
const decode = Schema.decodeUnknownEither(Schema.parseJson(LiveServerMessage))
const PING_MS = 25_000

const liveUrl = () =>
  `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/datahub${LIVE_PATH}`

export const useLiveBars = (
  key: () => SeriesKey | null,
  enabled: () => boolean,
  onBar: (bar: BarPoint, closed: boolean) => void,
  onResubscribed: () => void = () => undefined
) => {
  const status = ref<LiveStatus>("off")
  const problem = ref<string | null>(null)
  const updates = ref(0)
  const lastBar = ref<BarPoint | null>(null)
  let socket: WebSocket | null = null
  let subscribedTo: SeriesKey | null = null
  let retry: ReturnType<typeof setTimeout> | undefined
  let ping: ReturnType<typeof setInterval> | undefined
  let attempts = 0

  const send = (message: unknown) => {
    const frame = encode(message)
    if (Either.isLeft(frame)) {
      problem.value = `cannot send ${JSON.stringify(message)}: ${frame.left.message}`
      return
    }
    if (socket?.readyState === WebSocket.OPEN) socket.send(frame.right)
  }
  const same = (a: SeriesKey | null, b: SeriesKey | null) =>
    a !== null &&
    b !== null &&
    a.provider === b.provider &&
    a.symbol === b.symbol &&
    a.timeframe === b.timeframe

  const sync = () => {
    const wanted = enabled() ? key() : null
    if (same(wanted, subscribedTo)) return
    if (subscribedTo) send({ _tag: "unsubscribe", ...subscribedTo })
    subscribedTo = null
    if (wanted && socket?.readyState === WebSocket.OPEN) {
      send({ _tag: "subscribe", ...wanted })
      subscribedTo = wanted
    }
  }

  const onMessage = (event: MessageEvent) => {
    const message = decode(String(event.data))
    if (Either.isLeft(message)) {
      problem.value = `unreadable message from DataHub: ${message.left.message.slice(0, 200)}`
      return
    }
    const m = message.right
    if (m._tag === "subscribed" && same(m, subscribedTo)) {
      status.value = "subscribed"
      problem.value = null
      if (attempts > 0) onResubscribed()
      attempts = 0
    } else if (m._tag === "error") problem.value = m.message
    else if (m._tag === "bar" && same(m, subscribedTo)) {
      updates.value++
      lastBar.value = m.bar
      onBar(m.bar, m.closed)
    }
  }

  const connect = () => {
    clearTimeout(retry)
    if (!enabled() || socket) return
    status.value = "connecting"
    const ws = new WebSocket(liveUrl())
    socket = ws
    ws.onopen = () => {
      sync()
      ping = setInterval(() => send({ _tag: "ping", id: Date.now() }), PING_MS)
    }
    ws.onmessage = onMessage
    ws.onclose = (event) => {
      clearInterval(ping)
      if (socket === ws) socket = null
      subscribedTo = null
      if (!enabled()) {
        status.value = "off"
        return
      }
      attempts++
      const delay = Math.min(30_000, 1_000 * 2 ** Math.min(attempts, 5))
      problem.value =
        event.code === 1006
          ? `the live feed is unreachable (is DataHub running?); retrying in ${delay / 1000} s`
          : `the live feed closed (${event.code}${event.reason ? `: ${event.reason}` : ""}); retrying in ${delay / 1000} s`
      status.value = "retrying"
      retry = setTimeout(connect, delay)
    }
  }

  const disconnect = () => {
    clearTimeout(retry)
    clearInterval(ping)
    const ws = socket
    socket = null
    subscribedTo = null
    ws?.close(1000, "not watching")
    status.value = "off"
  }

  watch(
    () => [enabled(), key()] as const,
    ([on]) => {
      updates.value = 0
      if (!on) return disconnect()
      if (socket) {
        status.value = socket.readyState === WebSocket.OPEN ? "connecting" : status.value
        sync()
      } else connect()
    },
    { immediate: true }
  )
  onBeforeUnmount(disconnect)

  return { status, problem, updates, lastBar }
}
