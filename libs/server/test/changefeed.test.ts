/**
 * Two `ChangeFeed` instances with pools of their own on one database and one schema, as two
 * replicas of a service have: what one publishes, the other sees, once, on that channel only.
 * A third on another service's schema sees none of it.
 */
import { expect, layer } from "@effect/vitest"
import { DATAHUB_SCHEMA, datahubMigrations } from "@quasar/migrations/datahub"
import { REGISTRY_SCHEMA, registryMigrations } from "@quasar/migrations/registry"
import { ChangeFeed, Database, DatabaseUrl, migrate, sqlClientDb } from "@quasar/server"
import { TestDatabase } from "@quasar/server/testing"
import { Chunk, Context, Duration, Effect, Layer, Ref, Schedule, Stream } from "effect"

type Change = ChangeFeed.Change
type Feed = Context.Tag.Service<ChangeFeed.ChangeFeed>

class Feeds extends Context.Tag("test/Feeds")<
  Feeds,
  { readonly publisher: Feed; readonly subscriber: Feed; readonly otherService: Feed }
>() {}

/** One service's view: its own pool and its own ChangeFeed layer instance. */
const instance = (url: Context.Tag.Service<DatabaseUrl>, name: string, schema = REGISTRY_SCHEMA) =>
  Effect.map(
    Layer.build(
      ChangeFeed.layer(schema).pipe(
        Layer.provide(Database.layer({ poolSize: 3, applicationName: name })),
        Layer.provide(Layer.succeed(DatabaseUrl, url))
      )
    ),
    (context) => Context.get(context, ChangeFeed.ChangeFeed)
  )

const FeedsLive = Layer.scoped(
  Feeds,
  Effect.gen(function* () {
    const url = yield* DatabaseUrl
    // The change_events tables come from the migrations.
    yield* Effect.flatMap(sqlClientDb, (db) =>
      Effect.zipRight(
        migrate(db, registryMigrations, { schema: REGISTRY_SCHEMA }),
        migrate(db, datahubMigrations, { schema: DATAHUB_SCHEMA })
      )
    ).pipe(
      Effect.provide(Database.layer({ poolSize: 1, applicationName: "quasar-test-migrate" })),
      Effect.provide(Layer.succeed(DatabaseUrl, url))
    )
    return {
      publisher: yield* instance(url, "quasar-test-publisher"),
      subscriber: yield* instance(url, "quasar-test-subscriber"),
      otherService: yield* instance(url, "quasar-test-other-service", DATAHUB_SCHEMA)
    }
  })
).pipe(Layer.provide(TestDatabase.layer))

const isProbe = (c: Change) => typeof c.payload === "object" && c.payload !== null && "probe" in c.payload
const isMarker = (c: Change) => typeof c.payload === "object" && c.payload !== null && "marker" in c.payload

/** Waits until `received` holds a change that `test` accepts, failing after `within`. */
const awaitChange = (
  received: Effect.Effect<ReadonlyArray<Change>>,
  test: (c: Change) => boolean,
  what: string,
  within: Duration.DurationInput = "2 seconds"
) =>
  received.pipe(
    Effect.filterOrFail(
      (xs) => xs.some(test),
      () => "not yet"
    ),
    Effect.retry(Schedule.spaced("25 millis")),
    Effect.timeoutFail({
      duration: within,
      onTimeout: () => new Error(`no ${what} within ${Duration.format(within)}`)
    })
  )

/**
 * Subscribes `feed` to `channel`, collecting into a Ref, and returns once the subscription has
 * taken its starting point: a probe published after subscribing has arrived. Probes are left out
 * of what it returns.
 */
const collect = (feed: Feed, publisher: Feed, channel: string) =>
  Effect.gen(function* () {
    const ref = yield* Ref.make(Chunk.empty<Change>())
    yield* feed.changes(channel).pipe(
      Stream.runForEach((c) => Ref.update(ref, Chunk.append(c))),
      Effect.forkScoped
    )
    const all = Ref.get(ref).pipe(Effect.map(Chunk.toReadonlyArray))
    // Until the stream has its starting point a probe may be missed, so probes repeat.
    yield* publisher
      .publish(channel, { probe: true })
      .pipe(Effect.zipRight(awaitChange(all, isProbe, "probe", "200 millis")), Effect.retry({ times: 50 }))
    return { received: Effect.map(all, (xs) => xs.filter((c) => !isProbe(c))) }
  })

/**
 * Everything `received` gets up to a marker published now on `channel`: changes arrive in
 * publication order, so whatever else was coming (a duplicate, a stray channel's change) is there.
 */
const settled = (publisher: Feed, channel: string, received: Effect.Effect<ReadonlyArray<Change>>) =>
  Effect.gen(function* () {
    yield* publisher.publish(channel, { marker: true })
    const xs = yield* awaitChange(received, isMarker, "marker")
    return xs.filter((c) => !isMarker(c))
  })

/** Waits until `received` holds at least `n` changes, failing after `within`. */
const awaitCount = (
  received: Effect.Effect<ReadonlyArray<Change>>,
  n: number,
  within: Duration.DurationInput
) =>
  received.pipe(
    Effect.filterOrFail(
      (xs) => xs.length >= n,
      () => "not yet"
    ),
    Effect.retry(Schedule.spaced("25 millis")),
    Effect.timeoutFail({
      duration: within,
      onTimeout: () => new Error(`fewer than ${n} changes within ${Duration.format(within)}`)
    })
  )

layer(FeedsLive, { timeout: 60_000, excludeTestServices: true })("ChangeFeed across instances", (it) => {
  it.scoped("a change published by one instance arrives on the other within 2 s, once", () =>
    Effect.gen(function* () {
      const { publisher, subscriber } = yield* Feeds
      const { received } = yield* collect(subscriber, publisher, "code.activated")
      const start = Date.now()
      yield* publisher.publish("code.activated", { name: "kraken", version: 3 })
      const got = yield* awaitCount(received, 1, "2 seconds")
      expect(Date.now() - start).toBeLessThan(2_000)
      expect(got).toEqual([
        { id: expect.any(Number), channel: "code.activated", payload: { name: "kraken", version: 3 } }
      ])
      // Up to a later change it has still arrived only once.
      expect(yield* settled(publisher, "code.activated", received)).toEqual(got)
    })
  )

  it.scoped("delivers several changes in publication order, each once, to every subscriber", () =>
    Effect.gen(function* () {
      const { publisher, subscriber } = yield* Feeds
      const first = yield* collect(subscriber, publisher, "subscription.added")
      const second = yield* collect(publisher, publisher, "subscription.added") // the publisher may listen too
      for (const n of [1, 2, 3]) yield* publisher.publish("subscription.added", { n })
      const payloads = (xs: ReadonlyArray<Change>) => xs.map((c) => c.payload)
      expect(payloads(yield* awaitCount(first.received, 3, "2 seconds"))).toEqual([
        { n: 1 },
        { n: 2 },
        { n: 3 }
      ])
      expect(payloads(yield* awaitCount(second.received, 3, "2 seconds"))).toEqual([
        { n: 1 },
        { n: 2 },
        { n: 3 }
      ])
      expect((yield* settled(publisher, "subscription.added", first.received)).length).toBe(3)
      expect((yield* settled(publisher, "subscription.added", second.received)).length).toBe(3)
    })
  )

  it.scoped("does not deliver changes on other channels", () =>
    Effect.gen(function* () {
      const { publisher, subscriber } = yield* Feeds
      const mine = yield* collect(subscriber, publisher, "assets.refreshed")
      const other = yield* collect(subscriber, publisher, "assets.refreshed.other")
      yield* publisher.publish("assets.refreshed.other", { provider: "eodhd" })
      yield* publisher.publish("ASSETS.REFRESHED", { provider: "eodhd" })
      expect((yield* awaitCount(other.received, 1, "2 seconds")).map((c) => c.channel)).toEqual([
        "assets.refreshed.other"
      ])
      expect(yield* settled(publisher, "assets.refreshed", mine.received)).toEqual([])
    })
  )

  it.scoped("does not deliver another service's changes: each reads its own schema's change_events", () =>
    Effect.gen(function* () {
      const { publisher, otherService } = yield* Feeds
      const theirs = yield* collect(otherService, otherService, "code.activated")
      yield* publisher.publish("code.activated", { name: "kraken", version: 4 })
      expect(yield* settled(otherService, "code.activated", theirs.received)).toEqual([])
    })
  )

  it.scoped("does not deliver changes published before subscribing", () =>
    Effect.gen(function* () {
      const { publisher, subscriber } = yield* Feeds
      yield* publisher.publish("version.disabled", { version: 1 })
      yield* publisher.publish("version.disabled", { version: 2 })
      const { received } = yield* collect(subscriber, publisher, "version.disabled")
      yield* publisher.publish("version.disabled", { version: 3 })
      const got = yield* settled(publisher, "version.disabled", received)
      expect(got.map((c) => c.payload)).toEqual([{ version: 3 }])
    })
  )
})
