/**
 * Committed live bars reach the `/live` clients of every DataHub runner, not only of the runner
 * that collects the series: each runner's LiveHub sends what it publishes on the PostgreSQL
 * channel `datahub_live` (after the commit, like every publish) and publishes what the other
 * runners send. The database is the one thing every runner shares, so no side channel is needed.
 *
 * NOTIFY carries at most 8,000 bytes, so a batch goes out in chunks; the chunks of one runner are
 * sent one after another on a single fiber, so its updates arrive everywhere in the order they
 * were published. A payload that does not decode is logged and skipped. On the embedded database
 * there is one runner, and nothing to send.
 */

import { SqlClient } from "@effect/sql"
import { Timeframe } from "@quasar/domain"
import { DatabaseUrl, PgListen } from "@quasar/server"
import { Clock, Duration, Effect, Layer, Option, Queue, Schedule, Schema, Stream } from "effect"
import { LiveHub, type LiveHubService, type LiveUpdate, makeLiveHub, seriesKey } from "./LiveHub"

export const FANOUT_CHANNEL = "datahub_live"
/** Below NOTIFY's 8,000-byte limit, with room for the envelope. */
const MAX_PAYLOAD_BYTES = 7_000

/** One update on the wire: provider, symbol, timeframe, ts, open, high, low, close, volume, closed. */
const WireUpdate = Schema.Tuple(
  Schema.String,
  Schema.String,
  Timeframe.Timeframe,
  Schema.Number,
  Schema.Number,
  Schema.Number,
  Schema.Number,
  Schema.Number,
  Schema.Number,
  Schema.Boolean
)
/** What one NOTIFY carries: the sending runner (its own are not published twice) and updates. */
const FanoutMessage = Schema.parseJson(
  Schema.Struct({ from: Schema.String, updates: Schema.Array(WireUpdate) })
)
const decodeMessage = Schema.decodeUnknownEither(FanoutMessage)

const toWire = (u: LiveUpdate): typeof WireUpdate.Type => [
  u.provider,
  u.symbol,
  u.timeframe,
  u.bar.ts,
  u.bar.open,
  u.bar.high,
  u.bar.low,
  u.bar.close,
  u.bar.volume,
  u.closed
]

const fromWire = ([
  provider,
  symbol,
  timeframe,
  ts,
  open,
  high,
  low,
  close,
  volume,
  closed
]: typeof WireUpdate.Type): LiveUpdate => ({
  key: seriesKey({ provider, symbol, timeframe }),
  provider,
  symbol,
  timeframe,
  bar: { ts, open, high, low, close, volume },
  closed
})

/** `updates` as NOTIFY payloads of at most MAX_PAYLOAD_BYTES each, in order. */
export const encodeChunks = (from: string, updates: ReadonlyArray<LiveUpdate>): ReadonlyArray<string> => {
  const envelope = (parts: ReadonlyArray<string>) =>
    `{"from":${JSON.stringify(from)},"updates":[${parts.join(",")}]}`
  const chunks: Array<string> = []
  let parts: Array<string> = []
  // NOTIFY's limit is in bytes: a symbol may hold characters of more than one byte in UTF-8.
  const utf8 = new TextEncoder()
  const sizeOf = (text: string) => utf8.encode(text).length
  let bytes = sizeOf(envelope([]))
  for (const u of updates) {
    const part = JSON.stringify(toWire(u))
    const size = sizeOf(part)
    if (parts.length > 0 && bytes + size + 1 > MAX_PAYLOAD_BYTES) {
      chunks.push(envelope(parts))
      parts = []
      bytes = sizeOf(envelope([]))
    }
    parts.push(part)
    bytes += size + 1
  }
  if (parts.length > 0) chunks.push(envelope(parts))
  return chunks
}

/** The updates another runner sent, or none for a payload of this runner's own or one that does not decode. */
export const decodeChunk = (
  self: string,
  payload: string
): { readonly updates: ReadonlyArray<LiveUpdate>; readonly invalid?: string } => {
  const decoded = decodeMessage(payload)
  if (decoded._tag === "Left") return { updates: [], invalid: decoded.left.message }
  return decoded.right.from === self ? { updates: [] } : { updates: decoded.right.updates.map(fromWire) }
}

export interface FanoutTimings {
  /** Each runner tells itself it is listening this often (an empty message on the channel). */
  readonly pingEvery: Duration.DurationInput
  /** Nothing heard for this long, not even its own ping: the LISTEN connection is opened again. */
  readonly silentAfter: Duration.DurationInput
}

const defaultTimings: FanoutTimings = { pingEvery: Duration.seconds(5), silentAfter: Duration.seconds(15) }

const withFanout = (hub: LiveHubService, sql: SqlClient.SqlClient, timings: FanoutTimings) =>
  Effect.gen(function* () {
    const self = crypto.randomUUID()
    const outbound = yield* Effect.acquireRelease(
      Queue.unbounded<ReadonlyArray<LiveUpdate>>(),
      Queue.shutdown
    )
    // NOTIFY takes no bind parameters; pg_notify does.
    const notify = (payload: string) => sql`SELECT pg_notify(${FANOUT_CHANNEL}, ${payload})`

    // A failed NOTIFY (the database away) loses only the other runners' push of these bars: they
    // are committed, and a `/live` client that reconnects reads them back.
    yield* Queue.take(outbound).pipe(
      Effect.flatMap((updates) => Effect.forEach(encodeChunks(self, updates), notify, { discard: true })),
      Effect.catchAll((error) =>
        Effect.logWarning("live fan-out to other runners failed for a batch", error)
      ),
      Effect.forever,
      Effect.forkScoped
    )

    let heardAt = yield* Clock.currentTimeMillis
    const heard = Effect.map(Clock.currentTimeMillis, (now) => {
      heardAt = now
    })
    const handle = (payload: string) => {
      const { updates, invalid } = decodeChunk(self, payload)
      return Effect.zipRight(
        heard,
        invalid !== undefined
          ? Effect.logWarning("skipped a live fan-out message that does not decode").pipe(
              Effect.annotateLogs({ reason: invalid })
            )
          : hub.publish(updates)
      )
    }
    // The LISTEN connection can die without the stream ending: a runner that stops hearing even
    // its own pings listens again on a new connection.
    const silence = Effect.map(
      Clock.currentTimeMillis,
      (now) => now - heardAt > Duration.toMillis(timings.silentAfter)
    ).pipe(Effect.repeat({ schedule: Schedule.spaced(timings.pingEvery), until: (silent) => silent }))
    const listenOnce = heard.pipe(
      Effect.zipRight(
        Effect.raceFirst(
          Stream.runForEach(PgListen.listen(FANOUT_CHANNEL), handle),
          Effect.zipRight(
            silence,
            Effect.logWarning("live fan-out heard nothing, not even its own ping; listening again")
          )
        )
      ),
      Effect.catchAll((error) =>
        Effect.logWarning("live fan-out listener lost its connection; listening again", error)
      )
    )
    yield* listenOnce.pipe(Effect.zipRight(Effect.sleep("1 second")), Effect.forever, Effect.forkScoped)
    yield* notify(JSON.stringify({ from: self, updates: [] })).pipe(
      Effect.ignore,
      Effect.repeat(Schedule.spaced(timings.pingEvery)),
      Effect.forkScoped
    )

    return {
      ...hub,
      publish: (updates) =>
        updates.length === 0
          ? Effect.void
          : Effect.zipRight(hub.publish(updates), Queue.offer(outbound, updates))
    } satisfies LiveHubService
  }).pipe(Effect.annotateLogs({ component: "live-fanout" }))

/** The LiveHub, shared with the other runners on the same PostgreSQL (alone on the embedded database). */
export const layerWith = (timings: FanoutTimings) =>
  Layer.scoped(
    LiveHub,
    Effect.gen(function* () {
      const hub = yield* makeLiveHub
      const url = yield* Effect.serviceOption(DatabaseUrl)
      const sql = yield* Effect.serviceOption(SqlClient.SqlClient)
      if (Option.isNone(url) || url.value.embedded || Option.isNone(sql)) return hub
      return yield* withFanout(hub, sql.value, timings).pipe(Effect.provideService(DatabaseUrl, url.value))
    })
  )

export const layer = layerWith(defaultTimings)
