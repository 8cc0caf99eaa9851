/**
 * Live bars collected by one DataHub runner reach the `/live` clients of the others through
 * PostgreSQL (LiveFanout): two runners' hubs on one real database, each publish seen once by
 * every hub, in order, and garbage on the channel skipped.
 */

import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Database, DatabaseUrl } from "@quasar/server"
import { TcpProxy, TestDatabase } from "@quasar/server/testing"
import { Chunk, Context, Effect, Layer, Queue, Redacted } from "effect"
import { decodeChunk, encodeChunks, FANOUT_CHANNEL, layerWith } from "../../src/live/LiveFanout"
import { LiveHub, type LiveHubService, type LiveUpdate, seriesKey } from "../../src/live/LiveHub"

const update = (symbol: string, ts: number, closed: boolean): LiveUpdate => ({
  key: seriesKey({ provider: "kraken", symbol, timeframe: "1m" }),
  provider: "kraken",
  symbol,
  timeframe: "1m",
  bar: { ts, open: 100 + ts / 60_000, high: 101.5, low: 99.25, close: 100.125, volume: 3.5 },
  closed
})

/** 300 updates of 30 series: more than one NOTIFY's worth. */
const batch = Array.from({ length: 300 }, (_, i) =>
  update(`SYM${i % 30}/USD`, 60_000 * Math.floor(i / 30), i % 2 === 0)
)

/** A runner's hub on the database at `url` (and its SQL client), noticing a dead LISTEN within a second. */
const runner = (url: string) =>
  layerWith({ pingEvery: "200 millis", silentAfter: "1 second" }).pipe(
    Layer.provideMerge(Database.layer({ poolSize: 2, applicationName: "quasar-test-fanout" })),
    Layer.provide(Layer.succeed(DatabaseUrl, { url: Redacted.make(url), embedded: false }))
  )

const takeUpdates = (queue: Queue.Dequeue<ReadonlyArray<LiveUpdate>>, count: number) =>
  Effect.gen(function* () {
    const got: Array<LiveUpdate> = []
    while (got.length < count) got.push(...(yield* Queue.take(queue)))
    return got
  }).pipe(Effect.timeout("10 seconds"))

/**
 * LISTEN starts with a runner's listener fiber: `from` publishes until `to` has heard it, then
 * lets the hello's own deliveries settle.
 */
const untilHeard = (from: LiveHubService, to: LiveHubService, symbol: string) =>
  Effect.gen(function* () {
    const hello = update(symbol, 0, false)
    yield* from
      .publish([hello])
      .pipe(
        Effect.zipRight(Effect.sleep("100 millis")),
        Effect.repeat({ until: () => to.latest(hello.key) !== undefined }),
        Effect.timeout("10 seconds")
      )
    yield* Effect.sleep("300 millis")
  })

describe("live fan-out between runners", () => {
  it("splits a batch into NOTIFY-sized chunks that decode back to it, in order", () => {
    const chunks = encodeChunks("runner-a", batch)
    expect(chunks.length).toBeGreaterThan(1)
    for (const chunk of chunks) expect(new TextEncoder().encode(chunk).length).toBeLessThan(8_000)
    const decoded = chunks.flatMap((c) => decodeChunk("runner-b", c).updates)
    expect(decoded).toEqual(batch)
    // The limit is in bytes: symbols of several-byte characters make smaller chunks, not larger.
    const wide = batch.map((u) => update(`株式${u.symbol}€`, u.bar.ts, u.closed))
    const wideChunks = encodeChunks("runner-a", wide)
    for (const chunk of wideChunks) expect(new TextEncoder().encode(chunk).length).toBeLessThan(8_000)
    expect(wideChunks.flatMap((c) => decodeChunk("runner-b", c).updates)).toEqual(wide)
    // A runner's own messages are not published again; garbage is reported, not thrown.
    expect(chunks.flatMap((c) => decodeChunk("runner-a", c).updates)).toEqual([])
    expect(decodeChunk("runner-b", "}{").invalid).toBeDefined()
    expect(decodeChunk("runner-b", '{"from":"x","updates":[["kraken"]]}').invalid).toBeDefined()
  })

  it.live(
    "a batch published on one runner reaches the other's clients once, in order; garbage on the channel is skipped",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const url = yield* TestDatabase.fresh
          const a = yield* Layer.build(runner(url))
          const b = yield* Layer.build(runner(url))
          const hubA = Context.get(a, LiveHub)
          const hubB = Context.get(b, LiveHub)
          const atA = yield* hubA.subscribe
          const atB = yield* hubB.subscribe
          // LISTEN starts with the runner's listener fiber: A says hello until B hears it.
          const hello = update("HELLO/USD", 0, false)
          yield* hubA
            .publish([hello])
            .pipe(
              Effect.zipRight(Effect.sleep("100 millis")),
              Effect.repeat({ until: () => hubB.latest(hello.key) !== undefined }),
              Effect.timeout("10 seconds")
            )
          yield* Effect.sleep("300 millis")
          yield* Queue.takeAll(atA)
          yield* Queue.takeAll(atB)

          const sql = Context.get(b, SqlClient.SqlClient)
          for (const garbage of ["not json", '{"from":"elsewhere","updates":[["kraken"]]}'])
            yield* sql`SELECT pg_notify(${FANOUT_CHANNEL}, ${garbage})`
          yield* hubA.publish(batch)
          expect(yield* takeUpdates(atB, batch.length)).toEqual(batch)
          expect(hubB.latest(batch[0]!.key)?.bar.ts).toBe(60_000 * 9)

          // The publishing runner's own clients get the batch once: its echo is dropped.
          expect(yield* takeUpdates(atA, batch.length)).toEqual(batch)
          yield* hubB.publish([update("ETH/USD", 0, true)])
          const back = yield* takeUpdates(atA, 1)
          expect(back.map((u) => u.symbol)).toEqual(["ETH/USD"])
          yield* Effect.sleep("500 millis")
          expect(Chunk.size(yield* Queue.takeAll(atA))).toBe(0)
          expect(
            (yield* Queue.takeAll(atB)).pipe(
              Chunk.flatMap((u) => Chunk.fromIterable(u)),
              Chunk.size
            )
          ).toBe(1)
        })
      ),
    30_000
  )

  it.live(
    "a LISTEN connection that dies silently is noticed and opened again; bars flow again",
    () =>
      Effect.scoped(
        Effect.gen(function* () {
          const direct = yield* TestDatabase.fresh
          const { proxy, url: proxied } = yield* TcpProxy.inFrontOf(direct)
          const hubA = Context.get(yield* Layer.build(runner(direct)), LiveHub)
          const hubB = Context.get(yield* Layer.build(runner(proxied)), LiveHub)
          yield* untilHeard(hubA, hubB, "BEFORE/USD")

          // No FIN, no RST: B's LISTEN connection just stops hearing anything.
          yield* proxy.stall
          yield* untilHeard(hubA, hubB, "AFTER/USD")
          expect(hubB.latest(update("AFTER/USD", 0, false).key)?.bar.ts).toBe(0)
        })
      ),
    30_000
  )
})
